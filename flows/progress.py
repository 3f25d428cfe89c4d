"""Progress of long work (harvest windows, spend files), shown where someone is watching.

`progress(description, total, key)` yields a `Progress`; each `advance()` moves

- a bar on stderr (rich, already installed with Prefect) when stderr is a terminal, and
- a Prefect progress artifact (0-100 %, under `key`, in the UI's Artifacts page and on the run)
  when called inside a flow or task run.

Neither is required: outside a terminal and outside Prefect it only counts. A failure to reach the
Prefect API is logged once and never stops the work it reports on.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from contextlib import contextmanager
from typing import IO, Iterator
from uuid import UUID

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

log = logging.getLogger(__name__)

# A Find a Tender month is 120 windows: the UI is updated on whole per cent, at most once a second.
MIN_UPDATE_INTERVAL_S = 1.0
ARTIFACT_KEY = re.compile(r"^[a-z0-9-]+$")


def _in_prefect_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


class Progress:
    """Steps done out of `total`; thread-safe, and never counts past the total (a retried step)."""

    def __init__(self, description: str, total: int, key: str | None = None, stream: IO[str] | None = None,
                 terminal: bool | None = None, prefect: bool | None = None):
        if key is not None and not ARTIFACT_KEY.match(key):
            raise ValueError(f"progress key {key!r} may hold only lower-case letters, digits and dashes")
        self.description = description
        self.total = max(total, 0)
        self.done = 0
        self.key = key
        self._lock = threading.Lock()
        self._artifact_id: UUID | None = None
        self._last_sent: tuple[int, float] | None = None
        self._api_failed = False
        stream = stream if stream is not None else sys.stderr
        show_bar = stream.isatty() if terminal is None else terminal
        self._bar: RichProgress | None = None
        if show_bar:
            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                                     console=Console(file=stream, force_terminal=True), transient=False)
            self._task = self._bar.add_task(description, total=self.total, detail="")
            self._bar.start()
        self._prefect = _in_prefect_run() if prefect is None else prefect
        if self._prefect:
            self._send(force=True)

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.done / self.total

    def advance(self, steps: int = 1, detail: str = "") -> None:
        with self._lock:
            self.done = min(self.total, self.done + steps)
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, detail=detail)
            if self._prefect:
                self._send(force=self.done == self.total)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
            if self._prefect:
                self._send(force=True)

    def _send(self, force: bool) -> None:
        """Create the artifact on first use, then update it on whole per cent at a limited rate."""
        if self._api_failed:
            return
        whole, now = int(self.percent), time.monotonic()
        if self._last_sent is not None and (
                whole == self._last_sent[0] or (not force and now - self._last_sent[1] < MIN_UPDATE_INTERVAL_S)):
            return
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        description = f"{self.description}: {self.done} of {self.total}"
        try:
            if self._artifact_id is None:
                self._artifact_id = create_progress_artifact(self.percent, key=self.key, description=description)
            else:
                update_progress_artifact(self._artifact_id, self.percent, description=description)
        except Exception as exc:  # noqa: BLE001 - reporting progress must never fail the work itself
            self._api_failed = True
            log.warning("progress of %r is not shown in Prefect: %s", self.description, exc)
            return
        self._last_sent = (whole, now)


@contextmanager
def progress(description: str, total: int, key: str | None = None, **options) -> Iterator[Progress]:
    """A `Progress` that is closed (bar stopped, final percentage sent) however the block ends."""
    bar = Progress(description, total, key=key, **options)
    try:
        yield bar
    finally:
        bar.close()
