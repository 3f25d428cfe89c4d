"""Run the dbt project (dbt_project/) against the working database.

`build` is what `procurement transform` and the nightly flow call: it makes sure the reference data is
present, then runs `dbt build` in-process. A failing model, test or unit test raises `TransformError`
naming every failing node, so the Prefect task that wraps it fails with that message.

The large models are incremental: a night processes the new payment lines and notices, not the whole
warehouse (see each model's header). Their incremental results equal a full rebuild only while what
they were built from is unchanged apart from new rows, so `build` rebuilds everything
(`dbt build --full-refresh`) when `full_refresh_reason` finds that something else changed: the dbt
project, seeds, dbt or reference-data versions or the spend publishers' names and districts (the fingerprint recorded by the
last complete build, in ops.transform_state), or payment lines that left raw.spend_payments because a
feed replaced an earlier version of a file.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from importlib import metadata
from typing import Iterator

import duckdb

from flows.config import PROJECT_ROOT, Settings
from flows.database import working_db
from flows.raw.ocds_releases import ensure_table as ensure_ocds_releases
from flows.reference import load_postcode_lad, postcode_package_version
from flows.spend.load import ensure_tables as ensure_spend_tables

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
SEEDS_DIR = PROJECT_ROOT / "seeds"  # dbt_project.yml: seed-paths
STATE_DDL = """
CREATE TABLE IF NOT EXISTS ops.transform_state (
    fingerprint  VARCHAR NOT NULL,
    full_refresh BOOLEAN NOT NULL,
    built_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


class TransformError(RuntimeError):
    """dbt failed; the message names every failing model, test or unit test."""

    def __init__(self, message: str, failures: list[str]):
        super().__init__(message)
        self.failures = failures


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str
    status: str
    message: str | None


@dataclass(frozen=True)
class BuildResult:
    nodes: list[NodeResult]
    elapsed_s: float
    reference_loaded: bool
    full_refresh_reason: str | None = None  # why everything was rebuilt; None for an incremental build

    def count(self, status: str) -> int:
        return sum(1 for n in self.nodes if n.status == status)


def prepare_working_db(settings: Settings) -> bool:
    """Create missing raw tables and load reference data if needed; True when postcodes were (re)loaded.

    The raw tables are created (empty, with the loaders' own DDL) when their loader has not run yet, so
    that a fresh installation - say, awards only - still builds.
    """
    with working_db(settings) as con:
        ensure_ocds_releases(con)
        ensure_spend_tables(con)
        return load_postcode_lad(con)


def _project_code() -> list[Path]:
    code = [PROJECT_DIR / "dbt_project.yml"]
    return code + sorted(p for folder in ("models", "macros") for p in (PROJECT_DIR / folder).rglob("*") if p.is_file())


def model_seeds() -> list[Path]:
    """The seeds the models read. The spend registry and header synonyms are seeds for the Python loaders
    and the docs only, and a newly registered spend file must not force a full rebuild."""
    sql = "".join(p.read_text(encoding="utf-8") for p in _project_code() if p.suffix == ".sql")
    return [p for p in sorted(SEEDS_DIR.glob("*.csv")) if f"ref('{p.stem}')" in sql]


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A hash of everything besides raw rows that the built tables depend on."""
    code, seeds = _project_code(), model_seeds()
    digest = hashlib.sha256()
    for path in code + seeds:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}={metadata.version(package)}\0".encode())
    digest.update(f"postcodes={postcode_package_version()}\0".encode())
    # A publisher's name and district are copied onto its payments; a newly registered file is not a change.
    for row in con.execute(
        "SELECT DISTINCT publisher_id, publisher_name, lad_code FROM raw.spend_publishers ORDER BY ALL"
    ).fetchall():
        digest.update(repr(row).encode())
    return digest.hexdigest()


def _relation_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def full_refresh_reason(con: duckdb.DuckDBPyConnection, fingerprint: str) -> str | None:
    """Why the next build must rebuild every incremental model from all raw rows, or None.
    `fingerprint` is `inputs_fingerprint` now."""
    con.execute(STATE_DDL)
    last = con.execute("SELECT fingerprint FROM ops.transform_state ORDER BY built_at DESC LIMIT 1").fetchone()
    if last is None:
        return "no complete build recorded yet"
    if last[0] != fingerprint:
        return "the dbt project, seeds, dbt or reference-data versions or spend publishers' names or districts changed"
    if _relation_exists(con, "intermediate", "int_spend__payments_ranked"):
        (changed,) = con.execute("""
            SELECT count(*)
            FROM (SELECT source_file, count(*) AS n FROM intermediate.int_spend__payments_ranked GROUP BY ALL) AS built
            LEFT JOIN (SELECT source_file, count(*) AS n FROM raw.spend_payments GROUP BY ALL) AS raw
                USING (source_file)
            WHERE raw.n IS DISTINCT FROM built.n
        """).fetchone()
        if changed:
            return f"payment lines of {changed} file(s) left raw.spend_payments (a feed replaced an earlier version)"
    return None


def _record_build(con: duckdb.DuckDBPyConnection, fingerprint: str, full_refresh: bool) -> None:
    con.execute(STATE_DDL)
    con.execute("DELETE FROM ops.transform_state")
    con.execute("INSERT INTO ops.transform_state (fingerprint, full_refresh) VALUES (?, ?)",
                [fingerprint, full_refresh]).fetchall()


@contextmanager
def _dbt_environment(settings: Settings) -> Iterator[None]:
    """Runs dbt on the home's working database, named relative to the home.

    dbt re-parses the whole project (~7 s) whenever the profile's connection details differ from the last
    parse's, so an absolute path would cost that on every change of home (tests, the benchmark's stages,
    several authorities on one install). dbt-duckdb keeps its DuckDB connection after a command and reuses
    it for the next command with the same details: it is closed here, so the next command opens the
    database of its own home."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    saved, cwd = os.environ.get("PROCUREMENT_WORK_DB"), os.getcwd()
    os.chdir(settings.work_db.parent)
    os.environ["PROCUREMENT_WORK_DB"] = settings.work_db.name
    try:
        yield
    finally:
        # Dropping the environment is what makes the next command open its own home's file; closing the
        # connection first releases this one's file now rather than at garbage collection.
        with suppress(Exception):  # env() raises when no command opened a connection
            DuckDBConnectionManager.env().close()
        DuckDBConnectionManager.close_all_connections()
        os.chdir(cwd)
        if saved is None:
            os.environ.pop("PROCUREMENT_WORK_DB", None)
        else:
            os.environ["PROCUREMENT_WORK_DB"] = saved


