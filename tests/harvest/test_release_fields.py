"""raw.ocds_release_fields: the typed fields the loader reads from each release are the texts
json_extract_string reads from the stored release JSON, whichever way the release reached the table."""

from __future__ import annotations

import json

import duckdb
from hypothesis import HealthCheck, given, settings, strategies as st

from flows.raw.ocds_releases import LandedPackage, ensure_table, load_releases
from ocds_servers import real_releases

# (column of raw.ocds_release_fields, JSONPath in the release) for every leaf outside the lists
RELEASE_LEAVES = [("title", "$.title"), ("tender.title", "$.tender.title"), ("tender.description", "$.tender.description"),
                  ("tender.classification.scheme", "$.tender.classification.scheme"),
                  ("tender.classification.id", "$.tender.classification.id"),
                  ("buyer.id", "$.buyer.id"), ("buyer.name", "$.buyer.name")]
AWARD_LEAVES = ["id", "title", "status", "date", "value.amount", "value.currency"]
PARTY_LEAVES = ["id", "name", "address.streetAddress", "address.postalCode", "address.countryName", "details.scale",
                "details.vcse", "details.sme", "details.vco", "sme", "vco", "identifier.scheme", "identifier.id"]


def fresh_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    return con


def fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [repr(r) for r in con.execute("SELECT * FROM raw.ocds_release_fields ORDER BY ALL").fetchall()]


