"""Fixtures for the report tests: Chromium, a hand-built warehouse, and one real `procurement run --sample`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from report_warehouse import make_warehouse

from flows.config import Settings, load_settings
from flows.report.browser import find_chromium

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed when missing (CI runs as root)."""
    if find_chromium() is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True, env=env,
                       capture_output=True, timeout=900)
    path = find_chromium()
    assert path, "chromium is not installed and could not be installed with apt-get"
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Settings:
    """A home whose published warehouse is the small hand-built one (tests only read it)."""
    home = tmp_path_factory.mktemp("report-synthetic")
    make_warehouse(home / "warehouse.duckdb")
    return load_settings({"PROCUREMENT_HOME": str(home)})


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory, prefect_api) -> Path:
    """A home published by `procurement run --sample`, as a user runs it (about two minutes, once)."""
    home = tmp_path_factory.mktemp("report-sample-run")
    env = {**os.environ, "PROCUREMENT_HOME": str(home), "PREFECT_API_URL": prefect_api,
           "PROCUREMENT_RETRY_WAIT_S": "0.01"}
    run = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--sample"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return home
