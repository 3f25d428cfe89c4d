"""One feed file end to end: fetch, land as received, parse, load, record in the ledger."""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Callable, Sequence
from urllib.parse import urlsplit

import duckdb
import requests

from flows.config import Settings
from flows.http import Fetched, FetchError, RetryPolicy, safe_url
from flows.landing import LandedFile, record, store
from flows.spend.fast import BulkFile, PreparedCsv, drop_staged, layout_key, prepare_bulk, stage_group
from flows.spend.fetch import DEFAULT_MAX_BYTES, FeedError, fetch_feed, local_signature
from flows.spend.layout import LayoutError, Synonyms, load_synonyms, sniff_kind
from flows.spend.load import (
    LedgerRow, PreviousVersion, StagedFile, ensure_tables, insert_ledger, loaded_urls, previous_versions,
    replace_feed_rows,
)
from flows.spend.registry import Feed
from flows.spend.rows import ParsedFile, parse_file

SOURCE_ID = "local_spend"
# Payment lines per commit: a staged batch at once. A transaction that appends a row group's worth
# (122,880 rows) or more is written by DuckDB straight to compressed row groups; smaller ones go through
# the write-ahead log and are compressed again at the checkpoint. With DuckDB 2.0 the commits of 400,000
# left the table with about as many row groups as commits of 100,000 (13 against 12 for 1.3M lines) and
# the write took about half the CPU (2.4 against 4.3 CPU-s, checkpoint included); 1M lines in 300 files:
# 14.6 against 16.2 CPU-s, peak 480 MiB against 640 MiB, and the next night's spend stage no slower
# (0.68 against 0.74 CPU-s; an earlier session had measured that night 4 s slower at 10M after commits of
# 250,000, which these runs at 1M do not show).
COMMIT_ROWS = 400_000
# Data lines read before they are staged: the files are staged together, one read_csv, value map and
# leftover scan per layout (flows/spend/fast.stage_group), whose planning costs 5-15 ms a statement
# whatever their size, then committed COMMIT_ROWS at a time. 400,000 rather than 100,000: 1M lines in
# 300 files took 22.3 CPU-s instead of 27.0 (~150 MiB more in temp tables).
STAGE_ROWS = 400_000
# Bytes (bodies and their prepared UTF-8 lines) the reading thread may hold ahead of the loading thread:
# about a batch of files. It reads on while a batch is staged and committed (DuckDB's work, without the
# GIL); one file ahead left it idle for most of each commit and the loader then waited for every file of
# the next batch in turn, so the two threads ran one after the other.
READ_AHEAD_BYTES = 128 * 1024 * 1024
# DuckDB's threads while ingesting (a setting of the database, restored after): the ingest's own threads
# run the stagings and commits side by side, and one batch's statements on two threads took ~40% more CPU
# than on one (partitioned aggregates and inserts merged across threads) for little shorter a time.
DUCKDB_THREADS = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    """What happened to one feed file: status is loaded, unchanged, rejected or failed."""

    publisher_id: str
    url: str
    status: str
    message: str | None
    source_file: str | None
    file_sha256: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_skipped: int

    @classmethod
    def from_ledger(cls, row: LedgerRow) -> "FileResult":
        return cls(
            publisher_id=row.publisher_id, url=row.url, status=row.status, message=row.message,
            source_file=row.source_file, file_sha256=row.file_sha256, rows_read=row.rows_read,
            rows_loaded=row.rows_loaded, rows_rejected=row.rows_rejected, rows_skipped=row.rows_skipped,
        )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, wait_cap_s=settings.retry_wait_cap_s)


def _stem(feed: Feed) -> str:
    name = PurePosixPath(urlsplit(feed.url).path if feed.is_remote else feed.url.replace("\\", "/")).name
    return name.rsplit(".", 1)[0] or feed.publisher_id


@dataclass
class _Pending:
    """A CSV file prepared for the bulk path, staged with the batch's other files of its layout at commit."""

    index: int  # its place in the feeds
    feed: Feed
    prepared: PreparedCsv
    body: bytes
    source_file: str
    sha: str
    common: dict  # ledger fields known when it was read


