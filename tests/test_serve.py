"""`procurement serve` registers the nightly deployment on its schedule and keeps serving it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


def wait_for_deployment(name: str, timeout_s: float = 120.0):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                return client.read_deployment_by_name(name)
            except ObjectNotFound:
                time.sleep(1)
    pytest.fail(f"deployment {name} did not appear within {timeout_s:.0f} s")


def test_serve_creates_the_nightly_deployment_on_its_schedule(tmp_path, prefect_api):
    env = {**os.environ, "PROCUREMENT_HOME": str(tmp_path / "home"), "PREFECT_API_URL": prefect_api}
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--cron", "30 3 * * 1-5", "--timezone", "Europe/London"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deployment = wait_for_deployment("nightly-run/nightly")
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == "30 3 * * 1-5"
        assert schedule.schedule.timezone == "Europe/London"
        assert schedule.active
        assert server.poll() is None, "serve should keep running"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
