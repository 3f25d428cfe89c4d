"""The run lock: at most one `procurement run` (or publish) at a time per PROCUREMENT_HOME.

An `fcntl.flock` on `$PROCUREMENT_HOME/run.lock` belongs to the open file, so the kernel releases it
when the holder exits for any reason, SIGKILL included: a killed run can never leave a stale lock.
The file itself stays in place (deleting a flock'ed file races with the next locker); its content
only says who holds it, for the message a second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from flows.config import Settings

LOCK_NAME = "run.lock"


class RunLockedError(RuntimeError):
    """Another run holds the lock; the message names its pid and start time."""


@dataclass(frozen=True)
class RunLock:
    path: Path
    pid: int
    started_at: str  # ISO 8601, UTC


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


def _holder_description(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        holder = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    pid = holder.get("pid", "unknown")
    started = holder.get("started_at", "unknown time")
    return f"pid {pid}, started {started}"


@contextmanager
def run_lock(settings: Settings) -> Iterator[RunLock]:
    """Hold the run lock for the body of the `with`, or raise RunLockedError at once."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(
                f"another procurement run is in progress ({_holder_description(fd)}); "
                f"lock file {path}. Wait for it to finish, or stop that process."
            ) from None
        lock = RunLock(path=path, pid=os.getpid(), started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": lock.pid, "started_at": lock.started_at}).encode("utf-8"), 0)
        try:
            yield lock
        finally:
            # Still holding the lock here, so clearing the holder record cannot race a new holder.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