def leaves_differing_from_the_json(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every typed leaf whose value is not json_extract_string of the stored JSON at its path."""
    checks = [f"SELECT r.release_id, '{path}', f.{column}, json_extract_string(r.release_json, '{path}')"
              f" FROM raw.ocds_releases r JOIN raw.ocds_release_fields f USING (source, ocid, release_id)"
              for column, path in RELEASE_LEAVES]
    for member, leaves in (("awards", AWARD_LEAVES), ("parties", PARTY_LEAVES)):
        checks += [
            f"SELECT release_id, '{member}[' || i || '].{leaf}', e.{leaf},"
            f" json_extract_string(release_json, '$.{member}[' || (i - 1) || '].{leaf}')"
            f" FROM (SELECT r.release_id, r.release_json, unnest(f.{member}) AS e, unnest(range(1, len(f.{member}) + 1)) AS i"
            f"       FROM raw.ocds_releases r JOIN raw.ocds_release_fields f USING (source, ocid, release_id))"
            for leaf in leaves]
    # A non-integral number's text is DuckDB's cast of the double (1e+16 where the JSON writer prints
    # 10000000000000000.0): the same number.
    return con.execute(" UNION ALL ".join(
        f"SELECT * FROM ({c}) AS c(release_id, path, typed, json) WHERE typed IS DISTINCT FROM json"
        f" AND TRY_CAST(typed AS DOUBLE) IS DISTINCT FROM TRY_CAST(json AS DOUBLE)" for c in checks)).fetchall()


def load(con, folder, releases: list) -> None:
    path = folder / "p.json"
    path.write_text(json.dumps({"releases": releases}), encoding="utf-8")
    load_releases(con, [LandedPackage("find_a_tender", path, "p.json")])


# Members of the shapes the models read, or anything else in their place.
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                    _text, st.sampled_from(["sme", "SME", "true", "GB-COH", "45000000", "1,000.50"]))
_any = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_text, inner, max_size=2),
                    max_leaves=4)


def _member(shape):
    return st.one_of(shape, shape, shape, _any)


def _object(**members):
    return _member(st.fixed_dictionaries({}, optional={k: _member(v) for k, v in members.items()}))


_ident = _object(scheme=_scalar, id=_scalar)
_release = st.fixed_dictionaries(
    {"ocid": st.sampled_from(["ocds-a", "ocds-b"]), "id": st.uuids().map(str)},
    optional={
        "title": _scalar,
        "tender": _object(title=_scalar, description=_scalar, classification=_ident,
                          additionalClassifications=st.lists(_ident, max_size=2),
                          items=st.lists(_object(classification=_ident, additionalClassifications=st.lists(_ident, max_size=2)),
                                         max_size=2)),
        "buyer": _object(id=_scalar, name=_scalar),
        "awards": _member(st.lists(_object(id=_scalar, title=_scalar, status=_scalar, date=_scalar,
                                           value=_object(amount=_scalar, currency=_scalar),
                                           suppliers=st.lists(_object(id=_scalar, name=_scalar), max_size=2)), max_size=3)),
        "parties": _member(st.lists(_object(id=_scalar, name=_scalar, roles=st.lists(_scalar, max_size=2),
                                            address=_object(streetAddress=_scalar, postalCode=_scalar, countryName=_scalar),
                                            details=_object(scale=_scalar, vcse=_scalar, sme=_scalar, vco=_scalar),
                                            sme=_scalar, vco=_scalar, identifier=_ident,
                                            additionalIdentifiers=st.lists(_ident, max_size=2)), max_size=3)),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(releases=st.lists(_release, min_size=1, max_size=6))
def test_typed_fields_are_the_texts_of_the_json_whether_loaded_or_derived_later(tmp_path_factory, releases):
    con = fresh_db()
    load(con, tmp_path_factory.mktemp("p"), releases)
    assert leaves_differing_from_the_json(con) == []
    loaded = fields(con)
    con.execute("DELETE FROM raw.ocds_release_fields")
    ensure_table(con)
    assert fields(con) == loaded


def test_real_releases_have_their_fields_and_lists_keep_their_length(tmp_path):
    con = fresh_db()
    releases = real_releases()
    load(con, tmp_path, releases)
    assert leaves_differing_from_the_json(con) == []
    lengths = con.execute("""
        SELECT len(f.awards), json_array_length(r.release_json, '$.awards'),
               len(f.parties), json_array_length(r.release_json, '$.parties')
        FROM raw.ocds_releases r JOIN raw.ocds_release_fields f USING (source, ocid, release_id)
    """).fetchall()
    assert len(lengths) == len(releases) and any(a for a, *_ in lengths)
    assert all(a == (ja or None) or (a is None and not ja) for a, ja, _, _ in lengths)
    assert all(p == (jp or None) or (p is None and not jp) for _, _, p, jp in lengths)


def test_fields_follow_releases_inserted_or_deleted_by_other_means(tmp_path):
    con = fresh_db()
    ensure_table(con)
    con.execute("""INSERT INTO raw.ocds_releases (source, ocid, release_id, release_json, landing_file) VALUES
        ('contracts_finder', 'ocds-a', '1', '{"buyer": {"name": "Leeds City Council"}}', 'by-hand'),
        ('contracts_finder', 'ocds-a', '2', '{"awards": [{"id": "a1", "value": {"amount": 10}}]}', 'by-hand')""")
    ensure_table(con)
    assert con.execute("SELECT release_id, buyer.name, awards[1].value.amount FROM raw.ocds_release_fields ORDER BY 1"
                       ).fetchall() == [("1", "Leeds City Council", None), ("2", None, "10")]
    con.execute("DELETE FROM raw.ocds_releases WHERE release_id = '1'")
    ensure_table(con)
    assert con.execute("SELECT release_id FROM raw.ocds_release_fields").fetchall() == [("2",)]


def test_fields_follow_a_release_replaced_by_hand_with_as_many_rows(tmp_path):
    """One release deleted and another inserted: the counts agree, the keys do not."""
    con = fresh_db()
    ensure_table(con)
    con.execute("""INSERT INTO raw.ocds_releases (source, ocid, release_id, release_json, landing_file) VALUES
        ('contracts_finder', 'ocds-a', '1', '{"title": "first"}', 'by-hand')""")
    ensure_table(con)
    con.execute("DELETE FROM raw.ocds_releases")
    con.execute("""INSERT INTO raw.ocds_releases (source, ocid, release_id, release_json, landing_file) VALUES
        ('contracts_finder', 'ocds-b', '1', '{"title": "second"}', 'by-hand')""")
    ensure_table(con)
    assert con.execute("SELECT ocid, title FROM raw.ocds_release_fields").fetchall() == [("ocds-b", "second")]
