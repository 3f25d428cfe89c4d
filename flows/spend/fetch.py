"""Getting a feed's bytes: http(s) with a size cap and a conditional GET, or a local file in an allowed folder."""

from __future__ import annotations

from datetime import datetime, timezone

import requests

from flows.http import Fetched, RetryPolicy, fetch, safe_url
from flows.spend.registry import Feed, is_allowed_path, url_scheme

# Big enough for a large council's yearly file; small enough that a wrong URL cannot fill the disk.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


class FeedError(ValueError):
    """A feed cannot be read for a reason that retrying will not fix (bad scheme, path, size)."""


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def read_local(feed: Feed, max_bytes: int) -> Fetched:
    path = feed.local_path
    if path is None:
        raise FeedError(f"{feed.url}: not a local path")
    if not is_allowed_path(path, feed.allowed_dirs):
        raise FeedError(f"{feed.url}: local path is outside the allowed feed folders")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FeedError(f"{feed.url}: file is {size:,} bytes, larger than the {max_bytes:,}-byte limit")
        body = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"{feed.url}: cannot be read ({exc.strerror or exc})") from None
    return Fetched(
        url=path.as_posix(), status=200, headers={}, body=body, fetched_at=datetime.now(timezone.utc), attempts=1
    )


def local_signature(feed: Feed) -> str | None:
    """What identifies a local feed file's version without reading it: size, modification and change
    times (ns) and inode. A write changes the change time, which no user call can set back, so an equal
    signature means the file was not written since (to the file system's timestamp resolution); a copy or
    a touch only costs a read and a hash. Taken before the file is read, so a write during the read shows
    as a change next time. None for a remote feed or a path that cannot be read now."""
    if feed.is_remote or feed.local_path is None or not is_allowed_path(feed.local_path, feed.allowed_dirs):
        return None
    try:
        stat = feed.local_path.stat()
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def fetch_feed(
    feed: Feed,
    policy: RetryPolicy,
    *,
    session: requests.Session | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Fetched:
    """The feed's bytes. For http(s) a 304 comes back as a Fetched with status 304 and an empty body.

    Raises FeedError for a scheme or path the project does not read, flows.http.FetchError when the
    server could not be reached or refused (retrying the task later may help).
    """
    scheme = url_scheme(feed.fetch_url or feed.url)
    if scheme in ("http", "https"):
        return fetch(
            feed.fetch_url or feed.url,
            policy,
            session=session,
            headers=conditional_headers(etag, last_modified),
            max_bytes=max_bytes,
            ok_statuses=frozenset({200, 304}),
        )
    if scheme:
        raise FeedError(f"{safe_url(feed.url)}: {scheme}: URLs are not accepted; use http(s) or a local path")
    return read_local(feed, max_bytes)
