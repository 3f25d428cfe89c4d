"""One feed file end to end: fetch, land as received, parse, load, record in the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import duckdb
import requests

from flows.config import Settings
from flows.http import Fetched, FetchError, RetryPolicy, safe_url
from flows.landing import LandedFile, land
from flows.spend.fast import stage_bulk
from flows.spend.fetch import DEFAULT_MAX_BYTES, FeedError, fetch_feed
from flows.spend.layout import LayoutError, Synonyms, load_synonyms, sniff_kind
from flows.spend.load import (
    LedgerRow, ensure_tables, insert_ledger, loaded_under_another_url, previous_version, replace_feed_rows,
)
from flows.spend.registry import Feed
from flows.spend.rows import parse_file

SOURCE_ID = "local_spend"


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


def _record(con: duckdb.DuckDBPyConnection, row: LedgerRow) -> FileResult:
    insert_ledger(con, row)
    return FileResult.from_ledger(row)


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
      row) and a `max_bytes` cap; a local path is read only from the registry's or the sample feed folder.
    - The bytes are landed under `$PROCUREMENT_HOME/landing/local_spend/<publisher_id>/`.
    - A 304, or the same SHA-256 as the version already loaded, records status 'unchanged' and adds nothing.
    - A new version of the same (publisher_id, url) replaces that version's rows (payments and rejects) in
      one transaction, so a republished file with extra months adds only the new rows net.
    - A layout that cannot be mapped records status 'rejected' with a message naming the file and the
      missing fields; a feed that cannot be read (missing local file, disallowed path) records 'failed'.
      Neither raises, so the other feeds still load.
    - Raises flows.http.FetchError only when an http(s) fetch fails (after recording 'fetch_failed'), so the
      caller can retry the task.
    `synonyms` defaults to seeds/spend_header_synonyms.csv; pass one loaded copy when ingesting many feeds.
    """
    ensure_tables(con)
    synonyms = synonyms or load_synonyms()
    previous = previous_version(con, feed)
    started = datetime.now(timezone.utc)
    base = {"publisher_id": feed.publisher_id, "url": feed.url, "ingested_at": started}
    try:
        fetched = fetch_feed(
            feed,
            retry_policy(settings),
            session=session,
            etag=previous.etag if previous else None,
            last_modified=previous.last_modified if previous else None,
            max_bytes=max_bytes,
        )
    except FetchError as exc:
        insert_ledger(con, LedgerRow(status="fetch_failed", message=str(exc), **base))
        raise
    except FeedError as exc:
        return _record(con, LedgerRow(status="failed", message=str(exc), **base))

    not_modified = fetched.status == 304
    kept = previous if previous is not None and not_modified else None
    common = {
        **base,
        "http_status": fetched.status if feed.is_remote else None,
        "etag": fetched.headers.get("etag") or (kept.etag if kept else None),
        "last_modified": fetched.headers.get("last-modified") or (kept.last_modified if kept else None),
    }

    def record(status: str, message: str, **fields) -> FileResult:
        return _record(con, LedgerRow(status=status, message=message, **common, **fields))

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
    else:
        sha = fetched.sha256
        if previous is not None and previous.status == "loaded" and previous.file_sha256 == sha:
            return record("unchanged", "same SHA-256 as the loaded version", source_file=previous.source_file,
                          file_sha256=sha)
        body = fetched.body
        source_file = _land(con, settings, feed, fetched).relative_path

    # The same bytes loaded for this publisher under another URL (a moved file, a second spelling of a
    # path): loading them again would count every payment twice and fail the build's key tests.
    other_url = loaded_under_another_url(con, feed, sha)
    if other_url is not None:
        return record("unchanged", f"same SHA-256 as the version loaded from {safe_url(other_url)}",
                      source_file=source_file, file_sha256=sha)

    # Ordinary lines of a CSV file are parsed in bulk by DuckDB; everything else row by row in Python.
    bulk = stage_bulk(con, body, synonyms)
    try:
        parsed = bulk.parsed if bulk is not None else parse_file(body, safe_url(feed.url), synonyms)
    except LayoutError as exc:
        return record("rejected", str(exc), source_file=source_file, file_sha256=sha)
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
    replace_feed_rows(con, feed, source_file, sha, parsed, ledger, bulk)
    return FileResult.from_ledger(ledger)


def _land(con: duckdb.DuckDBPyConnection, settings: Settings, feed: Feed, fetched: Fetched) -> LandedFile:
    kind = sniff_kind(fetched.body)
    return land(
        con,
        settings.home,
        SOURCE_ID,
        [feed.publisher_id],
        _stem(feed),
        "xls" if kind == "xls" else kind,
        fetched,
        {"publisher_id": feed.publisher_id, "registry_url": safe_url(feed.url), "declared_format": feed.format or None},
    )
