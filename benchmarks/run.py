"""Benchmark the pipeline at a given size against the physical limit and two peers; write RESULTS.md.

    python -m benchmarks.run --rows 100000                      # quick check, under a minute
    python -m benchmarks.run --rows 10000000 --files 300 --releases 1000000

Data is generated (benchmarks/generate.py) under --data-root (default /tmp/bench/<rows>) unless already
there. Every stage runs in its own child process, so each stage's peak memory is exactly that process's
peak RSS (and that of any process it starts), read from the kernel's rusage. Stages:

  pipeline (the plain functions the Prefect flows wrap, in order, on one PROCUREMENT_HOME):
    spend ingest    every registry row: read the landed file, parse, load raw.spend_payments + ledger
    ocds load       every landed release package into raw.ocds_releases (flows/raw/ocds_releases.py)
    transform       dbt build of the whole project
    validate        Great Expectations over the working DB
    publish         the marts copied into warehouse.duckdb and Parquet
    report          the HTML report from the published warehouse (the last step of `procurement run`)
  incremental night: the same six stages after one new monthly spend file and one day of notices
  peers, on the same files:
    duckdb read_csv  the landed CSV files straight into tables, all VARCHAR, no mapping or cleaning
    pandas           pandas.read_csv per file with the same cleaning, concatenated, written to DuckDB
    ocds compile     --ocds-compare releases: the project's load + dbt OCDS models vs `ocdskit compile`
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RELEASE_SCHEMA = Path("/work/shared/ocds/release-schema.json")
OCDS_COMPILE_SELECT = "+int_ocds__compiled_releases +int_ocds__compiled_awards"
QUICK_CHECK_ROWS = 100_000  # the size whose whole run should take under a minute
OCDS_LOAD_BATCH = 5  # package files per load_releases call: ~10 MB of JSON, ~0.5 GB of working memory


# ---------------------------------------------------------------------------------------------- stages
# Each stage runs in a child process: `python -m benchmarks.run --stage NAME --data DIR --home DIR`.
# It returns how many input units it handled (rows, releases); the parent times it and reads peak RSS.


def _settings(home: Path, registry: Path | None = None):
    from flows.config import load_settings

    env = {"PROCUREMENT_HOME": str(home)}
    if registry is not None:
        env["SPEND_FEEDS"] = str(registry)
    return load_settings(env)


def stage_spend_ingest(data: Path, home: Path, registry_name: str = "spend_feeds.csv") -> int:
    """Every registry row through ingest_feeds (several files per commit), on one connection."""
    from flows.database import working_db
    from flows.spend import ingest_feeds, read_registry, record_publishers

    settings = _settings(home, data / registry_name)
    feeds = read_registry(settings.spend_feeds)
    with working_db(settings) as con:
        record_publishers(con, feeds)
        results = ingest_feeds(con, settings, feeds)
    for feed, result in zip(feeds, results):
        if result.status not in ("loaded", "unchanged"):
            raise RuntimeError(f"{feed.url}: {result.status}: {result.message}")
    return sum(result.rows_read for result in results if result.status == "loaded")


def package_files(folder: Path, limit: int | None = None) -> list[tuple[str, Path]]:
    """(source, path) of every landed package under folder/ocds, both sources interleaved; `limit`
    keeps the first files of each source holding about that many releases in all."""
    out = []
    for source in ("contracts_finder", "find_a_tender"):
        paths = sorted((folder / "ocds" / source).glob("packages-*.json"))
        if limit is not None:
            manifest = json.loads((folder / "manifest.json").read_text())
            share = 2 / 3 if source == "contracts_finder" else 1 / 3
            paths = paths[:max(1, round(limit * share / manifest["package_size"]))]
        out += [(source, path) for path in paths]
    return out


def stage_ocds_load(data: Path, home: Path, folder: str = "", limit: int | None = None) -> int:
    """Landed packages into raw.ocds_releases with the harvest's loader, OCDS_LOAD_BATCH files per call
    (one DuckDB statement each; at 100k releases 25 files a call took twice the memory of 5 at the same
    speed)."""
    from flows.database import working_db
    from flows.raw.ocds_releases import LandedPackage, load_releases

    settings = _settings(home)
    packages = [LandedPackage(source, path, str(path.relative_to(data))) for source, path in package_files(data / folder, limit)]
    seen = 0
    with working_db(settings) as con:
        for start in range(0, len(packages), OCDS_LOAD_BATCH):
            seen += load_releases(con, packages[start:start + OCDS_LOAD_BATCH]).seen
    return seen


def stage_transform(data: Path, home: Path) -> int:
    from flows.transform import build

    return len(build(_settings(home), unit_tests=False).nodes)  # as the nightly flow runs it


def stage_validate(data: Path, home: Path) -> int:
    from flows.validate import validate

    report = validate(_settings(home), run_id="bench")
    if not report.passed:
        raise RuntimeError("validation failed: " + "; ".join(report.failed_expectations[:5]))
    return report.expectations_evaluated


def stage_publish(data: Path, home: Path) -> int:
    from flows.publish import publish

    return sum(publish(_settings(home), run_id="bench").row_counts.values())


def stage_report(data: Path, home: Path) -> int:
    """The report `procurement run` builds after publishing; counts the areas it reports on."""
    from flows.report import build_report

    index = build_report(_settings(home))
    return len(set(re.findall(r'<option value="([^"]*)"', index.read_text(encoding="utf-8"))))


def stage_spend_ingest_next(data: Path, home: Path) -> int:
    return stage_spend_ingest(data, home, "spend_feeds_next.csv")


def stage_ocds_load_next(data: Path, home: Path) -> int:
    return stage_ocds_load(data, home, "increment")


def csv_files(data: Path) -> list[Path]:
    return sorted(p for p in (data / "spend").iterdir() if p.suffix == ".csv")


def stage_duckdb_read_csv(data: Path, home: Path) -> int:
    """The physical limit: each file's cells straight into a table, as text, nothing mapped or cleaned.
    Files are read in groups of one layout, as DuckDB needs one column count per read."""
    import duckdb

    home.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home / "limit.duckdb"))
    groups: dict[tuple[str, str], list[str]] = {}
    for path in csv_files(data):
        head = path.read_bytes()[:4096]
        try:
            head.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "latin-1"
        groups.setdefault((path.name.split("-")[0], encoding), []).append(str(path))
    rows = 0
    for index, ((_, encoding), paths) in enumerate(sorted(groups.items())):
        con.execute(
            f"CREATE OR REPLACE TABLE limit_{index} AS SELECT * FROM read_csv($paths, header = false, "
            "all_varchar = true, null_padding = true, strict_mode = false, encoding = $encoding)",
            {"paths": paths, "encoding": encoding},
        )
        rows += con.execute(f"SELECT count(*) FROM limit_{index}").fetchone()[0]
    con.close()
    return rows


def stage_pandas(data: Path, home: Path) -> int:
    from benchmarks.pandas_peer import ingest_with_pandas

    return ingest_with_pandas(data, home / "pandas.duckdb")


def stage_ocds_compile_project(data: Path, home: Path, limit: int) -> int:
    """The project's way from landed package files to the latest state per process, in this process: the
    harvest's loader (raw.ocds_releases and the typed raw.ocds_release_fields), then `dbt build` of the
    OCDS compile models. Reports the load (`load_s`), the models' own execution time from dbt's
    run_results (`models_s`: views over the typed fields plus the int_ocds__ tables, with dbt's per-model
    work), the same models' SQL alone (`models_sql_s`) and dbt's whole build (`dbt_s`: its start-up, the
    postcode reference and the data tests on top; not dbt's unit tests, which the nightly flow leaves out
    too); `load_cpu_s` and `models_sql_cpu_s` are the CPU seconds of the load and of the models' SQL (this
    process's, DuckDB's threads included).

    `models_sql_s` runs each built model's compiled SQL again without dbt, on the same tables: into a copy
    in a scratch schema (a view as a view), then a checkpoint, as dbt's commits write them. dbt's
    run_results time a model from its materialization's start, with the Python and the statements dbt adds
    around the query (relation lookups, renames, drops, commits)."""
    import duckdb

    from flows.transform import PROJECT_DIR, build

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    started, started_cpu = time.perf_counter(), cpu()
    releases = stage_ocds_load(data, home, limit=limit)
    DETAIL["load_s"], DETAIL["load_cpu_s"] = time.perf_counter() - started, cpu() - started_cpu
    started = time.perf_counter()
    build(_settings(home), select=OCDS_COMPILE_SELECT, unit_tests=False)
    DETAIL["dbt_s"] = time.perf_counter() - started
    target = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    DETAIL["models_s"] = sum(r["execution_time"] for r in models)
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    con = duckdb.connect(str(_settings(home).work_db))
    try:
        con.execute("SET memory_limit = '2GB'")  # as dbt's profile
        con.execute("CREATE SCHEMA bench_sql")
        started, started_cpu = time.perf_counter(), cpu()
        for model in models:
            kind = "VIEW" if nodes[model["unique_id"]]["config"]["materialized"] == "view" else "TABLE"
            con.execute(f'CREATE {kind} bench_sql."{model["unique_id"].split(".")[-1]}" AS {model["compiled_code"]}')
        con.execute("CHECKPOINT")
        DETAIL["models_sql_s"], DETAIL["models_sql_cpu_s"] = time.perf_counter() - started, cpu() - started_cpu
        con.execute("DROP SCHEMA bench_sql CASCADE")
    finally:
        con.close()
    return releases


def stage_ocdskit(data: Path, home: Path, limit: int) -> int:
    """`ocdskit compile` over the same package files, fed on standard input as its documentation shows."""
    home.mkdir(parents=True, exist_ok=True)
    files = package_files(data, limit)
    ocdskit = Path(sys.executable).with_name("ocdskit")
    with (home / "ocdskit-compiled.json").open("wb") as out:
        process = subprocess.Popen([str(ocdskit), "compile", "--schema", str(RELEASE_SCHEMA)],
                                   stdin=subprocess.PIPE, stdout=out)
        releases = 0
        for _, path in files:
            body = path.read_bytes()
            releases += body.count(b'"ocid":')
            process.stdin.write(body)
        process.stdin.close()
        if process.wait() != 0:
            raise RuntimeError(f"ocdskit compile exited {process.returncode}")
    return releases


DETAIL: dict[str, float] = {}  # extra figures a stage reports beside its total
STAGES: dict[str, Callable[..., int]] = {
    "spend_ingest": stage_spend_ingest, "ocds_load": stage_ocds_load, "transform": stage_transform,
    "validate": stage_validate, "publish": stage_publish, "report": stage_report,
    "spend_ingest_next": stage_spend_ingest_next, "ocds_load_next": stage_ocds_load_next,
    "duckdb_read_csv": stage_duckdb_read_csv, "pandas": stage_pandas,
    "ocds_compile_project": stage_ocds_compile_project, "ocdskit": stage_ocdskit,
}
PIPELINE = ("spend_ingest", "ocds_load", "transform", "validate", "publish", "report")
INCREMENT = ("spend_ingest_next", "ocds_load_next", "transform", "validate", "publish", "report")


def child_main(stage: str, data: Path, home: Path, limit: int | None) -> None:
    started = time.perf_counter()
    kwargs = {"limit": limit} if stage in ("ocds_compile_project", "ocdskit") else {}
    units = STAGES[stage](data, home, **kwargs)
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    peak_kb = max(u.ru_maxrss for u in usage)
    # On a shared machine wall time depends on the neighbours; CPU time (user + system, of this process and
    # of what it started) much less.
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    print("BENCH " + json.dumps({"stage": stage, "units": units, "seconds": seconds, "peak_kb": peak_kb,
                                 "cpu": cpu, "detail": DETAIL}))
    gc.freeze()  # the stage's process ends as the `procurement` command does (flows.cli.console_main)


# ---------------------------------------------------------------------------------------------- parent


def run_stage(stage: str, data: Path, home: Path, limit: int | None = None) -> dict[str, Any]:
    """Run one stage in a child process; its wall time includes the interpreter and imports."""
    command = [sys.executable, "-m", "benchmarks.run", "--stage", stage, "--data", str(data), "--home", str(home)]
    if limit is not None:
        command += ["--limit", str(limit)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = [line for line in process.stdout.splitlines() if line.startswith("BENCH ")]
    if process.returncode != 0 or not lines:
        sys.stderr.write(process.stdout[-3000:] + process.stderr[-5000:])
        raise SystemExit(f"stage {stage} failed (exit {process.returncode})")
    result = json.loads(lines[-1][len("BENCH "):])
    result["wall"] = wall
    print(f"  {stage:<22} {wall:8.1f} s  {result['cpu']:8.1f} CPU s  {result['units']:>10,} units  "
          f"peak {result['peak_kb'] / 1024:7.0f} MiB", flush=True)
    return result


def machine() -> dict[str, str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    import duckdb
    return {"nproc": str(os.cpu_count()), "memory": f"{mem_kb / 1024 / 1024:.1f} GiB", "cpu": model,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "loadavg": Path("/proc/loadavg").read_text().strip()}


def ensure_data(data: Path, args: argparse.Namespace) -> dict[str, Any]:
    manifest_path = data / "manifest.json"
    if args.only == "spend" and not manifest_path.exists() and (data / "spend_feeds.csv").exists():
        # The spend files and registry are written first; spend-only runs need nothing else.
        return {"rows": args.rows, "files": args.files, "publishers": args.publishers or min(args.files, 250),
                "releases": 0}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if (manifest["rows"], manifest["files"], manifest["releases"]) == (args.rows, args.files, args.releases):
            return manifest
        shutil.rmtree(data)
    from benchmarks.generate import generate

    print(f"generating {data} ...", flush=True)
    started = time.perf_counter()
    manifest = generate(data, args.rows, args.files, args.publishers or min(args.files, 250), args.releases,
                        1000, progress=lambda text: print("  " + text, flush=True))
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return manifest


def measure(args: argparse.Namespace) -> dict[str, Any]:
    data = args.data_root or Path(f"/tmp/bench/{args.rows}")
    started = time.perf_counter()
    manifest = ensure_data(data, args)
    generated_s = time.perf_counter() - started
    work = data / "work"
    shutil.rmtree(work, ignore_errors=True)
    home = work / "home"
    loadavg_before = Path("/proc/loadavg").read_text().strip()
    print(f"pipeline on {args.rows:,} payment lines in {args.files} files, {args.releases:,} releases", flush=True)
    spend_only = args.only == "spend"
    full = {stage: run_stage(stage, data, home) for stage in (PIPELINE[:1] if spend_only else PIPELINE)}
    night = {}
    if not spend_only:
        print("incremental night", flush=True)
        night = {stage: run_stage(stage, data, home) for stage in INCREMENT}
    print("peers on the same files", flush=True)
    peers = {stage: run_stage(stage, data, work / stage) for stage in ("duckdb_read_csv", "pandas")}
    compare = min(args.ocds_compare, args.releases)
    if not spend_only:
        for stage in ("ocds_compile_project", "ocdskit"):
            peers[stage] = run_stage(stage, data, work / stage, limit=compare)
    return {"manifest": manifest, "full": full, "night": night, "peers": peers, "machine": machine(),
            "loadavg_before": loadavg_before, "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "ocds_compare": compare, "generated_s": generated_s,
            "run_s": time.perf_counter() - started - generated_s}


def _row(name: str, r: dict[str, Any], unit: str) -> str:
    rate = r["units"] / r["wall"] if r["wall"] else 0
    return f"| {name} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['units']:,} {unit} | {rate:,.0f} | {r['peak_kb'] / 1024:,.0f} |"


def report(result: dict[str, Any]) -> str:
    m, full, night, peers = result["manifest"], result["full"], result["night"], result["peers"]
    units = {"spend_ingest": "lines", "ocds_load": "releases", "transform": "nodes", "validate": "expectations",
             "publish": "mart rows", "report": "areas", "spend_ingest_next": "new lines", "ocds_load_next": "releases",
             "duckdb_read_csv": "CSV records", "pandas": "lines", "ocds_compile_project": "releases",
             "ocdskit": "releases"}
    total_full = sum(r["wall"] for r in full.values())
    total_night = sum(r["wall"] for r in night.values()) or float("nan")
    peak_full = max(r["peak_kb"] for r in full.values()) / 1024
    lines = [
        f"### {m['rows']:,} payment lines in {m['files']} files ({m['publishers']} publishers), "
        + (f"{m['releases']:,} OCDS releases" if night else "spend ingest and its peers only"),
        "",
        f"Measured {result['when']} on {result['machine']['nproc']} CPUs ({result['machine']['cpu']}), "
        f"{result['machine']['memory']} RAM, Python {result['machine']['python']}, DuckDB "
        f"{result['machine']['duckdb']}. Load average before: `{result['loadavg_before']}`, after: "
        f"`{result['machine']['loadavg']}` (the machine was shared). The whole run, every stage and peer "
        f"in its own process: {result['run_s']:.1f} s, "
        + (f"plus {result['generated_s']:.1f} s generating the data." if result["generated_s"] >= 0.5
           else "on data generated earlier."),
        "",
        "| stage | wall s | CPU s | handled | per s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
        *[_row(f"full: {name}", r, units[name]) for name, r in full.items()],
        f"| **{'full run' if len(full) > 1 else 'spend ingest only'}** | **{total_full:.1f}** | "
        f"**{sum(r['cpu'] for r in full.values()):.1f}** | | | **{peak_full:,.0f}** |",
        *[_row(f"night: {name}", r, units[name]) for name, r in night.items()],
        *([f"| **incremental night** | **{total_night:.1f}** | **{sum(r['cpu'] for r in night.values()):.1f}** | | | "
           f"**{max(r['peak_kb'] for r in night.values()) / 1024:,.0f}** |"] if night else []),
        *[_row(f"peer: {name}", r, units[name]) for name, r in peers.items()],
        "",
    ]
    ingest = full["spend_ingest"]["wall"]
    limit = peers["duckdb_read_csv"]["wall"]
    pandas = peers["pandas"]["wall"]
    lines += [
        "| ratio | value | target | met |",
        "|---|---:|---|---|",
        f"| spend ingest / DuckDB read_csv (limit) | {ingest / limit:.1f}x | within 2x | {'yes' if ingest <= 2 * limit else 'no'} |",
        f"| pandas / spend ingest | {pandas / ingest:.2f}x | >= 2x | {'yes' if pandas >= 2 * ingest else 'no'} |",
        f"| the same two in CPU time | {full['spend_ingest']['cpu'] / peers['duckdb_read_csv']['cpu']:.1f}x, "
        f"{peers['pandas']['cpu'] / full['spend_ingest']['cpu']:.2f}x | | |",
    ]
    if "ocdskit" in peers:
        project_ocds = peers["ocds_compile_project"]["wall"]
        detail = peers["ocds_compile_project"].get("detail", {})
        project_ocds_work = detail.get("load_s", 0) + detail.get("models_s", 0)
        ocdskit = peers["ocdskit"]["wall"]
        lines += [
            f"| ocdskit compile / project OCDS compile incl. dbt start-up ({result['ocds_compare']:,} releases) | "
            f"{ocdskit / project_ocds:.2f}x | >= 10x | {'yes' if ocdskit >= 10 * project_ocds else 'no'} |",
            f"| ocdskit compile / project OCDS work without dbt start-up (load {detail.get('load_s', 0):.1f} s + "
            f"models {detail.get('models_s', 0):.1f} s) | {ocdskit / project_ocds_work if project_ocds_work else 0:.2f}x "
            f"| >= 10x | {'yes' if ocdskit >= 10 * project_ocds_work else 'no'} |",
            f"| the same incl. dbt start-up in CPU time | {peers['ocdskit']['cpu'] / peers['ocds_compile_project']['cpu']:.2f}x | | |",
        ]
        sql_work = detail.get("load_s", 0) + detail.get("models_sql_s", 0)
        sql_cpu = detail.get("load_cpu_s", 0) + detail.get("models_sql_cpu_s", 0)
        if sql_work:
            lines += [
                f"| ocdskit compile / project load + the models' SQL without dbt (load {detail['load_s']:.1f} s + "
                f"SQL {detail['models_sql_s']:.1f} s) | {ocdskit / sql_work:.2f}x | >= 10x | "
                f"{'yes' if ocdskit >= 10 * sql_work else 'no'} |",
                f"| the same in CPU time | {peers['ocdskit']['cpu'] / sql_cpu:.2f}x | | |",
            ]
    if night:
        lines += [
            f"| full run / incremental night | {total_full / total_night:.1f}x | >= 10x | "
            f"{'yes' if total_full >= 10 * total_night else 'no'} |",
            f"| the same in CPU time | {sum(r['cpu'] for r in full.values()) / sum(r['cpu'] for r in night.values()):.1f}x | | |",
            f"| incremental night | {total_night:.1f} s | < 60 s | {'yes' if total_night < 60 else 'no'} |",
            f"| full run | {total_full:.1f} s | < 600 s (at 10M + 1M) | {'yes' if total_full < 600 else 'no'} |",
        ]
    lines += [f"| peak memory | {peak_full:,.0f} MiB | < 4096 MiB | {'yes' if peak_full < 4096 else 'no'} |"]
    if m["rows"] == QUICK_CHECK_ROWS:
        lines += [f"| the whole run (quick check) | {result['run_s']:.1f} s | < 60 s | "
                  f"{'yes' if result['run_s'] < 60 else 'no'} |"]
    lines += [""]
    return "\n".join(lines)


def write_results(section: str, rows: int) -> None:
    """Keep one section per size in RESULTS.md, replacing an older section of the same size."""
    header = "# Benchmark results\n\nWritten by `python -m benchmarks.run`; one section per size, newest run of each.\n\n"
    sections: dict[int, str] = {}
    if RESULTS.exists():
        for chunk in RESULTS.read_text().split("<!-- size ")[1:]:
            size, _, body = chunk.partition(" -->\n")
            sections[int(size)] = body.rstrip() + "\n"
    sections[rows] = section
    RESULTS.write_text(header + "\n".join(f"<!-- size {size} -->\n{body}" for size, body in sorted(sections.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=QUICK_CHECK_ROWS)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--publishers", type=int, default=None)
    parser.add_argument("--releases", type=int, default=None, help="default rows / 10")
    parser.add_argument("--ocds-compare", type=int, default=20_000,
                        help="releases compiled by both the project and ocdskit (ocdskit takes ~0.3 ms each)")
    parser.add_argument("--data-root", type=Path, default=None, help="default /tmp/bench/<rows>")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--only", choices=("spend",), help="spend: only spend ingest and its two peers")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        child_main(args.stage, args.data, args.home, args.limit)
        return 0
    if args.releases is None:
        args.releases = args.rows // 10
    section = report(measure(args))
    print()
    print(section)
    if not args.no_results:
        write_results(section, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
