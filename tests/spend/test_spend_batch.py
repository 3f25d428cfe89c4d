"""ingest_feeds: several files per transaction give exactly the tables of file-by-file loading, a crash
inside a batch leaves whole files or nothing, and an unchanged local file is not read again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from spend_helpers import FIXTURES, write_registry

import flows.spend.ingest
from flows.config import load_settings
from flows.database import connect_path
from flows.spend import fast, ingest_feed, ingest_feeds
from flows.spend.registry import SAMPLE_FEEDS_DIR

SAMPLE_SPEND = SAMPLE_FEEDS_DIR / "spend"
# Real files with rejects and skips, the sample layouts (one XLSX, Windows-1252, title rows), and one
# file whose layout cannot be mapped.
FILES = [
    *sorted(p.name for p in FIXTURES.glob("*_first200.csv")),
    "birmingham_2025-04_to_2025-05.csv", "coventry_2025-04_to_2025-05.csv", "dudley_2025-04_to_2025-05.csv",
    "sandwell_2025-04_to_2025-05.csv", "wmca_2025-04_to_2025-05.xlsx", "walsall_2025-04_to_2025-05.csv",
]
TABLES = {
    "raw.spend_payments": "SELECT * EXCLUDE (loaded_at) FROM raw.spend_payments",
    "raw.spend_rejects": "SELECT * FROM raw.spend_rejects",
    "ops.spend_files": "SELECT * EXCLUDE (ingested_at, local_stat) FROM ops.spend_files",
    "ops.landing_files": "SELECT * EXCLUDE (fetched_at) FROM ops.landing_files",
}


class Killed(BaseException):
    """An injected crash, which no `except Exception` absorbs."""


@pytest.fixture(autouse=True)
def bulk_always(monkeypatch):
    monkeypatch.setattr(fast, "MIN_BULK_BYTES", 0)


@pytest.fixture
def feeds(tmp_path: Path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    for name in FILES:
        shutil.copyfile((FIXTURES if "first200" in name else SAMPLE_SPEND) / name, folder / name)
    (folder / "unmappable.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    lines = ["Spend over 500", "Date,Supplier Name,Amount,Expense Type"]
    for n in range(300):
        lines.append(f"{n % 28 + 1:02d}/03/2025,Acme Ltd,\"{n},123.45\",Stationery")
        if n % 50 == 0:  # a reject, a blank line and a totals line now and then
            lines += [f"31/02/2025,Bad Date Ltd,{n}.00,Misc", ",,,", ",Total,1.00,"]
    (folder / "messy.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    names = [*FILES, "unmappable.csv", "messy.csv"]
    rows = [(name.split("_")[0].split(".")[0].lower(), name) for name in names]
    # The same bytes under a second URL of the same publisher: loaded once, in whichever batch.
    rows.append(("birmingham", "./birmingham_2025-04_to_2025-05.csv"))
    return write_registry(folder, rows)


def _home(tmp_path: Path, name: str):
    return load_settings({"PROCUREMENT_HOME": str(tmp_path / name), "PROCUREMENT_RETRY_WAIT_S": "0"})


def _tables(settings) -> dict[str, list[tuple]]:
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        return {name: sorted(map(repr, con.execute(query).fetchall())) for name, query in TABLES.items()}


def _whole_files_only(settings) -> None:
    """Every file's payments and rejects are all there exactly when the ledger says it was loaded, and its
    landing is recorded."""
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        mismatched = con.execute(
            """
            WITH rows AS (
                SELECT source_file, count(*) AS n FROM (
                    SELECT source_file FROM raw.spend_payments UNION ALL SELECT source_file FROM raw.spend_rejects)
                GROUP BY source_file)
            SELECT f.source_file, f.rows_loaded + f.rows_rejected, rows.n
            FROM (SELECT * FROM ops.spend_files WHERE status = 'loaded') AS f
            FULL JOIN rows USING (source_file)
            WHERE (f.rows_loaded + f.rows_rejected) IS DISTINCT FROM rows.n
            """
        ).fetchall()
        # The reading thread lands files ahead of the loads; each loaded one is recorded as landed first.
        unrecorded = con.execute(
            "SELECT source_file FROM ops.spend_files WHERE status = 'loaded' "
            "AND source_file NOT IN (SELECT path FROM ops.landing_files)"
        ).fetchall()
    assert mismatched == []
    assert unrecorded == []


def test_batches_of_any_size_give_the_tables_of_file_by_file_loading(tmp_path, feeds):
    one_by_one = _home(tmp_path, "one_by_one")
    with connect_path(one_by_one.work_db) as con:
        expected = [ingest_feed(con, one_by_one, feed) for feed in feeds]
    assert {r.status for r in expected} == {"loaded", "rejected", "unchanged"}
    assert any(r.rows_rejected for r in expected) and any(r.rows_skipped for r in expected)

    for batch_rows in (1, 10**9):  # a commit after every file, one at the end (the crash test: every few)
        settings = _home(tmp_path, f"batch_{batch_rows}")
        seen = []
        with connect_path(settings.work_db) as con:
            threads = con.execute("SELECT current_setting('threads')").fetchone()
            results = ingest_feeds(con, settings, feeds, batch_rows=batch_rows,
                                   on_result=lambda feed, result: seen.append(feed.url))
            # The ingest runs DuckDB on one thread (its own threads run side by side); the setting is restored.
            assert con.execute("SELECT current_setting('threads')").fetchone() == threads
        assert results == expected  # FileResult compares every field
        assert seen == [feed.url for feed in feeds]
        assert _tables(settings) == _tables(one_by_one)
        _whole_files_only(settings)


def test_crash_in_a_batch_commit_leaves_whole_files_and_the_next_run_completes(tmp_path, feeds, monkeypatch):
    uninterrupted = _home(tmp_path, "uninterrupted")
    with connect_path(uninterrupted.work_db) as con:
        ingest_feeds(con, uninterrupted, feeds, batch_rows=700)

    settings = _home(tmp_path, "crashed")
    real = flows.spend.ingest.replace_feed_rows
    calls = []

    def crash_on_second(con, files):
        calls.append(len(files))
        if len(calls) == 2:
            raise Killed("killed inside the second batch's commit")
        return real(con, files)

    monkeypatch.setattr(flows.spend.ingest, "replace_feed_rows", crash_on_second)
    with connect_path(settings.work_db) as con, pytest.raises(Killed):
        ingest_feeds(con, settings, feeds, batch_rows=700)
    monkeypatch.undo()
    assert calls[0] > 1  # several files in a committed batch
    _whole_files_only(settings)
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        loaded = con.execute("SELECT count(*) FROM ops.spend_files WHERE status = 'loaded'").fetchone()[0]
    assert 0 < loaded < len(FILES)

    with connect_path(settings.work_db) as con:
        ingest_feeds(con, settings, feeds, batch_rows=700)
    after, expected = _tables(settings), _tables(uninterrupted)
    assert after["raw.spend_payments"] == expected["raw.spend_payments"]
    assert after["raw.spend_rejects"] == expected["raw.spend_rejects"]
    _whole_files_only(settings)


@pytest.mark.parametrize("batch_rows", [1, 10**9], ids=["the next batch", "the same batch"])
def test_a_file_moved_to_another_url_is_loaded_once(tmp_path, feed_dir, batch_rows):
    """Feed a's loaded bytes move to feed b while a gets new bytes: b must load them (a's go), as they
    would file by file - whether a's new version is in b's batch or in the batch before, which may still be
    being committed while b is read."""
    first, second = SAMPLE_SPEND / "birmingham_2025-04_to_2025-05.csv", SAMPLE_SPEND / "birmingham_2025-06_to_2025-07.csv"
    shutil.copyfile(first, feed_dir / "a.csv")
    settings = _home(tmp_path, "home")
    with connect_path(settings.work_db) as con:
        (a,) = write_registry(feed_dir, [("birmingham", "a.csv")])
        assert ingest_feed(con, settings, a).status == "loaded"
        shutil.copyfile(second, feed_dir / "a.csv")
        shutil.copyfile(first, feed_dir / "b.csv")
        feeds = write_registry(feed_dir, [("birmingham", "a.csv"), ("birmingham", "b.csv")])
        results = ingest_feeds(con, settings, feeds, batch_rows=batch_rows)
        assert [r.status for r in results] == ["loaded", "loaded"]
        total, distinct, files = con.execute(
            "SELECT count(*), count(DISTINCT (source_file, source_row)), count(DISTINCT file_sha256) "
            "FROM raw.spend_payments").fetchone()
    assert total == distinct == results[0].rows_loaded + results[1].rows_loaded and files == 2


def test_unchanged_local_file_is_not_read_again_and_any_write_is_seen(tmp_path, feed_dir, monkeypatch):
    path = feed_dir / "spend.csv"
    shutil.copyfile(SAMPLE_SPEND / "dudley_2025-04_to_2025-05.csv", path)
    (feed,) = write_registry(feed_dir, [("dudley", "spend.csv")])
    settings = _home(tmp_path, "home")
    real = flows.spend.ingest.fetch_feed
    reads = []
    monkeypatch.setattr(flows.spend.ingest, "fetch_feed", lambda *a, **k: reads.append(1) or real(*a, **k))

    def run():
        reads.clear()
        with connect_path(settings.work_db) as con:
            return ingest_feed(con, settings, feed), len(reads)

    first, read = run()
    assert (first.status, read) == ("loaded", 1)
    again, read = run()
    assert (again.status, again.file_sha256, read) == ("unchanged", first.file_sha256, 0)
    assert "not read again" in again.message
    assert run()[1] == 0  # the unchanged row keeps the signature for the next night

    # New bytes of the same size with the old modification time put back: the change time still moves.
    stat = path.stat()
    body = path.read_bytes()
    path.write_bytes(body.replace(b"Dudley", b"Dudlez", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    changed, read = run()
    assert (changed.status, read) == ("loaded", 1) and changed.file_sha256 != first.file_sha256

    # Touched only: read and hashed, found unchanged, and the new signature recorded.
    os.utime(path)
    touched, read = run()
    assert (touched.status, touched.message, read) == ("unchanged", "same SHA-256 as the loaded version", 1)
    assert run()[1] == 0