def _invoke(settings: Settings, args: list[str]):
    from dbt.cli.main import dbtRunner

    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    with _dbt_environment(settings):
        return dbtRunner().invoke([*args, *common])


def _node_results(res) -> list[NodeResult]:
    results = getattr(res.result, "results", None) or []
    return [
        NodeResult(
            name=r.node.name,
            resource_type=str(r.node.resource_type),
            status=str(r.status),
            message=r.message,
        )
        for r in results
    ]


def _left_out_of_incremental_build(whole_project: bool) -> list[str]:
    """dbt arguments leaving out what an incremental build would only redo as it was, or check twice.

    The seeds the models read are part of the fingerprint, so in an incremental build they are the files
    the last complete build loaded and tested: reloading them is left out, and so are the tests that read
    them (int_green__classified's rule ids, which it takes from that seed, included). When the project's
    build was decided incremental by an unchanged fingerprint, its views are the ones the last complete
    build created from the same SQL, so recreating them (~1 s of a night's node time) is left out too; their
    data tests still run, which is why dbt selects no test indirectly here (`--indirect-selection empty`)
    and the seeds' tests are named explicitly (those depending on a seed directly). The marts' tests tagged
    `also_validated` check a rule that the validation gate checks on the same mart before anything is
    published, and every nightly run validates after building: a night leaves them to the gate (10M night:
    27 nodes, ~2 s of the build), a complete build still runs them."""
    seeds = [p.stem for p in model_seeds()]
    if not whole_project:
        return ["--exclude", *seeds]
    return ["--indirect-selection", "empty", "--exclude", *seeds,
            *(f"resource_type:test,{seed}+1" for seed in seeds), "resource_type:model,config.materialized:view",
            "tag:also_validated"]


def _plan_build(settings: Settings, full_refresh: bool | None) -> tuple[bool, str, str | None]:
    """Prepare the working DB; (reference data reloaded, `inputs_fingerprint`, why the build is a full
    refresh or None) for `build`."""
    reference_loaded = prepare_working_db(settings)
    with working_db(settings) as con:
        fingerprint = inputs_fingerprint(con)
        if full_refresh is None:
            return reference_loaded, fingerprint, full_refresh_reason(con, fingerprint)
    return reference_loaded, fingerprint, "requested" if full_refresh else None


def build(
    settings: Settings, select: str | None = None, full_refresh: bool | None = None, unit_tests: bool = True
) -> BuildResult:
    """`dbt build` (seeds, models, data tests, unit tests) of the whole project or of `select`.

    `full_refresh` None decides by `full_refresh_reason`; True or False forces a full or incremental
    build. Only a complete build of the whole project is recorded as the next build's baseline.
    `unit_tests` False leaves out dbt's unit tests, which test the SQL on fixed rows rather than the data:
    the test suite runs them, the nightly job need not.
    """
    started = time.monotonic()
    # The working DB's preparation and checks are DuckDB's work, which lets go of the GIL, and importing dbt
    # is ~3-4 s of Python: side by side (10M night transform ~1.5-2 s shorter).
    with ThreadPoolExecutor(max_workers=1) as pool:
        planned = pool.submit(_plan_build, settings, full_refresh)
        importlib.import_module("dbt.cli.main")
        reference_loaded, fingerprint, reason = planned.result()
    args = ["build"] + (["--select", select] if select else []) + (["--full-refresh"] if reason else [])
    args += [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    if reason is None:
        args += _left_out_of_incremental_build(whole_project=select is None and full_refresh is None)
    res = _invoke(settings, args)
    nodes = _node_results(res)
    failures = [
        f"{n.resource_type} {n.name}: {n.status}" + (f" ({n.message})" if n.message else "")
        for n in nodes
        if n.status in ("error", "fail", "runtime error")
    ]
    if res.exception is not None or not res.success or failures:
        detail = "; ".join(failures) if failures else repr(res.exception)
        raise TransformError(f"dbt build failed: {detail}", failures)
    if select is None:
        with working_db(settings) as con:
            _record_build(con, fingerprint, full_refresh=reason is not None)
    return BuildResult(nodes=nodes, elapsed_s=time.monotonic() - started, reference_loaded=reference_loaded,
                       full_refresh_reason=reason)


def docs_generate(settings: Settings) -> Path:
    """`dbt docs generate`; returns the target directory holding index.html, manifest and catalog (dbt's
    DBT_TARGET_PATH when set)."""
    prepare_working_db(settings)
    res = _invoke(settings, ["docs", "generate"])
    if res.exception is not None or not res.success:
        raise TransformError(f"dbt docs generate failed: {res.exception!r}", [])
    return Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
