"""A small, real world for fault tests: a slice of the sample feeds, the pipeline's plain functions, snapshots.

The data is a week of the bundled sample notices and four sample spend files (one XLSX), served by the
sample loopback server, so the in-process runs here and `procurement run --sample --since … --until …`
with the same registry process exactly the same input.

`run_pipeline` calls the plain functions in the order `flows.pipeline.nightly_run` wraps them (notices,
spend, dbt build, validation gate, publish) under the run lock, without Prefect: a fault injected into a
project function propagates out of it as a crash would.

The marts are a function of the raw tables, the seeds and the reference data, so equal raw tables mean
equal figures; kill points in ingestion are checked on the raw tables (cheap), kill points in dbt and
publish on the published marts.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from flows.config import Settings, load_settings
from flows.database import working_db
from flows.harvest import HarvestIncomplete, SourceUnreachable, harvest
from flows.http import FetchError
import flows.publish
import flows.transform
import flows.validate
from flows.run_lock import run_lock
from flows.sample.server import FEEDS_DIR, FeedServer
from flows.sources.ocds import CONTRACTS_FINDER, FIND_A_TENDER
from flows.spend import ingest_feed, read_registry, record_publishers
from flows.spend.layout import load_synonyms

REPO = Path(__file__).resolve().parents[2]
SINCE = datetime(2025, 6, 1, tzinfo=timezone.utc)
UNTIL = datetime(2025, 6, 5, tzinfo=timezone.utc)
# The first generation has the first half of the week and two spend files; the second adds the rest.
MID = datetime(2025, 6, 3, tzinfo=timezone.utc)
SPEND_FILES = (
    "birmingham_2025-04_to_2025-05.csv",
    "wmca_2025-04_to_2025-05.xlsx",
    "birmingham_2025-06_to_2025-07.csv",
    "solihull_2025-04_to_2025-05.csv",
)
FIRST_GENERATION_FILES = 2
MARTS = ("fct_payments", "fct_award_suppliers", "dim_suppliers", "dim_buyers", "sme_spend", "local_spend",
         "green_spend")
# Raw contents that must survive any fault: the columns that feed the marts, without load timestamps.
# Notice pages carry the server's clock, so the landing file a release came from is not compared.
RAW_QUERIES = {
    "raw.ocds_releases": "SELECT source, ocid, release_id, release_date, tags, release_json::VARCHAR "
                         "FROM raw.ocds_releases",
    "raw.spend_payments": "SELECT * EXCLUDE (loaded_at) FROM raw.spend_payments",
    "raw.spend_rejects": "SELECT * FROM raw.spend_rejects",
    "raw.spend_publishers": "SELECT * FROM raw.spend_publishers",
    "ops.spend_files loaded": "SELECT publisher_id, url, source_file, file_sha256, rows_read, rows_loaded, "
                              "rows_rejected, rows_skipped FROM ops.spend_files WHERE status = 'loaded'",
    "ops.watermarks": "SELECT source, harvested_to FROM ops.watermarks",
}


class Killed(BaseException):
    """An injected crash: a BaseException, so no `except Exception` in the code under test absorbs it."""


def settings_for(home: Path, server: FeedServer | None = None) -> Settings:
    settings = load_settings({"PROCUREMENT_HOME": str(home), "PROCUREMENT_RETRY_WAIT_S": "0"})
    return settings.with_urls(server.base_url, server.base_url) if server else settings


def write_registry(folder: Path, files: tuple[str, ...] = SPEND_FILES) -> Path:
    """A feed registry of the given sample spend files (absolute paths, names from the shipped registry)."""
    shipped = {feed.local_path.name: feed for feed in read_registry(REPO / "seeds" / "spend_feeds.csv")}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"spend_feeds_{len(files)}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["publisher_id", "publisher_name", "lad_code", "url", "format"])
        for name in files:
            feed = shipped[name]
            writer.writerow([feed.publisher_id, feed.publisher_name, feed.lad_code,
                             str(FEEDS_DIR / "spend" / name), feed.format])
    return path


def load_reference_subset(settings: Settings) -> None:
    """The postcode directory for B postcodes only: the real loader, fed a subset, in seconds not a minute."""
    import flows.reference as reference

    every = reference._postcode_files
    reference._postcode_files = lambda: [p for p in every() if p.name == "postcodes_B.msgpack.br"]
    try:
        with working_db(settings) as con:
            reference.load_postcode_lad(con)
    finally:
        reference._postcode_files = every


@dataclass
class RunReport:
    failed_sources: list[str]
    published: bool


def ingest(settings: Settings, registry: Path, server: FeedServer, since: datetime = SINCE,
           until: datetime = UNTIL) -> list[str]:
    """Notices and spend, as the nightly run does; returns the sources that failed (they do not stop the run)."""
    from flows.pipeline import sample_feeds

    failed = []
    feeds = sample_feeds(read_registry(registry), server)
    synonyms = load_synonyms()
    with working_db(settings) as con:
        for source in (CONTRACTS_FINDER, FIND_A_TENDER):
            try:
                harvest(settings, con, source, since, until)
            except (HarvestIncomplete, SourceUnreachable) as exc:
                failed.append(f"{source}: {exc}")
        record_publishers(con, feeds)
        for feed in feeds:
            try:
                ingest_feed(con, settings, feed, synonyms=synonyms)
            except FetchError as exc:
                failed.append(f"{feed.url}: {exc}")
    return failed


def run_pipeline(settings: Settings, registry: Path, server: FeedServer, *, transform: bool = True,
                 run_id: str = "fault-run") -> RunReport:
    with run_lock(settings):
        failed = ingest(settings, registry, server)
        if not transform:
            return RunReport(failed, published=False)
        # Called through their modules, so that a test can replace one stage with a crashing one.
        flows.transform.build(settings)
        report = flows.validate.validate(settings, run_id=run_id)
        assert report.passed, report.failed_expectations
        flows.publish.publish(settings, run_id=run_id)
    return RunReport(failed, published=True)


# --------------------------------------------------------------------------------------------- snapshots


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> Counter:
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row)
                   for row in con.execute(query, params or []).fetchall())


def raw_snapshot(work_db: Path) -> dict[str, Counter]:
    # Not read-only: dbt-duckdb keeps its connection open in this process, and DuckDB shares one
    # instance per file only between connections of the same configuration.
    with duckdb.connect(str(work_db)) as con:
        return {name: _rows(con, query) for name, query in RAW_QUERIES.items()}


def marts_snapshot(warehouse: Path) -> dict[str, Counter]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {mart: _rows(con, f"SELECT * FROM marts.{mart}") for mart in MARTS}


def parquet_snapshot(home: Path) -> dict[str, Counter]:
    with duckdb.connect() as con:
        return {mart: _rows(con, "SELECT * FROM read_parquet(?)", [str(home / "marts" / f"{mart}.parquet")])
                for mart in MARTS}


def rows_lost(expected: dict[str, Counter], actual: dict[str, Counter]) -> tuple[int, int]:
    """(rows of `expected` missing from `actual`, rows in `actual` that `expected` lacks), over every table."""
    lost = sum(sum((expected[name] - actual.get(name, Counter())).values()) for name in expected)
    extra = sum(sum((actual[name] - expected.get(name, Counter())).values()) for name in actual)
    return lost, extra


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("run.lock"))
    return target


def lock_is_free(settings: Settings) -> bool:
    from flows.run_lock import RunLockedError

    try:
        with run_lock(settings):
            return True
    except RunLockedError:
        return False


def call_counter(real: Callable, when: Callable[[int], bool], *, after: bool = False,
                 label: str = "") -> Callable:
    """`real`, but the call numbers for which `when(n)` holds crash before (or after) doing their work."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if when(calls["n"]) and not after:
            raise Killed(f"killed before {label} call {calls['n']}")
        result = real(*args, **kwargs)
        if when(calls["n"]) and after:
            raise Killed(f"killed after {label} call {calls['n']}")
        return result

    wrapper.calls = calls
    return wrapper
