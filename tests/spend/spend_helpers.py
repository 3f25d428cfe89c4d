"""Helpers for the spend loader tests: registries in temp folders and a loopback HTTP server."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from flows.spend.registry import Feed, read_registry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "local_spend"


def write_registry(folder: Path, rows: list[tuple[str, str]], name: str = "registry.csv") -> list[Feed]:
    """A registry in `folder` with (publisher_id, url) rows; returns the validated feeds."""
    lines = ["publisher_id,publisher_name,lad_code,url,format"]
    lines += [f"{publisher},{publisher.title()} Council,E08000025,{url}," for publisher, url in rows]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_registry(path)


def copy_fixture(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copyfile(FIXTURES / name, target)
    return target


@dataclass
class Resource:
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200


@dataclass
class LoopbackServer:
    """A real threaded HTTP server on 127.0.0.1 honouring If-None-Match / If-Modified-Since."""

    resources: dict[str, Resource] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base_url: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def start_server() -> tuple[LoopbackServer, ThreadingHTTPServer, threading.Thread]:
    """Start a loopback server; the caller shuts it down."""
    state = LoopbackServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            resource = state.resources.get(self.path)
            if resource is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            not_modified = (resource.etag and self.headers.get("If-None-Match") == resource.etag) or (
                resource.last_modified and self.headers.get("If-Modified-Since") == resource.last_modified
            )
            self.send_response(304 if not_modified else resource.status)
            if resource.etag:
                self.send_header("ETag", resource.etag)
            if resource.last_modified:
                self.send_header("Last-Modified", resource.last_modified)
            body = b"" if not_modified else resource.body
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return state, server, thread