@dataclass
class _Batch:
    """File versions parsed but not yet committed, and the ledger rows of the other outcomes."""

    synonyms: Synonyms
    raise_errors: bool
    commit_rows: int
    files: list[StagedFile] = field(default_factory=list)
    ledger_rows: list[LedgerRow] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    done: dict[int, FileResult] = field(default_factory=dict)  # outcomes of pending files, by index
    rows: int = 0  # payment lines staged, data lines of pending files
    groups: int = 0
    broken: bool = False  # a commit failed: the staged outcomes are gone, so nothing more may be committed
    landing: _Landing | None = None
    writer: _Writer | None = None
    # (publisher_id, sha) -> URLs loaded under (sorted): as read at the start, then as each batch handed
    # to the writer leaves them (it may still be committing one).
    loaded: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def record(self, row: LedgerRow) -> FileResult:
        self.ledger_rows.append(row)
        return FileResult.from_ledger(row)

    def holds(self, publisher_id: str, url: str) -> bool:
        return any((f.feed.publisher_id, f.feed.url) == (publisher_id, url) for f in [*self.files, *self.pending]) \
            or any((r.publisher_id, r.url) == (publisher_id, url) for r in self.ledger_rows)

    def url_with(self, publisher_id: str, sha: str) -> str | None:
        """The URL of a staged or pending file of this publisher with these bytes (a pending file's layout
        was found, so it loads)."""
        return next((f.feed.url for f in [*self.files, *self.pending]
                     if (f.feed.publisher_id, f.sha) == (publisher_id, sha)), None)

    def loaded_under_another_url(self, feed: Feed, sha: str) -> str | None:
        """The URL under which this publisher's file with these bytes is loaded (committed, or being
        committed), if not `feed.url`."""
        return next((url for url in self.loaded.get((feed.publisher_id, sha), ()) if url != feed.url), None)

    def now_loaded(self, files: list[StagedFile]) -> None:
        """Record in `loaded` what committing these file versions does: each replaces its feed's loaded
        versions (flows/spend/load.replace_feed_rows)."""
        for staged in files:
            publisher_id, url = staged.feed.publisher_id, staged.feed.url
            for (publisher, _), urls in self.loaded.items():
                if publisher == publisher_id and url in urls:
                    urls.remove(url)
            urls = self.loaded.setdefault((publisher_id, staged.sha), [])
            urls.append(url)
            urls.sort()

    def next_group(self) -> int:
        self.groups += 1
        return self.groups


class _Landing:
    """Files landed by the reading thread as it reads them: stored on disk there, and recorded in
    ops.landing_files in one statement before the files of each batch are committed (a statement per file
    cost ~5-7 ms of the reading thread, and a commit per file ~30 ms: the WAL's sync). The lock keeps the
    reading thread from adding to the list while it is taken. A cursor of its own, so recording does not
    depend on the state of the connection that stages (after an error, say)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.cursor = con.cursor()
        self.lock = threading.Lock()
        self.stored: list[LandedFile] = []

    def land(self, settings: Settings, feed: Feed, fetched: Fetched) -> str:
        landed = _store(settings, feed, fetched)
        with self.lock:
            self.stored.append(landed)
        return landed.relative_path

    def commit(self) -> None:
        """Record the files landed so far (they are on disk already; landing again is a no-op)."""
        with self.lock:
            stored, self.stored = self.stored, []
        record(self.cursor, stored)

    def close(self) -> None:
        self.cursor.close()


def _stage_pending(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """Stage the pending files, one group per layout; their outcomes join the batch and `done`."""
    groups: dict[tuple, list[_Pending]] = {}
    for item in batch.pending:
        groups.setdefault(layout_key(item.prepared), []).append(item)
    batch.pending = []
    for items in groups.values():
        _stage_items(con, batch, items)


def _stage_items(con: duckdb.DuckDBPyConnection, batch: _Batch, items: list[_Pending]) -> None:
    try:
        bulks = stage_group(con, batch.next_group(), [item.prepared for item in items])
    except Exception as exc:
        if batch.raise_errors:
            raise
        if len(items) > 1:  # find the file that fails; the others load
            for item in items:
                _stage_items(con, batch, [item])
        else:
            batch.done[items[0].index] = _unexpected(batch, items[0].feed, exc)
        return
    for item, bulk in zip(items, bulks):
        try:
            batch.done[item.index] = _bulk_outcome(batch, item, bulk)
        except Exception as exc:
            if batch.raise_errors:
                raise
            batch.done[item.index] = _unexpected(batch, item.feed, exc)


def _unexpected(batch: _Batch, feed: Feed, exc: Exception) -> FileResult:
    log.exception("%s %s: unexpected error", feed.publisher_id, safe_url(feed.url))
    return batch.record(LedgerRow(
        publisher_id=feed.publisher_id, url=feed.url, status="failed",
        message=f"unexpected error: {type(exc).__name__}: {exc}", ingested_at=datetime.now(timezone.utc)))


def _commit(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """Record the batch's landed files, stage its pending files and hand it to the writer (which commits
    its other outcomes, then its file versions, one transaction each, once the batch before is
    committed); the batch is emptied."""
    batch.landing.commit()
    if batch.pending:
        _stage_pending(con, batch)
    files, ledger_rows, done = batch.files, batch.ledger_rows, batch.done
    batch.files, batch.ledger_rows, batch.done, batch.rows = [], [], {}, 0
    _wait(batch)
    batch.now_loaded(files)
    batch.writer.submit(_write, ledger_rows, _commits(files, batch.commit_rows), done)


def _flush(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """_commit, and wait until it is committed."""
    _commit(con, batch)
    _wait(batch)


def _wait(batch: _Batch) -> None:
    """Wait for the batch handed to the writer; its staged files' outcomes join `done`."""
    try:
        batch.done.update(batch.writer.wait())
    except BaseException:
        batch.broken = True
        raise


