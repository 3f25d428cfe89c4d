"""Deterministic benchmark data at any size: council spend files, their feed registry, OCDS release packages.

    python -m benchmarks.generate --rows 1000000 --files 300 --releases 100000 --out /tmp/bench/1m

Spend files use the real layouts of the sample generator (flows/sample/make_spend_feeds.py: title rows,
repeated headers, BOM, Windows-1252, totals rows, newline-in-header, merged two-row XLSX headers), each
publisher keeping one layout, spread over `--publishers` publishers. OCDS releases are copies of the
sample feeds' releases (flows/sample/feeds/*/releases.json, built by make_ocds_feeds.py: tenders,
tender amendments, awards, award updates, contracts) under new ocids and release ids, so every process
keeps its amendments. Everything is seeded: the same arguments write the same bytes.

Layout of `--out`:
    spend/<publisher_id>_<yyyy-mm>.csv|xlsx   landed spend files
    spend_feeds.csv                           the feed registry for them (local paths)
    ocds/<source>/packages-<n>.json           release packages of --package-size releases
    increment/                                one night later: a new monthly spend file, one day of notices
        spend/<new file>, ocds/<source>/…
    spend_feeds_next.csv                      the registry of the next night (the new file added)
    manifest.json                             what was generated
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import Pool
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

from flows.sample import make_spend_feeds as spend_sample
from flows.sample.make_spend_feeds import Line

SEED = 20261125
SAMPLE_FEEDS = Path(spend_sample.__file__).resolve().parent / "feeds"
OCDS_SOURCES = ("contracts_finder", "find_a_tender")
# An XLSX workbook costs openpyxl ~20 µs a cell to write and read; combined authorities publish small ones.
XLSX_MAX_ROWS = 2_000
FIRST_MONTH = (2023, 4)
INCREMENT_DAY = "2026-11-24"


@dataclass(frozen=True)
class Publisher:
    publisher_id: str
    publisher_name: str
    lad_code: str
    council: spend_sample.Council  # the real layout this publisher's files use


def publishers(count: int) -> list[Publisher]:
    """`count` publishers cycling through the sample layouts; LAD codes are well-formed, mostly fictional."""
    out = []
    for index in range(count):
        council = spend_sample.COUNCILS[index % len(spend_sample.COUNCILS)]
        lad = council.lad_code if index < len(spend_sample.COUNCILS) else f"E07{index:06d}"
        out.append(Publisher(f"{council.publisher_id}-{index:03d}", f"{council.publisher_name} ({index})", lad,
                             council))
    return out


def month_of(index: int) -> tuple[int, int]:
    months = FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + index
    return months // 12, months % 12 + 1


class _AllOptions:
    """Stands in for an rng so that expense_for hands back the whole option list it would choose from."""

    @staticmethod
    def choice(options: list[str]) -> list[str]:
        return options


@lru_cache(maxsize=None)
def expense_options(name: str) -> list[str]:
    # expense_for scans ~60 regexes per call; a payee's options never change, so scan once per name.
    return spend_sample.expense_for(name, _AllOptions())


def file_lines(rng: random.Random, publisher: Publisher, month: tuple[int, int], count: int, prefix: str) -> list[Line]:
    """`count` payment lines of one month, drawn the way the sample generator draws them (payee mix,
    spelling variants, redactions, credit notes), but at any volume."""
    shared = spend_sample.SHARED_SUPPLIERS
    home = [s for s in shared if s[2] == publisher.lad_code] or shared
    days = spend_sample.month_days(*month)
    areas = publisher.council.areas
    refs: dict[str, str] = {}
    lines = []
    for number in range(count):
        roll = rng.random()
        if roll < 0.04:
            name, company, published = None, "", None
        elif roll < 0.35:
            name, company, _ = rng.choice(home)
            published = spend_sample.spelling_variant(name, rng)
        elif roll < 0.75:
            name, company, _ = rng.choice(shared)
            published = spend_sample.spelling_variant(name, rng)
        else:
            name = published = rng.choice(spend_sample.SPEND_ONLY_SUPPLIERS)
            company = ""
        amount = Decimal(round(max(rng.lognormvariate(7.8, 1.1), 500.0), 2)).quantize(Decimal("0.01"))
        if rng.random() < 0.03:
            amount = -amount.quantize(Decimal("1"))
        description = rng.choice(expense_options(name)) if name else "Direct payments"
        key = published or "redacted"
        ref = refs.get(key) or refs.setdefault(key, str(rng.randint(100000, 999999)))
        lines.append(Line(day=rng.choice(days), supplier=published, company_number=company, amount=amount,
                          description=description, area=rng.choice(areas), supplier_ref=ref,
                          transaction=f"{prefix}{number + 1:07d}"))
    lines.sort(key=lambda line: (line.day, line.transaction))
    return lines


def write_spend_file(out_dir: Path, publisher: Publisher, month: tuple[int, int], rows: int, seed: str) -> Path:
    rng = random.Random(seed)
    council = publisher.council
    lines = file_lines(rng, publisher, month, rows, f"{publisher.publisher_id[:3].upper()}{month[0]}{month[1]:02d}-")
    path = out_dir / f"{publisher.publisher_id}_{month[0]}-{month[1]:02d}.{council.suffix}"
    path.write_bytes(council.writer(lines, council.redaction))
    return path


def plan_files(rows: int, files: int, n_publishers: int) -> list[tuple[Publisher, tuple[int, int], int]]:
    """(publisher, month, rows) per file: files go round the publishers, each file one later month.
    XLSX files stay small (XLSX_MAX_ROWS); the CSV files carry the rest, so the total is exactly `rows`."""
    pubs = publishers(n_publishers)
    plan = [(pubs[index % n_publishers], month_of(index // n_publishers)) for index in range(files)]
    is_xlsx = [publisher.council.suffix == "xlsx" for publisher, _ in plan]
    xlsx_rows = min(rows // files, XLSX_MAX_ROWS)
    csv_files = files - sum(is_xlsx)
    per_csv, extra = divmod(rows - xlsx_rows * sum(is_xlsx), csv_files)
    counts, csv_index = [], 0
    for xlsx in is_xlsx:
        if xlsx:
            counts.append(xlsx_rows)
        else:
            counts.append(per_csv + (csv_index < extra))
            csv_index += 1
    return [(publisher, month, count) for (publisher, month), count in zip(plan, counts)]


def write_registry(path: Path, entries: list[tuple[Publisher, Path]]) -> None:
    rows = [["publisher_id", "publisher_name", "lad_code", "url", "format"]]
    for publisher, file in entries:
        rows.append([publisher.publisher_id, publisher.publisher_name, publisher.lad_code,
                     file.relative_to(path.parent).as_posix(), ""])
    path.write_bytes(spend_sample.csv_bytes(rows, newline="\n"))


# ---------------------------------------------------------------------------------------------- OCDS


def release_templates(source: str) -> list[tuple[str, str, str]]:
    """(ocid, release id, compact JSON text) of every sample release of `source`, in file order."""
    releases = json.loads((SAMPLE_FEEDS / source / "releases.json").read_text(encoding="utf-8"))
    return [(r["ocid"], str(r["id"]), json.dumps(r, ensure_ascii=False, separators=(",", ":"))) for r in releases]


def _copy(template: tuple[str, str, str], copy: int, date_text: str | None = None) -> str:
    """One sample release under a new ocid and id. Award ids embed the ocid, so they follow it."""
    ocid, release_id, text = template
    new_ocid = f"{ocid}-b{copy}"
    text = text.replace(ocid, new_ocid).replace(f'"id":"{release_id}"', f'"id":"{release_id}-b{copy}"', 1)
    if date_text is not None:
        text = re.sub(r'"date":"[^"]*"', f'"date":"{date_text}"', text, count=1)
    return text


def ocds_release_texts(source: str, count: int) -> Iterator[str]:
    """`count` releases: the sample processes copied whole (all their releases) until `count` is reached."""
    templates = release_templates(source)
    copy = 0
    produced = 0
    while produced < count:
        for template in templates:
            if produced == count:
                return
            yield _copy(template, copy)
            produced += 1
        copy += 1


def write_packages(out_dir: Path, source: str, texts: Iterator[str], package_size: int, uri: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    batch: list[str] = []

    def flush() -> None:
        path = out_dir / f"packages-{len(paths) + 1:05d}.json"
        head = json.dumps({"uri": f"{uri}/{len(paths) + 1}", "publishedDate": "2026-11-25T00:00:00Z",
                           "version": "1.1", "publisher": {"name": source}})
        path.write_text(head[:-1] + ',"releases":[' + ",".join(batch) + "]}\n", encoding="utf-8")
        paths.append(path)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) == package_size:
            flush()
    if batch:
        flush()
    return paths


def increment_release_texts(source: str, releases: int, day_count: int) -> Iterator[str]:
    """One day of notices: award updates of processes already loaded (new release ids, same ocids) and
    releases of new processes, all dated `INCREMENT_DAY`."""
    templates = release_templates(source)
    copies = max(1, releases // max(1, len(templates)))
    rng = random.Random(f"{SEED}-{source}-increment")
    for index in range(day_count):
        ocid, release_id, text = rng.choice(templates)
        if index % 2 == 0:
            copy = rng.randrange(copies)
            yield _copy((ocid, release_id, text.replace(f'"id":"{release_id}"', f'"id":"{release_id}-u{index}"', 1)),
                        copy, f"{INCREMENT_DAY}T09:00:00Z")
        else:
            yield _copy((ocid, release_id, text), 1_000_000 + index, f"{INCREMENT_DAY}T09:00:00Z")


# ---------------------------------------------------------------------------------------------- main


def generate(out: Path, rows: int, files: int, n_publishers: int, releases: int, package_size: int,
             progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    spend_dir = out / "spend"
    spend_dir.mkdir(parents=True, exist_ok=True)
    plan = [(spend_dir, publisher, month, count, f"{SEED}-{index}")
            for index, (publisher, month, count) in enumerate(plan_files(rows, files, n_publishers))]
    progress(f"spend: {files} files, {rows} rows")
    with Pool() as pool:
        paths = pool.starmap(write_spend_file, plan, chunksize=1)
    entries = [(item[1], path) for item, path in zip(plan, paths)]
    write_registry(out / "spend_feeds.csv", entries)

    per_source = {"contracts_finder": releases - releases // 3, "find_a_tender": releases // 3}
    package_counts = {}
    for source, count in per_source.items():
        progress(f"OCDS {source}: {count} releases")
        package_counts[source] = len(write_packages(out / "ocds" / source, source, ocds_release_texts(source, count),
                                                    package_size, f"https://bench.invalid/{source}"))

    # The next night: one new monthly file for one publisher, and one day of notices (~1/365 of the total).
    inc = out / "increment"
    (inc / "spend").mkdir(parents=True, exist_ok=True)
    publisher = publishers(n_publishers)[1]
    new_file = write_spend_file(inc / "spend", publisher, month_of(files // n_publishers + 1), max(1, rows // files),
                                f"{SEED}-increment")
    # The registry must sit above every file it names (local paths are only read below its folder).
    write_registry(out / "spend_feeds_next.csv", entries + [(publisher, new_file)])
    day = max(2, releases // 365)
    for source, count in per_source.items():
        write_packages(inc / "ocds" / source, source,
                       increment_release_texts(source, count, max(1, day * count // max(1, releases))),
                       package_size, f"https://bench.invalid/{source}/increment")

    manifest = {"rows": rows, "files": files, "publishers": n_publishers, "releases": releases,
                "package_size": package_size, "ocds_packages": package_counts, "increment_day": INCREMENT_DAY,
                "increment_spend_file": new_file.relative_to(out).as_posix(), "seed": SEED}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="payment lines in all spend files")
    parser.add_argument("--files", type=int, default=300, help="spend files")
    parser.add_argument("--publishers", type=int, default=None, help="publishers (default: min(files, 250))")
    parser.add_argument("--releases", type=int, default=None, help="OCDS releases (default: rows / 10)")
    parser.add_argument("--package-size", type=int, default=1000, help="releases per landed package file")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    releases = args.releases if args.releases is not None else args.rows // 10
    n_publishers = args.publishers or min(args.files, 250)
    manifest = generate(args.out, args.rows, args.files, n_publishers, releases, args.package_size,
                        progress=lambda text: print(text, flush=True))
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
