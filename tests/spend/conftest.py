"""Fixtures for the spend loader tests: a temporary home with a real DuckDB, a feed folder, a loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import pytest
from spend_helpers import LoopbackServer, start_server

from flows.config import Settings, load_settings
from flows.database import connect_path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"PROCUREMENT_HOME": str(tmp_path / "home"), "PROCUREMENT_RETRY_WAIT_S": "0"})


@pytest.fixture
def con(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_path(settings.work_db)
    yield connection
    connection.close()


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    return folder


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    state, server, thread = start_server()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
