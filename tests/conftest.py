"""Session-wide test set-up: Prefect kept offline and in a temp dir, started once per session."""

from __future__ import annotations

import os
import tempfile

# Prefect reads these at import, so they are set before any test module imports it.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="procurement-test-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_UI_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
for name in ("PROCUREMENT_HOME", "CONTRACTS_FINDER_URL", "FIND_A_TENDER_URL", "SPEND_FEEDS", "PROCUREMENT_RETRY_WAIT_S"):
    os.environ.pop(name, None)

import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from cli_runner import run_procurement  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api() -> str:
    """One temporary Prefect server for the whole session; returns its API URL for subprocesses."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, prefect_api) -> tuple[Path, subprocess.CompletedProcess]:
    """One `procurement run --sample` for the session (about a minute): its home and its result."""
    home = tmp_path_factory.mktemp("sample-run")
    return home, run_procurement(["run", "--sample"], home, prefect_api)


@pytest.fixture(scope="session")
def sample_home(sample_run) -> Path:
    """The home the session's sample run published; tests that only read it share it."""
    home, result = sample_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return home
