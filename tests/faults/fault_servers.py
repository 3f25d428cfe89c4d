"""The sample loopback server with scripted network faults: resets, drips, cut bodies, lies in 200s."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from typing import Any, Callable

from flows.sample.server import FeedServer

Respond = Callable[[Any], None]


class ScriptedFeedServer(FeedServer):
    """Answers a matching request with a fault, `times` times; everything else as the sample server."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.scripted: list[list] = []
        self.stop = threading.Event()

    def add(self, match: Callable[[str], bool], respond: Respond, times: int = 1) -> None:
        self.scripted.append([match, respond, times])

    def intercept(self, handler: Any) -> bool:
        with self._lock:
            entry = next((e for e in self.scripted if e[2] > 0 and e[0](handler.path)), None)
            if entry is not None:
                entry[2] -= 1
        if entry is None:
            return False
        entry[1](handler)
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the faults break connections on purpose


def _headers(handler: Any, length: int, content_type: str = "application/json") -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(length))
    handler.end_headers()
    handler.wfile.flush()


def reset_mid_body(body: bytes) -> Respond:
    """Half the body, then a TCP reset (SO_LINGER 0)."""

    def respond(handler: Any) -> None:
        _headers(handler, len(body))
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True

    return respond


def cut_short(body: bytes) -> Respond:
    """Content-Length of the whole body, half of it sent, then a clean close."""

    def respond(handler: Any) -> None:
        _headers(handler, len(body))
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    return respond


def drip(body: bytes, every_s: float = 0.05) -> Respond:
    """The body a byte at a time, each byte well inside any socket timeout."""

    def respond(handler: Any) -> None:
        _headers(handler, len(body))
        for byte in body:
            try:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(every_s)

    return respond


def complete(body: bytes, content_type: str = "application/json", status: int = 200,
             headers: dict[str, str] | None = None) -> Respond:
    """A well-formed HTTP response whose body is whatever the test says (cut JSON, an HTML page...)."""
    return lambda handler: handler.send_body(status, body, content_type, headers)


HTML_ERROR_PAGE = b"<!DOCTYPE html><html><body><h1>Sorry, something went wrong</h1></body></html>"


def empty_pages_with_next(server: FeedServer) -> Respond:
    """A page with no releases and a new next link every time (not a loop: each cursor differs)."""
    count = {"n": 0}

    def respond(handler: Any) -> None:
        count["n"] += 1
        sep = "&" if "?" in handler.path else "?"
        body = {"releases": [], "links": {"next": f"{server.base_url}{handler.path.split('&empty=')[0]}"
                                                  f"{sep}empty={count['n']}"}}
        handler.send_body(200, json.dumps(body).encode())

    return respond


def same_next_link(server: FeedServer) -> Respond:
    """A page whose next link is the page itself."""
    return lambda handler: handler.send_body(
        200, json.dumps({"releases": [], "links": {"next": server.base_url + handler.path}}).encode())


def next_link_to(url: str) -> Respond:
    return lambda handler: handler.send_body(200, json.dumps({"releases": [], "links": {"next": url}}).encode())
