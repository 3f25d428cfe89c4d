"""A loopback HTTP server that speaks both OCDS search protocols and serves sample spend files.

`procurement run --sample` points the real client code at this server, so the offline run exercises
the same windows, cursors, landing and loading as a live one. Tests subclass `FeedServer` and override
`intercept` to inject faults.
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

from flows.sources.ocds import CONTRACTS_FINDER, FIND_A_TENDER, SERVICES

FEEDS_DIR = Path(__file__).parent / "feeds"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def load_releases(path: Path) -> list[dict[str, Any]]:
    """A JSON array of releases, ordered as a service orders them: by date, then id."""
    releases = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    return sorted(releases, key=lambda r: (_parse_time(r["date"]), str(r["id"])))


def sample_manifest(feeds_dir: Path = FEEDS_DIR) -> tuple[datetime, datetime]:
    """The date range the bundled sample notices cover."""
    manifest = json.loads((feeds_dir / "manifest.json").read_text())
    return _parse_time(manifest["published_from"]), _parse_time(manifest["published_to"])


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        releases: dict[str, list[dict[str, Any]]],
        spend_dir: Path | None = None,
        page_size: int | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ):
        super().__init__(address, _Handler)
        self.releases = releases
        self.dated_releases = {
            source: [(_parse_time(r["date"]), r) for r in items] for source, items in releases.items()
        }
        self.spend_dir = spend_dir
        self.page_size = page_size
        self.requests: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def from_feeds(cls, feeds_dir: Path = FEEDS_DIR, **kwargs: Any) -> "FeedServer":
        return cls(
            {source: load_releases(feeds_dir / source / "releases.json") for source in (CONTRACTS_FINDER, FIND_A_TENDER)},
            spend_dir=feeds_dir / "spend",
            **kwargs,
        )

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def intercept(self, handler: "_Handler") -> bool:
        """Tests override this to answer a request themselves; return True when answered."""
        return False

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)


_ROUTES = {
    SERVICES[CONTRACTS_FINDER].search_path: CONTRACTS_FINDER,
    SERVICES[FIND_A_TENDER].search_path: FIND_A_TENDER,
}


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, each keep-alive
    # response would wait for the client's delayed ACK (tens of milliseconds).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # the test output and the run log stay readable

    def send_body(self, status: int, body: bytes, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.server.record(self.path)
        if self.server.intercept(self):
            return
        parts = urlsplit(self.path)
        source = _ROUTES.get(parts.path)
        if source is not None:
            self._search(source, parts.path, parse_qs(parts.query))
        elif parts.path.startswith("/spend/") and self.server.spend_dir is not None:
            self._spend_file(parts.path.removeprefix("/spend/"))
        else:
            self.send_body(404, b"not found", "text/plain")

    def _search(self, source: str, path: str, query: dict[str, list[str]]) -> None:
        service = SERVICES[source]
        try:
            start = _parse_time(query[service.from_param][0])
            end = _parse_time(query[service.to_param][0])
            limit = int(query.get("limit", ["100"])[0])
            offset = int(query.get("cursor", ["0"])[0])
        except (KeyError, ValueError) as exc:
            self.send_body(400, json.dumps({"error": f"bad query: {exc}"}).encode())
            return
        size = min(limit, self.server.page_size or limit)
        matching = [r for when, r in self.server.dated_releases[source] if start <= when < end]
        page = matching[offset: offset + size]
        package: dict[str, Any] = {
            "uri": f"{self.server.base_url}{self.path}",
            "publishedDate": datetime.now(timezone.utc).isoformat(),
            "version": "1.1",
            "releases": page,
        }
        if offset + size < len(matching):
            next_query = {k: v[0] for k, v in query.items()}
            next_query["cursor"] = str(offset + size)
            package["links"] = {"next": f"{self.server.base_url}{path}?{urlencode(next_query, safe=',:')}"}
        self.send_body(200, json.dumps(package).encode("utf-8"))

    def _spend_file(self, name: str) -> None:
        files = {p.name: p for p in self.server.spend_dir.iterdir() if p.is_file()}
        if name not in files:  # only names listed in the folder: no path can climb out of it
            self.send_body(404, b"not found", "text/plain")
            return
        body = files[name].read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_body(200, body, "application/octet-stream", {"ETag": etag})


@contextmanager
def running(server: FeedServer) -> Iterator[FeedServer]:
    """Serve in a background thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
