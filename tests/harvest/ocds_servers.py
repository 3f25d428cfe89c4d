"""Loopback OCDS servers that speak the real protocols and inject the faults real services produce."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from flows.sample.server import FeedServer

FIXTURES = Path(__file__).parent.parent / "fixtures"
REAL_RELEASES_DIR = FIXTURES / "contracts_finder"


def real_releases() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(REAL_RELEASES_DIR.glob("*.json"))]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def make_release(ocid: str, release_id: str, date: str, **extra: Any) -> dict[str, Any]:
    return {"ocid": ocid, "id": release_id, "date": date, "tag": ["award"], "initiationType": "tender", **extra}


@dataclass
class Fault:
    """Answer matching requests `times` times with `respond(handler)` instead of the real page."""

    match: Callable[[str], bool]
    respond: Callable[[Any], None]
    times: int = 1


class FaultyFeedServer(FeedServer):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.faults: list[Fault] = []

    def intercept(self, handler: Any) -> bool:
        with self._lock:
            fault = next((f for f in self.faults if f.times > 0 and f.match(handler.path)), None)
            if fault is not None:
                fault.times -= 1
        if fault is None:
            return False
        fault.respond(handler)
        return True


def status_page(status: int, body: bytes = b"", content_type: str = "text/html",
                headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    return lambda handler: handler.send_body(status, body, content_type, headers)
