"""Fixtures for the report tests: Chromium and a hand-built warehouse (the sample run is session-wide)."""

from __future__ import annotations

import os
import subprocess

import pytest
from report_warehouse import make_warehouse

from flows.config import Settings, load_settings
from flows.report.browser import find_chromium

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
