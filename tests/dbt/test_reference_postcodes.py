"""The postcode directory is loaded into the working database once, and again only when the package
version changes; every district of the geography seed exists in it. The decoded table is cached per
machine, and a cache that cannot be read or written never changes what is loaded."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from flows import reference
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


def _rows(con) -> list[tuple]:
    return con.execute("SELECT postcode, lad_code FROM ref.postcode_lad ORDER BY postcode").fetchall()


@pytest.fixture(scope="module")
def decoded(tmp_path_factory) -> list[tuple]:
    """The table as decoded from the package, with no cache."""
    con = duckdb.connect()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("no-cache")))
        assert load_postcode_lad(con) is True
    return _rows(con)


def _no_package(monkeypatch):
    def unavailable():
        raise AssertionError("the package was decoded although the cache holds the table")
    monkeypatch.setattr(reference, "_postcode_files", unavailable)


def test_a_new_database_copies_the_cached_table(decoded, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_postcode_lad(duckdb.connect()) is True  # decodes the package and writes the cache
    (cached,) = (tmp_path / "procurement-warehouse").glob(f"postcode_lad-{postcode_package_version()}-*.parquet")
    _no_package(monkeypatch)
    con = duckdb.connect()
    assert load_postcode_lad(con) is True
    assert _rows(con) == decoded
    assert con.execute("SELECT version, n_rows FROM ref.reference_versions").fetchall() == \
        [(postcode_package_version(), len(decoded))]
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no partial file left


def test_a_damaged_cache_is_decoded_again_and_replaced(decoded, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = reference._cache_file(postcode_package_version())
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"PAR1 not really parquet")
    con = duckdb.connect()
    assert load_postcode_lad(con) is True
    assert _rows(con) == decoded
    _no_package(monkeypatch)  # the damaged file was replaced by a readable one
    fresh = duckdb.connect()
    assert load_postcode_lad(fresh) is True and _rows(fresh) == decoded


def test_a_cache_that_cannot_be_written_leaves_the_load_as_it_was(decoded, tmp_path, monkeypatch):
    (tmp_path / "not-a-directory").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-directory"))
    con = duckdb.connect()
    assert load_postcode_lad(con) is True
    assert _rows(con) == decoded
