"""The OCDS client for Contracts Finder and Find a Tender (contract section 1).

Both services return OCDS release packages and page with a `links.next` cursor. What differs is
described by a `Service`: the search path and its date parameters, the longest safe date window (long
windows silently miss releases), and how each signals "slow down". This module only speaks HTTP and
JSON; landing and loading are the harvest's job.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping
from urllib.parse import urlencode

from flows.http import RetryPolicy

CONTRACTS_FINDER = "contracts_finder"
FIND_A_TENDER = "find_a_tender"

# Contracts Finder's search returns every stage we analyse when asked for them by name.
CONTRACTS_FINDER_STAGES = "planning,tender,award"


@dataclass(frozen=True)
class Service:
    source: str
    label: str
    url_setting: str
    search_path: str
    from_param: str
    to_param: str
    window: timedelta
    status_waits: Mapping[int, float] = field(default_factory=dict)
    extra_params: Mapping[str, str] = field(default_factory=dict)

    def search_url(self, base_url: str, start: datetime, end: datetime, limit: int = 100) -> str:
        params = {
            self.from_param: format_timestamp(start),
            self.to_param: format_timestamp(end),
            **self.extra_params,
            "limit": str(limit),
        }
        return f"{base_url}{self.search_path}?{urlencode(params, safe=',:')}"

    def retry_policy(self, wait_cap_s: float | None) -> RetryPolicy:
        return RetryPolicy(status_waits=dict(self.status_waits), wait_cap_s=wait_cap_s)


SERVICES: dict[str, Service] = {
    CONTRACTS_FINDER: Service(
        source=CONTRACTS_FINDER,
        label="Contracts Finder",
        url_setting="CONTRACTS_FINDER_URL",
        search_path="/Published/Notices/OCDS/Search",
        from_param="publishedFrom",
        to_param="publishedTo",
        window=timedelta(days=15),
        # Rate limiting is a 403 HTML page whose documented wait is five minutes; 429 is seen too.
        status_waits={403: 300.0, 429: 300.0},
        extra_params={"stages": CONTRACTS_FINDER_STAGES},
    ),
    FIND_A_TENDER: Service(
        source=FIND_A_TENDER,
        label="Find a Tender",
        url_setting="FIND_A_TENDER_URL",
        search_path="/api/1.0/ocdsReleasePackages",
        from_param="updatedFrom",
        to_param="updatedTo",
        window=timedelta(hours=6),
        # "12 request limit in 2 minute", usually without Retry-After: wait out a full period.
        status_waits={429: 120.0},
    ),
}


def format_timestamp(value: datetime) -> str:
    """YYYY-MM-DDTHH:MM:SS in UTC, the form both services accept."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def date_windows(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive [from, to) windows of at most `size` covering [start, end)."""
    cursor = start
    while cursor < end:
        upper = min(cursor + size, end)
        yield cursor, upper
        cursor = upper


class UnreadableResponse(ValueError):
    """A body that is not an OCDS release package even after repair."""


def decode_body(body: bytes) -> str:
    """UTF-8 (BOM allowed), else ISO-8859-1, which decodes any byte sequence."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("iso-8859-1")


# Strings are matched first so that digits inside them are never touched.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?: \d{3})*(?:\.\d+)?(?:[eE][+-]?\d+)?')


def _repair_number(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.startswith('"'):
        return token
    sign = "-" if token.startswith("-") else ""
    digits = token.lstrip("-").replace(" ", "")
    split = re.search(r"[.eE]", digits)
    whole, rest = (digits[: split.start()], digits[split.start():]) if split else (digits, "")
    return sign + (whole.lstrip("0") or "0") + rest


@dataclass
class ParsedPackage:
    releases: list[dict[str, Any]]
    next_url: str | None
    repairs: list[str]


def parse_package(text: str) -> ParsedPackage:
    """Parse a release package, repairing the invalid numbers Find a Tender emits.

    Numbers that overflow a double (`1e9999`) become null: no real amount is that large and storing
    infinity would poison every sum. Numbers with leading zeros or space-separated thousands
    (` 000,`) are rewritten as the number they spell.
    """
    repairs: list[str] = []

    def finite_or_null(literal: str) -> float | None:
        value = float(literal)
        if math.isfinite(value):
            return value
        repairs.append(f"non-finite number {literal[:40]} set to null")
        return None

    def constant_to_null(name: str) -> None:
        repairs.append(f"{name} set to null")
        return None

    def load(s: str) -> Any:
        return json.loads(s, parse_float=finite_or_null, parse_constant=constant_to_null)

    try:
        package = load(text)
    except json.JSONDecodeError as first_error:
        repaired = _JSON_TOKEN.sub(_repair_number, text)
        repairs.clear()  # the failed first pass may have noted repairs it then parsed no further
        try:
            package = load(repaired)
        except json.JSONDecodeError:
            snippet = text[max(first_error.pos - 30, 0): first_error.pos + 30].replace("\n", " ")
            raise UnreadableResponse(
                f"not valid JSON ({first_error.msg} at character {first_error.pos}, near {snippet!r})"
            ) from None
        repairs.append("invalid JSON numbers rewritten")
    if not isinstance(package, dict) or not isinstance(package.get("releases"), list):
        raise UnreadableResponse("JSON without a 'releases' list: not an OCDS release package")
    links = package.get("links")
    next_url = links.get("next") if isinstance(links, dict) else None
    if next_url is not None and not (isinstance(next_url, str) and next_url.startswith(("http://", "https://"))):
        raise UnreadableResponse(f"links.next is not an http(s) URL: {str(next_url)[:200]!r}")
    return ParsedPackage(releases=package["releases"], next_url=next_url or None, repairs=repairs)
