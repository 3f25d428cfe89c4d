"""The postcode directory is loaded into the working database once, and again only when the package
version changes; every district of the geography seed exists in it."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from flows.reference import load_postcode_lad, postcode_package_version

SEED = Path(__file__).resolve().parents[2] / "seeds" / "lad_geography.csv"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("ref") / "work.duckdb"))
    yield con
    con.close()


def test_loads_once_then_only_when_the_package_version_changes(con):
    assert load_postcode_lad(con) is True
    assert load_postcode_lad(con) is False
    con.execute("UPDATE ref.reference_versions SET version = '2000.1.1' WHERE name = 'postcode_lad'")
    assert load_postcode_lad(con) is True
    assert con.execute("SELECT version FROM ref.reference_versions").fetchall() == [(postcode_package_version(),)]


def test_postcodes_are_in_the_warehouse_form(con):
    load_postcode_lad(con)
    # The directory stores 'B1  1AA' (7-character form); the warehouse joins on 'B1 1AA'.
    got = dict(con.execute(
        "SELECT postcode, lad_code FROM ref.postcode_lad WHERE postcode IN ('B1 1AA', 'SW1A 2AS', 'WV10 7BY')"
    ).fetchall())
    assert got == {"B1 1AA": "E08000025", "SW1A 2AS": "E09000033", "WV10 7BY": "E07000196"}
    assert con.execute("SELECT count(*) FROM ref.postcode_lad WHERE postcode NOT LIKE '% ___'").fetchall() == [(0,)]


def test_every_seed_district_exists_in_the_directory(con):
    load_postcode_lad(con)
    with SEED.open(newline="") as f:
        seed = [row["lad_code"] for row in csv.DictReader(f)]
    assert len(seed) == 30
    known = {r[0] for r in con.execute("SELECT DISTINCT lad_code FROM ref.postcode_lad").fetchall()}
    assert set(seed) <= known
