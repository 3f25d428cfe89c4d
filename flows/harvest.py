"""Harvest one OCDS service over a date range: fetch → land → load, window by window.

Each window's pages are fetched by following `links.next` exactly as given; every body is landed
before it is parsed, so an unreadable response is kept for inspection. The watermark advances only
over windows that completed with no earlier window missing, so a resumed harvest has no gaps; the
small overlap on resume costs nothing because releases already loaded are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import duckdb
import requests

from flows.config import Settings
from flows.http import FetchError, fetch, safe_url
from flows.landing import record, store
from flows.raw.ocds_releases import LandedPackage, load_releases
from flows.sources.ocds import CONTRACTS_FINDER, SERVICES, Service, UnreadableResponse, date_windows, decode_body, parse_package

log = logging.getLogger(__name__)

FIRST_RUN_LOOKBACK = timedelta(days=30)
RESUME_OVERLAP = timedelta(hours=1)
# A service that keeps answering with new cursors must not keep one window open forever.
MAX_PAGES_PER_WINDOW = 2000
MAX_EMPTY_PAGES_IN_A_ROW = 20
# A page of 100 releases is a few MB at most; a server sending more must not exhaust memory.
MAX_PAGE_BYTES = 64 * 1024 * 1024
WINDOWS_PER_COMMIT = 20

DDL = """
CREATE TABLE IF NOT EXISTS ops.watermarks (
    source        VARCHAR PRIMARY KEY,
    harvested_to  TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.harvest_windows (
    source            VARCHAR NOT NULL,
    window_from       TIMESTAMPTZ NOT NULL,
    window_to         TIMESTAMPTZ NOT NULL,
    status            VARCHAR NOT NULL,  -- ok | failed
    pages             INTEGER NOT NULL,
    releases_seen     INTEGER NOT NULL,
    releases_new      INTEGER NOT NULL,
    releases_rejected INTEGER NOT NULL,
    repairs           INTEGER NOT NULL,
    error             VARCHAR,
    landing_file      VARCHAR,  -- the body that could not be read, when that is the failure
    finished_at       TIMESTAMPTZ NOT NULL
);
"""


class SourceUnreachable(RuntimeError):
    """The service could not be reached at all; the message is one sentence for a person."""


class HarvestIncomplete(RuntimeError):
    """Some windows failed; those that succeeded are loaded and the watermark stops at the first gap."""

    def __init__(self, result: "HarvestResult", message: str):
        super().__init__(message)
        self.result = result


@dataclass
class WindowResult:
    window_from: datetime
    window_to: datetime
    status: str = "ok"
    pages: int = 0
    seen: int = 0
    new: int = 0
    rejected: int = 0
    repairs: int = 0
    error: str | None = None
    landing_file: str | None = None


@dataclass
class HarvestResult:
    source: str
    since: datetime
    until: datetime
    windows: list[WindowResult] = field(default_factory=list)
    watermark: datetime | None = None

    @property
    def failed(self) -> list[WindowResult]:
        return [w for w in self.windows if w.status != "ok"]

    @property
    def releases_new(self) -> int:
        return sum(w.new for w in self.windows)

    @property
    def releases_seen(self) -> int:
        return sum(w.seen for w in self.windows)

    @property
    def pages(self) -> int:
        return sum(w.pages for w in self.windows)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def get_watermark(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    row = con.execute("SELECT harvested_to FROM ops.watermarks WHERE source = ?", [source]).fetchone()
    return row[0].astimezone(timezone.utc) if row else None


def joined_watermark(
    current: datetime | None, window_from: datetime, window_to: datetime, range_start: datetime
) -> datetime | None:
    """The watermark after `window` succeeded: moved to its end only if that leaves no gap behind.

    The watermark only ever covers windows joined to it: the first window of a first run, or a
    window starting at or before the current watermark. It never moves back, so a backfill of an
    old range leaves the nightly resume point alone.
    """
    if current is None:
        return window_to if window_from == range_start else None
    return max(current, window_to) if window_from <= current else current


def _save(con: duckdb.DuckDBPyConnection, source: str, windows: list["WindowResult"],
          watermark: datetime | None) -> None:
    if windows:
        con.execute(
            """
            INSERT INTO ops.harvest_windows
            SELECT $source, unnest($from), unnest($to), unnest($status), unnest($pages), unnest($seen),
                   unnest($new), unnest($rejected), unnest($repairs), unnest($error), unnest($landing),
                   current_timestamp
            """,
            {"source": source, "from": [w.window_from for w in windows], "to": [w.window_to for w in windows],
             "status": [w.status for w in windows], "pages": [w.pages for w in windows],
             "seen": [w.seen for w in windows], "new": [w.new for w in windows],
             "rejected": [w.rejected for w in windows], "repairs": [w.repairs for w in windows],
             "error": [w.error for w in windows], "landing": [w.landing_file for w in windows]},
        ).fetchall()
    if watermark is not None:
        con.execute(
            """
            INSERT INTO ops.watermarks VALUES (?, ?, current_timestamp)
            ON CONFLICT (source) DO UPDATE SET
                harvested_to = greatest(ops.watermarks.harvested_to, excluded.harvested_to),
                updated_at = excluded.updated_at
            """,
            [source, watermark],
        ).fetchall()


def resolve_range(
    con: duckdb.DuckDBPyConnection,
    source: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The range to harvest: explicit dates win; otherwise resume from the watermark (or 30 days back)."""
    ensure_tables(con)
    now = now or datetime.now(timezone.utc)
    until = until or now
    if since is None:
        watermark = get_watermark(con, source)
        since = watermark - RESUME_OVERLAP if watermark else until - FIRST_RUN_LOOKBACK
    if since >= until:
        raise ValueError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until ({until:%Y-%m-%d %H:%M})")
    return since, until


def harvest_window(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    service: Service,
    base_url: str,
    window_from: datetime,
    window_to: datetime,
    session: requests.Session,
) -> WindowResult:
    """All pages of one window. FetchError from a service that cannot be reached propagates."""
    result = WindowResult(window_from, window_to)
    policy = service.retry_policy(settings.retry_wait_cap_s)
    url: str | None = service.search_url(base_url, window_from, window_to)
    visited: set[str] = set()
    empty_in_a_row = 0
    while url is not None:
        if url in visited:
            result.status, result.error = "failed", f"cursor loop: {safe_url(url)} was already fetched in this window"
            break
        if result.pages >= MAX_PAGES_PER_WINDOW:
            result.status, result.error = "failed", f"more than {MAX_PAGES_PER_WINDOW} pages in one window"
            break
        visited.add(url)
        fetched = fetch(url, policy, session=session, max_bytes=MAX_PAGE_BYTES)
        result.pages += 1
        landed = store(
            settings.home, service.source,
            [window_from.strftime("%Y"), window_from.strftime("%m"), window_from.strftime("%d")],
            f"{window_from:%Y%m%dT%H%M%S}_p{result.pages:04d}", "json", fetched,
            {"window_from": window_from.isoformat(), "window_to": window_to.isoformat(), "page": result.pages},
        )
        record(con, [landed])
        try:
            package = parse_package(decode_body(fetched.body))
        except UnreadableResponse as exc:
            result.status, result.error, result.landing_file = "failed", str(exc), landed.relative_path
            log.error("%s window %s: unreadable response kept at %s: %s",
                      service.label, window_from.isoformat(), landed.relative_path, exc)
            break
        result.repairs += len(package.repairs)
        # Parsed above for its next link and to keep an unreadable body; loaded from the landed file.
        count = load_releases(con, [LandedPackage(service.source, landed.path, landed.relative_path)])
        result.seen += count.seen
        result.new += count.new
        result.rejected += count.rejected
        empty_in_a_row = empty_in_a_row + 1 if count.seen == 0 else 0
        if empty_in_a_row > MAX_EMPTY_PAGES_IN_A_ROW and package.next_url:
            result.status, result.error = "failed", f"{empty_in_a_row} empty pages in a row, each with a next link"
            break
        url = package.next_url
    return result


def harvest(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    source: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    session: requests.Session | None = None,
    on_window: Callable[[WindowResult], None] | None = None,
    range_start: datetime | None = None,
) -> HarvestResult:
    """Harvest `source` over [since, until); raises SourceUnreachable or HarvestIncomplete at the end.

    `range_start` is where the whole harvest began when this call is one block of a longer range,
    so that a failed earlier block keeps later ones from moving the watermark past its gap.
    """
    ensure_tables(con)
    service = SERVICES[source]
    base_url = settings.contracts_finder_url if source == CONTRACTS_FINDER else settings.find_a_tender_url
    since, until = resolve_range(con, source, since, until)
    result = HarvestResult(source, since, until)
    session = session or requests.Session()
    range_start = range_start or since
    watermark = get_watermark(con, source)
    pending: list[WindowResult] = []

    # Windows are committed in batches: a DuckDB commit costs more than a loopback round trip, and
    # a batch lost to a crash is only harvested again. A failed window commits at once, so that
    # what it loaded before failing is kept.
    def commit() -> None:
        _save(con, source, pending, watermark)
        con.commit()
        pending.clear()

    con.begin()
    try:
        for window_from, window_to in date_windows(since, until, service.window):
            try:
                window = harvest_window(con, settings, service, base_url, window_from, window_to, session)
            except FetchError as exc:
                window = WindowResult(window_from, window_to, status="failed", error=str(exc))
                if exc.unreachable:
                    pending.append(window)
                    raise SourceUnreachable(
                        f"Could not reach {service.label} at {safe_url(base_url)} ({exc.reason}); "
                        f"nothing already loaded was lost, and `procurement run --sample` works offline."
                    ) from exc
            pending.append(window)
            result.windows.append(window)
            if window.status == "ok":
                watermark = joined_watermark(watermark, window_from, window_to, range_start)
            if window.status != "ok" or len(pending) >= WINDOWS_PER_COMMIT:
                commit()
                con.begin()
            if on_window:
                on_window(window)
    finally:
        commit()
    result.watermark = get_watermark(con, source)
    if result.failed:
        first = result.failed[0]
        resume = f"{result.watermark:%Y-%m-%d %H:%M}" if result.watermark else "the same start"
        raise HarvestIncomplete(
            result,
            f"{service.label}: {len(result.failed)} of {len(result.windows)} windows failed "
            f"(first {first.window_from:%Y-%m-%d %H:%M}: {first.error}); "
            f"{result.releases_new} new releases were loaded and the next run resumes from {resume}.",
        )
    return result
