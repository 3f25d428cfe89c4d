"""Fixtures for the dbt tests: real working databases in temporary homes with the (empty) raw tables and the
postcode directory, filled with plain inserts and built by one real `flows.transform.build` each."""

from __future__ import annotations

import pytest

from dbt_raw_fixtures import (
    WMCA,
    contracts_finder_releases,
    hand_made_payments,
    insert_payments,
    insert_publishers,
    insert_releases,
    load_raw,
    make_settings,
)
from flows.transform import build, prepare_working_db


def _fresh(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("home"))
    prepare_working_db(settings)
    return settings


@pytest.fixture(scope="module")
def fresh_home(tmp_path_factory):
    """A home whose working database has the (empty) raw tables and the postcode directory."""
    return _fresh(tmp_path_factory)


@pytest.fixture(scope="session")
def awards_and_payments(tmp_path_factory):
    """The eight real Contracts Finder releases and the hand-made WMCA payments, built once per session.
    Tests only read it (a test that needs to change data works on a copy)."""
    settings = _fresh(tmp_path_factory)

    def fill(con):
        for name, release in contracts_finder_releases():
            insert_releases(con, "contracts_finder", [release], f"landing/contracts_finder/{name}")
        # Birmingham publishes two files, so the registry has two rows for it.
        insert_publishers(con, [(pid, name, lad) for pid, (name, lad) in WMCA.items()]
                          + [("birmingham", "Birmingham City Council", "E08000025")])
        insert_payments(con, hand_made_payments())

    load_raw(settings, fill)
    result = build(settings)
    return settings, result
