"""Loading landed release packages: DuckDB's reader gives exactly the rows (and typed fields) the Python
reader gives, quirky files take the Python path, and every (source, ocid, release id) is stored once."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from flows.raw.ocds_releases import LandedPackage, UnreadablePackage, insert_releases, load_releases
from flows.sources.ocds import decode_body, parse_package
from ocds_servers import make_release, real_releases

COLUMNS = "source, ocid, release_id, release_date, tags, release_json::VARCHAR, landing_file"


def fresh_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    return con


def rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"SELECT {COLUMNS} FROM raw.ocds_releases ORDER BY ALL").fetchall()


def write_package(folder: Path, name: str, body: bytes | str | dict) -> LandedPackage:
    path = folder / name
    if isinstance(body, dict):
        body = json.dumps(body)
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return LandedPackage("find_a_tender", path, f"landing/{name}")


def fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [repr(r) for r in con.execute("SELECT * EXCLUDE (loaded_at) FROM raw.ocds_release_fields ORDER BY ALL").fetchall()]


def python_path(packages: list[LandedPackage]):
    """What the loader did before it read files itself: Python parses, then inserts each page."""
    con = fresh_db()
    counts = [insert_releases(con, p.source, parse_package(decode_body(p.path.read_bytes())).releases, p.landing_file)
              for p in packages]
    return rows(con), [(c.seen, c.new, c.rejected) for c in counts], fields(con)


def file_path(packages: list[LandedPackage]):
    con = fresh_db()
    counts = [load_releases(con, [p]) for p in packages]
    return rows(con), [(c.seen, c.new, c.rejected) for c in counts], fields(con)


QUIRKY = {
    "latin1": '{"releases": [{"ocid": "ocds-a", "id": "1", "buyer": {"name": "Café Nérac"}}]}'.encode("iso-8859-1"),
    "bom": "\ufeff".encode() + b'{"releases": [{"ocid": "ocds-a", "id": "1"}]}',
    "overflow": b'{"releases": [{"ocid": "ocds-a", "id": "1", "value": {"amount": 1e9999}}]}',
    "nan": b'{"releases": [{"ocid": "ocds-a", "id": "1", "value": {"amount": NaN, "b": -Infinity}}]}',
    # the screen's pattern for each character a value can follow: `:` above, `[` and `,` here
    "nan-in-list": b'{"releases": [{"ocid": "ocds-a", "id": "1", "amounts": [NaN, 2]}]}',
    "infinity-after-comma": b'{"releases": [{"ocid": "ocds-a", "id": "1", "amounts": [1, Infinity]}]}',
    "overflow-in-list": b'{"releases": [{"ocid": "ocds-a", "id": "1", "amounts": [1e400]}]}',
    "leading-zeros": b'{"releases": [{"ocid": "ocds-a", "id": "1", "items": 000, "value": {"amount": 150 000}}]}',
    "numeric-id": b'{"releases": [{"ocid": "ocds-a", "id": 17}, {"ocid": "ocds-a", "id": "17"}]}',
    "unkeyed": b'{"releases": [{"ocid": " ", "id": "1"}, {"id": "2"}, {"ocid": "ocds-a", "id": "\\t"}, 7, null,'
               b' {"ocid": "ocds-a", "id": 1.5}, {"ocid": 5, "id": "3"}, {"ocid": "ocds-a", "id": "4"}]}',
    "unicode-blank": '{"releases": [{"ocid": "\u3000", "id": "1"}, {"ocid": "ocds-\u00e9", "id": "\u00e9"}]}'.encode(),
    "empty": b'{"releases": []}',
}


@pytest.mark.parametrize("name", sorted(QUIRKY))
def test_quirky_files_load_exactly_as_the_python_reader_loads_them(tmp_path, name):
    packages = [write_package(tmp_path, f"{name}.json", QUIRKY[name])]
    assert file_path(packages) == python_path(packages)


def test_real_releases_load_exactly_as_the_python_reader_loads_them(tmp_path):
    releases = real_releases()
    packages = [write_package(tmp_path, "a.json", {"releases": releases[:5]}),
                write_package(tmp_path, "b.json", {"releases": releases[3:]})]
    loaded, counts, typed = file_path(packages)
    assert (loaded, counts, typed) == python_path(packages)
    assert len(loaded) == len(typed) == len(releases) and counts[1][1] == len(releases) - 5


def test_one_release_is_stored_once_within_a_file_across_files_and_across_loads(tmp_path):
    first = make_release("ocds-a", "1", "2025-01-02T09:00:00Z", title="first copy")
    again = {**first, "title": "second copy"}
    other = make_release("ocds-a", "2", "2025-01-03T09:00:00Z")
    packages = [write_package(tmp_path, "p1.json", {"releases": [first, again, other]}),
                write_package(tmp_path, "p2.json", {"releases": [again, other]})]
    con = fresh_db()
    count = load_releases(con, packages)
    assert (count.seen, count.new, count.rejected) == (5, 2, 0)
    assert load_releases(con, packages[::-1]).new == 0
    stored = con.execute("SELECT release_id, release_json->>'title' FROM raw.ocds_releases ORDER BY 1").fetchall()
    assert stored == [("1", "first copy"), ("2", None)]


def test_unreadable_file_is_refused_after_the_readable_ones_are_loaded(tmp_path):
    good = write_package(tmp_path, "good.json", {"releases": [make_release("ocds-a", "1", "2025-01-02T09:00:00Z")]})
    bad = [write_package(tmp_path, "trailing-comma.json", b'{"releases": [{"ocid": "ocds-b", "id": "1"},]}'),
           write_package(tmp_path, "two-values.json", b'{"releases": []} {"releases": []}'),
           write_package(tmp_path, "not-a-package.json", b'[{"ocid": "ocds-c", "id": "1"}]')]
    con = fresh_db()
    con.begin()
    with pytest.raises(UnreadablePackage) as refused:
        load_releases(con, [bad[0], good, *bad[1:]])
    con.commit()  # nothing in the loader aborted the caller's transaction
    assert all(p.landing_file in str(refused.value) for p in bad)
    assert [r[2] for r in rows(con)] == ["1"]


# Releases as a service might write them: awkward keys, numbers of every size, text in any script.
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_number = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False))
_value = st.recursive(st.one_of(st.none(), st.booleans(), _number, _text),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                      max_leaves=8)
_key = st.one_of(st.sampled_from(["ocds-a", "ocds-b", "1", " 2 ", "", " ", "\u00a0", "\u2003x"]), st.integers(0, 3), _text)
_release = st.one_of(
    st.fixed_dictionaries({"ocid": _key, "id": _key},
                          optional={"date": st.sampled_from(["2025-01-02T09:00:00Z", "2025-13-40", "", "2025-01-02"]),
                                    "tag": st.one_of(st.lists(_text, max_size=2), _text),
                                    "extra": _value}),
    _value,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(st.lists(_release, max_size=6), min_size=1, max_size=3), ascii_only=st.booleans())
def test_any_page_loads_from_its_file_exactly_as_from_python(tmp_path_factory, pages, ascii_only):
    folder = tmp_path_factory.mktemp("pages")
    packages = [write_package(folder, f"p{i}.json", json.dumps({"releases": page}, ensure_ascii=ascii_only))
                for i, page in enumerate(pages)]
    assert file_path(packages) == python_path(packages)