def _write(con: duckdb.DuckDBPyConnection, ledger_rows: list[LedgerRow], commits: list[list[StagedFile]],
           done: dict[int, FileResult]) -> dict[int, FileResult]:
    """Commit a staged batch: its other outcomes, then its file versions; its staged tables are dropped."""
    try:
        if ledger_rows:
            con.execute("BEGIN TRANSACTION")
            try:
                insert_ledger(con, *ledger_rows)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        for files in commits:
            replace_feed_rows(con, files)
    finally:
        drop_staged(con, {staged.bulk.group for files in commits for staged in files if staged.bulk is not None})
    return done


class _Writer:
    """Commits the staged batches in turn on a cursor of its own, in a thread of its own: DuckDB inserts
    one batch (native code, without the GIL) while the loading thread stages the next on its connection
    and the reading thread reads on, so both cores stay busy. One batch at a time."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.cursor = con.cursor()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spend-write")
        self._job: Future | None = None

    def submit(self, write: Callable[..., dict[int, FileResult]], *args) -> None:
        assert self._job is None, "wait for the batch before"
        self._job = self._pool.submit(write, self.cursor, *args)

    def wait(self) -> dict[int, FileResult]:
        """The outcomes of the batch handed over last (raises what committing it raised)."""
        job, self._job = self._job, None
        return job.result() if job is not None else {}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.cursor.close()


def _commits(files: list[StagedFile], rows: int) -> list[list[StagedFile]]:
    """Consecutive files, cut once at least `rows` payment lines are together."""
    out, current, lines = [], [], 0
    for staged in files:
        current.append(staged)
        lines += staged.ledger.rows_loaded
        if lines >= rows:
            out.append(current)
            current, lines = [], 0
    return out + [current] if current else out


def ingest_feeds(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feeds: Sequence[Feed],
    *,
    session: requests.Session | None = None,
    synonyms: Synonyms | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    batch_rows: int = COMMIT_ROWS,
    on_result: Callable[[Feed, FileResult], None] | None = None,
    raise_errors: bool = False,
) -> list[FileResult]:
    """ingest_feed for every feed in order, the next files read while these load; results in feed order.

    Three threads: one reads (fetches, lands, lays out) the next files, this one stages a batch's bulk lines
    in DuckDB, and a writer commits the batch staged before (one batch at a time). Files are read until
    STAGE_ROWS (or `batch_rows`) lines wait, staged together, and committed together once `batch_rows`
    payment lines are staged (and at the end; see COMMIT_ROWS): each commit is
    one transaction, so a crash leaves every file of a batch wholly loaded and logged or not at all (the
    next run loads the rest); the files landed so far (the reading thread lands each new version as it
    reads it) are recorded just before. Outcomes without rows (unchanged, rejected, failed) wait for the
    next commit, so a night of unchanged files costs one insert.
    `on_result(feed, result)` is called in feed order as each file's outcome is known (a CSV file's
    when its batch is committed); its outcome is committed with its batch.

    One feed's failure does not stop the others: a failed fetch is recorded as 'fetch_failed' (retry
    those feeds with ingest_feed) and an unexpected error as 'failed' with the error, and logged. With
    `raise_errors` both propagate instead, after the files before are committed (as ingest_feed does).
    """
    ensure_tables(con)
    synonyms = synonyms or load_synonyms()
    previous = previous_versions(con, feeds)
    batch = _Batch(synonyms, raise_errors, batch_rows, landing=_Landing(con), writer=_Writer(con),
                   loaded=loaded_urls(con))
    results: list[FileResult | None] = []  # None while a file waits in the batch
    reported = 0

    def settle() -> None:
        """Results of the files staged at a commit; on_result in feed order for all known so far."""
        nonlocal reported
        for index, result in batch.done.items():
            results[index] = result
        batch.done.clear()
        while reported < len(results) and results[reported] is not None:
            if on_result is not None:
                on_result(feeds[reported], results[reported])
            reported += 1

    def read(feed: Feed) -> _Read:
        return _read(settings, feed, previous.get((feed.publisher_id, feed.url)), synonyms, session, max_bytes,
                     batch.landing)

    # One thread reads, hashes, lands and lays out the next files (Python, holding the GIL, and the landing
    # insert) while DuckDB stages and commits these (native code, without it) on two more: the three keep
    # both cores busy, so each DuckDB statement runs on its own thread (DUCKDB_THREADS).
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute("SET threads = ?", [DUCKDB_THREADS])
    reads = _ReadAhead(read, feeds, READ_AHEAD_BYTES)
    try:
        for index, feed in enumerate(feeds):
            key = (feed.publisher_id, feed.url)
            try:
                found = reads.next()
                if batch.holds(*key):  # the same feed twice: its earlier outcome must be committed first
                    _flush(con, batch)
                    previous = {**previous, **previous_versions(con, [feed])}
                    found = read(feed)
                result = _ingest(con, settings, feed, previous.get(key), batch, found, index)
            except FetchError as exc:
                if raise_errors:
                    _flush(con, batch)
                    raise
                result = FileResult(feed.publisher_id, feed.url, "fetch_failed", str(exc), None, None, 0, 0, 0, 0)
            except Exception as exc:
                if batch.broken:  # a commit failed, so its files are not loaded: stop, do not go on
                    raise
                if raise_errors:
                    _flush(con, batch)
                    raise
                result = _unexpected(batch, feed, exc)
            results.append(result)
            if batch.rows >= max(batch_rows, STAGE_ROWS):
                _commit(con, batch)
            settle()
        _flush(con, batch)
        settle()
        drop_staged(con)  # groups whose files all went to parse_file
    except BaseException:
        reads.close()
        try:
            batch.writer.wait()
        except BaseException:
            log.exception("spend ingest: committing the last batch failed as well")
        drop_staged(con)
        batch.landing.commit()
        raise
    finally:
        reads.close()
        batch.writer.close()
        batch.landing.close()
        con.execute("SET threads = ?", [threads])
    return results


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed: Feed,
    *,
    session: requests.Session | None = None,
    synonyms: Synonyms | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FileResult:
    """Fetch, land, parse and load one registry row; return what happened, as recorded in ops.spend_files.

    - An http(s) feed is fetched with a conditional GET (ETag / Last-Modified from the feed's last ledger
      row) and a `max_bytes` cap; a local path is read only from the registry's or the sample feed folder,
      and not at all when its size, times and inode are those of the version loaded last
      (flows/spend/fetch.local_signature).
    - The bytes are landed under `$PROCUREMENT_HOME/landing/local_spend/<publisher_id>/`.
    - A 304, the same local file or the same SHA-256 as the version already loaded records status
      'unchanged' and adds nothing.
    - A new version of the same (publisher_id, url) replaces that version's rows (payments and rejects) in
      one transaction, so a republished file with extra months adds only the new rows net.
    - A layout that cannot be mapped records status 'rejected' with a message naming the file and the
      missing fields; a feed that cannot be read (missing local file, disallowed path) records 'failed'.
      Neither raises, so the other feeds still load.
    - Raises flows.http.FetchError only when an http(s) fetch fails (after recording 'fetch_failed'), so the
      caller can retry the task.
    `synonyms` defaults to seeds/spend_header_synonyms.csv; pass one loaded copy when ingesting many feeds.
    Many feeds: ingest_feeds, which commits several files per transaction.
    """
    (result,) = ingest_feeds(con, settings, [feed], session=session, synonyms=synonyms, max_bytes=max_bytes,
                             raise_errors=True)
    return result


class _ReadAhead:
    """The feeds' reads, in order, on one thread that runs ahead of the caller by up to `budget` bytes
    of what it has read and the caller has not taken yet (next())."""

    def __init__(self, read: Callable[[Feed], _Read], feeds: Sequence[Feed], budget: int):
        self._read = read
        self._budget = budget
        self._waiting = 0
        self._closed = False
        self._changed = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spend-read")
        self._futures = deque(self._pool.submit(self._one, feed) for feed in feeds)

    def _one(self, feed: Feed) -> _Read:
        with self._changed:
            self._changed.wait_for(lambda: self._waiting < self._budget or self._closed)
            if self._closed:
                raise CancelledError
        found = self._read(feed)
        with self._changed:
            self._waiting += found.size
        return found

    def next(self) -> _Read:
        """The next feed's read (raises what reading it raised)."""
        found = self._futures.popleft().result()
        with self._changed:
            self._waiting -= found.size
            self._changed.notify_all()
        return found

    def close(self) -> None:
        """Stop reading ahead; returns once the read under way has ended."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=True)


@dataclass
class _Read:
    """What was found for one feed before any database work (in the reading thread)."""

    signature: str | None  # of a local file, taken before reading it
    unchanged: bool = False  # the same local file as the loaded version: not read
    fetched: Fetched | None = None
    error: Exception | None = None  # FetchError or FeedError from fetch_feed
    prepared: PreparedCsv | None = None  # for the bulk path
    parsed: ParsedFile | None = None  # read by parse_file when the bulk path does not take the file
    layout_error: LayoutError | None = None
    source_file: str | None = None  # where a new version was landed

    @property
    def size(self) -> int:
        """Bytes it holds (the body, and the lines prepared for the bulk path)."""
        return (len(self.fetched.body) if self.fetched is not None else 0) + \
            (len(self.prepared.utf8) if self.prepared is not None else 0)


def _read(settings: Settings, feed: Feed, previous: PreviousVersion | None, synonyms: Synonyms,
          session: requests.Session | None, max_bytes: int, landing: _Landing) -> _Read:
    """The feed's bytes; a new version (neither a 304 nor the loaded version's SHA-256) is landed and
    parsed."""
    signature = local_signature(feed)
    loaded = previous if previous is not None and previous.status == "loaded" else None
    if signature is not None and loaded is not None and loaded.local_stat == signature:
        return _Read(signature, unchanged=True)
    try:
        fetched = fetch_feed(
            feed,
            retry_policy(settings),
            session=session,
            etag=previous.etag if previous else None,
            last_modified=previous.last_modified if previous else None,
            max_bytes=max_bytes,
        )
    except (FetchError, FeedError) as exc:
        return _Read(signature, error=exc)
    found = _Read(signature, fetched=fetched)
    if fetched.status != 304 and (loaded is None or loaded.file_sha256 != fetched.sha256):
        found.source_file = landing.land(settings, feed, fetched)
        _parse(found, fetched.body, feed, synonyms)
    return found


def _parse(found: _Read, body: bytes, feed: Feed, synonyms: Synonyms) -> None:
    """Ordinary lines of a CSV file are parsed in bulk by DuckDB (prepared here); everything else row by
    row in Python."""
    found.prepared = prepare_bulk(body, synonyms)
    if found.prepared is None:
        try:
            found.parsed = parse_file(body, safe_url(feed.url), synonyms)
        except LayoutError as exc:
            found.layout_error = exc


def _ingest(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed: Feed,
    previous: PreviousVersion | None,
    batch: _Batch,
    found: _Read,
    index: int,
) -> FileResult | None:
    """One feed: its outcome joins `batch` (a loaded file version staged, any other outcome as a ledger
    row); None when it waits in the batch for the bulk path (its outcome is in batch.done after a commit)."""
    started = datetime.now(timezone.utc)
    base = {"publisher_id": feed.publisher_id, "url": feed.url, "ingested_at": started}
    signature = found.signature
    if found.unchanged:
        return batch.record(LedgerRow(
            status="unchanged", message="same size, times and inode as the loaded local file (not read again)",
            source_file=previous.source_file, file_sha256=previous.file_sha256, local_stat=signature, **base))
    if isinstance(found.error, FetchError):
        _wait(batch)
        insert_ledger(con, LedgerRow(status="fetch_failed", message=str(found.error), **base))
        raise found.error
    if found.error is not None:
        return batch.record(LedgerRow(status="failed", message=str(found.error), **base))
    fetched = found.fetched

    not_modified = fetched.status == 304
    kept = previous if previous is not None and not_modified else None
    common = {
        **base,
        "http_status": fetched.status if feed.is_remote else None,
        "etag": fetched.headers.get("etag") or (kept.etag if kept else None),
        "last_modified": fetched.headers.get("last-modified") or (kept.last_modified if kept else None),
        "local_stat": signature,
    }

    def record(status: str, message: str, **fields) -> FileResult:
        return batch.record(LedgerRow(status=status, message=message, **common, **fields))

    if not_modified:
        if previous is None or previous.source_file is None:
            return record("failed", "server answered 304 but no earlier version was landed")
        source_file, sha = previous.source_file, previous.file_sha256
        if previous.status == "loaded":
            return record("unchanged", "HTTP 304 Not Modified", source_file=source_file, file_sha256=sha)
        # The earlier version was rejected; the synonyms may have grown since, so read the landed copy again.
        try:
            body = (settings.home / source_file).read_bytes()
        except OSError as exc:
            return record("failed", f"server answered 304 but the landed copy {source_file} cannot be read "
                                    f"({exc.strerror or exc})")
        _parse(found, body, feed, batch.synonyms)
    else:
        sha = fetched.sha256
        if previous is not None and previous.status == "loaded" and previous.file_sha256 == sha:
            return record("unchanged", "same SHA-256 as the loaded version", source_file=previous.source_file,
                          file_sha256=sha)
        body, source_file = fetched.body, found.source_file

    # The same bytes loaded for this publisher under another URL (a moved file, a second spelling of a
    # path): loading them again would count every payment twice and fail the build's key tests.
    other_url = batch.url_with(feed.publisher_id, sha) or batch.loaded_under_another_url(feed, sha)
    if other_url is not None and batch.holds(feed.publisher_id, other_url):
        # That feed's version in this batch replaces the loaded one: decide on the state its commit leaves.
        _commit(con, batch)
        other_url = batch.loaded_under_another_url(feed, sha)
    if other_url is not None:
        return record("unchanged", f"same SHA-256 as the version loaded from {safe_url(other_url)}",
                      source_file=source_file, file_sha256=sha)

    if found.prepared is not None:
        batch.pending.append(_Pending(index, feed, found.prepared, body, source_file, sha, common))
        batch.rows += found.prepared.lines
        return None
    return _outcome(batch, feed, common, source_file, sha, found.parsed, None, found.layout_error)


def _bulk_outcome(batch: _Batch, item: _Pending, bulk: BulkFile | None) -> FileResult:
    """A pending file staged by the bulk path, or read by parse_file when it declined (bulk None)."""
    parsed, layout_error = (bulk.parsed if bulk is not None else None), None
    if bulk is None:
        try:
            parsed = parse_file(item.body, safe_url(item.feed.url), batch.synonyms)
        except LayoutError as exc:
            layout_error = exc
    return _outcome(batch, item.feed, item.common, item.source_file, item.sha, parsed, bulk, layout_error)


def _outcome(batch: _Batch, feed: Feed, common: dict, source_file: str, sha: str, parsed: ParsedFile | None,
             bulk: BulkFile | None, layout_error: LayoutError | None) -> FileResult:
    if layout_error is not None:
        return batch.record(LedgerRow(status="rejected", message=str(layout_error), source_file=source_file,
                                      file_sha256=sha, **common))
    ledger = LedgerRow(
        status="loaded",
        message=None,
        source_file=source_file,
        file_sha256=sha,
        rows_loaded=len(parsed.payments) + (bulk.loaded if bulk is not None else 0),
        rows_rejected=len(parsed.rejects),
        skipped_blank=parsed.skipped_blank,
        skipped_total=parsed.skipped_total,
        skipped_header=parsed.skipped_header,
        header_row=parsed.header_row,
        file_kind=parsed.kind,
        encoding=parsed.encoding,
        sheet=parsed.sheet,
        **common,
    )
    batch.files.append(StagedFile(feed, source_file, sha, parsed, ledger, bulk))
    batch.rows += len(parsed.payments)
    return FileResult.from_ledger(ledger)


def _store(settings: Settings, feed: Feed, fetched: Fetched) -> LandedFile:
    kind = sniff_kind(fetched.body)
    return store(
        settings.home,
        SOURCE_ID,
        [feed.publisher_id],
        _stem(feed),
        "xls" if kind == "xls" else kind,
        fetched,
        {"publisher_id": feed.publisher_id, "registry_url": safe_url(feed.url), "declared_format": feed.format or None},
    )
