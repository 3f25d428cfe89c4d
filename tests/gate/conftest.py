"""Fixtures for the validation gate, publishing and the run lock: a working DB of hand-made tables."""

from pathlib import Path

import duckdb
import pytest

from flows.config import load_settings

FIXTURE_SQL = Path(__file__).parents[1] / "fixtures" / "gate" / "work_db.sql"


@pytest.fixture
def settings(tmp_path):
    """A PROCUREMENT_HOME whose working DB holds the hand-made raw tables and marts."""
    settings = load_settings({"PROCUREMENT_HOME": str(tmp_path / "home")})
    settings.home.mkdir(parents=True)
    con = duckdb.connect(str(settings.work_db))
    con.execute(FIXTURE_SQL.read_text())
    con.close()
    return settings
