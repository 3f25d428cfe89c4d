"""Fixtures for the dbt tests: a real working database in a temporary home with the (empty) raw tables
and the postcode directory; each module fills raw tables and runs one real `flows.transform.build`."""

from __future__ import annotations

import pytest

from dbt_raw_fixtures import make_settings
from flows.transform import prepare_working_db


@pytest.fixture(scope="module")
def fresh_home(tmp_path_factory):
    """A home whose working database has the (empty) raw tables and the postcode directory."""
    home = tmp_path_factory.mktemp("home")
    settings = make_settings(home)
    prepare_working_db(settings)
    return settings
