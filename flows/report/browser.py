"""Headless Chromium for the report: the DOM after the charts' JavaScript ran, and screenshots.

Only the `chromium` binary is needed (Debian: `apt-get install chromium`); no driver library. Each call
uses a fresh profile directory, so runs never share state and nothing is written to the user's home.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without these, Chromium tries to reach Google services, which hangs on a machine with no internet.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")
# Virtual time lets plotly finish drawing before the DOM or the picture is taken.
VIRTUAL_TIME_MS = 5000
TIMEOUT_S = 180


class BrowserError(RuntimeError):
    """Chromium is missing or failed; the message says which and how."""


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _run(page: Path, extra: list[str], fragment: str = "") -> subprocess.CompletedProcess:
    binary = find_chromium()
    if binary is None:
        raise BrowserError("no Chromium found; install it (Debian/Ubuntu: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="procurement-chromium-") as profile:
        result = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}", *extra,
             page.resolve().as_uri() + (f"#{fragment}" if fragment else "")],
            capture_output=True, text=True, timeout=TIMEOUT_S,
        )
    if result.returncode != 0:
        raise BrowserError(f"chromium exited with {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result


def dump_dom(page: Path, fragment: str = "") -> str:
    """The page's DOM as HTML once its scripts ran; `fragment` is the address's part after `#`."""
    return _run(page, ["--dump-dom"], fragment).stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 900) -> Path:
    """A PNG of the first `width` x `height` pixels of the page."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(page, [f"--window-size={width},{height}", f"--screenshot={out.resolve()}"])
    if not out.exists() or out.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no screenshot to {out}")
    return out
