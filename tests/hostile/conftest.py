"""Hostile-input suite: fixtures, and a tally of the bad inputs tried and rows lost, printed at the end."""

from __future__ import annotations

import pytest

from flows.config import load_settings
from flows.database import connect_path


class HostileTally:
    def __init__(self) -> None:
        self.inputs = 0
        self.rows_lost = 0

    def tried(self, count: int = 1, lost: int = 0) -> None:
        self.inputs += count
        self.rows_lost += lost


TALLY = HostileTally()


@pytest.fixture(scope="session")
def hostile_tally() -> HostileTally:
    return TALLY


def pytest_terminal_summary(terminalreporter):
    if TALLY.inputs:
        terminalreporter.write_line(f"hostile-input suite: {TALLY.inputs} bad inputs tried, {TALLY.rows_lost} rows lost")


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def settings(home):
    return load_settings({"PROCUREMENT_HOME": str(home), "PROCUREMENT_RETRY_WAIT_S": "0"})


@pytest.fixture
def con(settings):
    connection = connect_path(settings.work_db)
    yield connection
    connection.close()


@pytest.fixture
def feed_dir(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    return folder
