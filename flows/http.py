"""One polite HTTP GET for every source: retries, backoff, Retry-After, size and time limits.

The real services rate-limit in different ways (Contracts Finder answers 403 with an HTML page and
documents a five-minute wait; Find a Tender answers 429, often without Retry-After), so the waits are
a per-service `RetryPolicy`. `PROCUREMENT_RETRY_WAIT_S` caps every wait so tests run in seconds.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from typing import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

log = logging.getLogger(__name__)

USER_AGENT = "procurement-warehouse/0.1 (+open-source procurement data warehouse)"
RETRYABLE_STATUSES = frozenset({403, 408, 425, 429, 500, 502, 503, 504})
# A hostile or confused server must not be able to park the nightly job for hours.
LONGEST_HONOURED_RETRY_AFTER_S = 900.0
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A URL could not be fetched after every retry; the message is one sentence for a person."""

    def __init__(self, url: str, reason: str, unreachable: bool = False):
        super().__init__(f"{safe_url(url)}: {reason}")
        self.url = url
        self.reason = reason
        # True when no attempt got an HTTP answer: the service is down or the URL is wrong.
        self.unreachable = unreachable


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    # Documented waits for statuses that mean "slow down", in seconds.
    status_waits: Mapping[int, float] = field(default_factory=dict)
    backoff_base_s: float = 2.0
    backoff_max_s: float = 120.0
    # From PROCUREMENT_RETRY_WAIT_S: the longest wait between retries, whatever the server says.
    wait_cap_s: float | None = None

    def wait_before_retry(self, attempt: int, status: int | None, retry_after: float | None) -> float:
        if retry_after is not None:
            wait = min(retry_after, LONGEST_HONOURED_RETRY_AFTER_S)
        elif status in self.status_waits:
            wait = self.status_waits[status]
        else:
            wait = min(self.backoff_base_s * (2 ** (attempt - 1)), self.backoff_max_s)
        if self.wait_cap_s is not None:
            wait = min(wait, self.wait_cap_s)
        return max(wait, 0.0)


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    attempts: int

    @cached_property
    def sha256(self) -> str:
        # Computed once: the loaders compare it and landing names the file by it (~10 ms per 4 MB).
        return hashlib.sha256(self.body).hexdigest()


def safe_url(url: str) -> str:
    """The URL without credentials, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(when.timestamp() - now, 0.0)


def _describe(exc: Exception) -> str:
    """The innermost cause in a few words ("Connection refused", "timed out"), not a traceback."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "timed out", "Connection reset"):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__


class _Retryable(Exception):
    def __init__(
        self, reason: str, status: int | None = None, retry_after: float | None = None, connect: bool = False
    ):
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.connect = connect


def _get_once(
    session: requests.Session,
    url: str,
    headers: Mapping[str, str],
    timeout_s: float,
    deadline_s: float,
    max_bytes: int | None,
) -> tuple[str, requests.Response, bytes]:
    """One GET, following same-host redirects only, reading the body under size and time limits."""
    origin = urlsplit(url).netloc
    for _ in range(MAX_REDIRECTS + 1):
        prepared = session.prepare_request(requests.Request("GET", url, headers=dict(headers)))
        # requests re-quotes URLs (%7E becomes ~); cursors must go back exactly as the service gave them.
        prepared.url = url
        try:
            resp = session.send(prepared, timeout=timeout_s, stream=True, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(f"could not connect ({_describe(exc)})", connect=True) from exc
        if resp.is_redirect:
            target = urljoin(url, resp.headers.get("Location", ""))
            resp.close()
            if urlsplit(target).scheme not in ("http", "https") or urlsplit(target).netloc != origin:
                raise FetchError(url, f"redirected to another host ({safe_url(target)}), which is not followed")
            url = target
            continue
        break
    else:
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    started = time.monotonic()
    chunks: list[bytes] = []
    size = 0
    try:
        # read1 returns after a single receive. Reading whole 64 KiB chunks instead would check the
        # deadline only between chunks, so a server dripping a byte at a time (each read well inside
        # the socket timeout) could hold the run for hours; and size counts decompressed bytes.
        while chunk := resp.raw.read1(65536, decode_content=True):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                resp.close()
                raise FetchError(url, f"response larger than the {max_bytes:,}-byte limit")
            if time.monotonic() - started > deadline_s:
                resp.close()
                raise _Retryable(f"body still arriving after {deadline_s:g} s")
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        resp.close()
        raise _Retryable(f"connection broke while reading the body ({type(exc).__name__})") from exc
    return url, resp, b"".join(chunks)


def fetch(
    url: str,
    policy: RetryPolicy,
    *,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
    deadline_s: float = 300.0,
    max_bytes: int | None = None,
    ok_statuses: frozenset[int] = frozenset({200}),
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """GET `url`, retrying what the services use to mean "later"; raise FetchError otherwise.

    `ok_statuses` lets a caller accept e.g. 304 Not Modified for conditional GETs.
    """
    session = session or requests.Session()
    request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    last_reason = "no attempt made"
    ever_answered = False
    for attempt in range(1, policy.max_attempts + 1):
        try:
            final_url, resp, body = _get_once(session, url, request_headers, timeout_s, deadline_s, max_bytes)
            if resp.status_code in ok_statuses:
                return Fetched(
                    url=final_url,
                    status=resp.status_code,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=body,
                    fetched_at=datetime.now(timezone.utc),
                    attempts=attempt,
                )
            if resp.status_code not in RETRYABLE_STATUSES:
                raise FetchError(url, f"HTTP {resp.status_code} {resp.reason or ''}".strip())
            raise _Retryable(
                f"HTTP {resp.status_code}", resp.status_code, parse_retry_after(resp.headers.get("Retry-After"))
            )
        except _Retryable as exc:
            last_reason = str(exc)
            ever_answered = ever_answered or not exc.connect
            if attempt == policy.max_attempts:
                break
            wait = policy.wait_before_retry(attempt, exc.status, exc.retry_after)
            log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                safe_url(url), last_reason, attempt, policy.max_attempts - 1, wait,
            )
            sleep(wait)
    raise FetchError(url, f"{last_reason} after {policy.max_attempts} attempts", unreachable=not ever_answered)
