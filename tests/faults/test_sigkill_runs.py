"""Real SIGKILLs of the whole process tree of `procurement run`, then the next run.

The run is `procurement run --since … --until …` against the session's sample loopback server with the
fault world's four-file registry: `--sample` always takes the bundled 24-file registry, and these runs
must process exactly the input of the in-process baseline.

One home, one chain: the run is killed when its first notice page lands, again while dbt is building,
again when the new warehouse's temp file appears; then a run completes. After each kill: nothing of the
process group survives, `warehouse.duckdb` is byte for byte the last good one, and the run lock is free.
The run that completes publishes exactly the figures of the uninterrupted in-process baseline (same
notices, same spend files), with no temp file left behind. The runs share the session's Prefect server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable


from fault_world import (
    REPO, SINCE, UNTIL, lock_is_free, marts_snapshot, parquet_snapshot, raw_snapshot, rows_lost, settings_for, sha256,
)

ARGS = ["run", "--since", f"{SINCE:%Y-%m-%d}", "--until", f"{UNTIL:%Y-%m-%d}"]
LONGEST_RUN_S = 600


class Run:
    """`procurement run` in its own session (process group), its output collected line by line."""

    def __init__(self, home: Path, registry: Path, server_url: str, prefect_api: str):
        env = {**os.environ, "PROCUREMENT_HOME": str(home), "PREFECT_API_URL": prefect_api,
               "PROCUREMENT_RETRY_WAIT_S": "0.01", "SPEND_FEEDS": str(registry),
               "CONTRACTS_FINDER_URL": server_url, "FIND_A_TENDER_URL": server_url}
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", *ARGS], env=env, cwd=REPO,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def kill_when(self, moment: Callable[["Run"], bool]) -> None:
        deadline = time.monotonic() + LONGEST_RUN_S
        while not moment(self):
            assert self.proc.poll() is None, f"the run ended before the moment to kill it:\n{self.output()}"
            assert time.monotonic() < deadline, "the moment to kill the run never came"
            time.sleep(0.01)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        assert _live_members(self.proc.pid) == [], "part of the process tree survived"

    def finish(self) -> int:
        code = self.proc.wait(timeout=LONGEST_RUN_S)
        self.reader.join(timeout=10)
        return code


def _live_members(pgid: int) -> list[int]:
    """Processes of the group that are not zombies (a zombie holds no file, lock or socket)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def _notice_landed(home: Path) -> Callable[[Run], bool]:
    before = {p for p in (home / "landing").rglob("*.json")}
    return lambda run: any(
        p not in before for source in ("contracts_finder", "find_a_tender")
        for p in (home / "landing" / source).rglob("*.json")
    )


def _dbt_started(nodes: int) -> Callable[[Run], bool]:
    return lambda run: sum(" START " in line for line in run.lines) >= nodes


def _publish_temp_file(home: Path) -> Callable[[Run], bool]:
    return lambda run: any(home.glob("warehouse.duckdb.new-*"))


def test_sigkilled_runs_leave_the_last_good_warehouse_and_the_next_run_publishes_the_same_figures(
        world, baseline, fresh_home, prefect_api, tally):
    home = fresh_home(world.first_generation, baseline.warehouse)
    settings = settings_for(home)
    last_good = sha256(home / "warehouse.duckdb")
    moments = [
        ("first new notice page landed", _notice_landed(home)),
        ("dbt has started 40 nodes", _dbt_started(40)),
        ("the new warehouse's temp file exists", _publish_temp_file(home)),
    ]
    for name, moment in moments:
        Run(home, world.registry_b, world.server.base_url, prefect_api).kill_when(moment)
        assert sha256(home / "warehouse.duckdb") == last_good, f"killed when {name}"
        assert lock_is_free(settings), f"killed when {name}"
        tally.fault()

    run = Run(home, world.registry_b, world.server.base_url, prefect_api)
    assert run.finish() == 0, run.output()
    assert sha256(home / "warehouse.duckdb") != last_good
    assert marts_snapshot(home / "warehouse.duckdb") == baseline.marts
    assert parquet_snapshot(home) == baseline.marts
    assert rows_lost(world.raw, raw_snapshot(home / "work.duckdb")) == (0, 0)
    assert list(home.glob("warehouse.duckdb.new-*")) == []
