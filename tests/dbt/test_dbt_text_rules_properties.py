"""Property tests of the SQL text rules (dbt macros in dbt_project/macros/text_rules.sql) against a plain
Python reading of the warehouse contract, section 4 and 5.1. The macros are compiled once by dbt
(`dbt compile --inline`) and then evaluated by DuckDB on hypothesis-generated strings."""

from __future__ import annotations

import re
import unicodedata

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.transform import _invoke

EXPRESSIONS = {
    "name": "{{ normalise_name('x') }}",
    "company": "{{ company_number('x') }}",
    "postcode": "{{ normalise_postcode('x') }}",
    "in_text": "{{ postcode_in_text('x') }}",
}


@pytest.fixture(scope="module")
def rules(fresh_home):
    """One DuckDB connection and the compiled SQL expression of each rule."""
    sql = "select " + ", ".join(f"{expr} as {name}" for name, expr in EXPRESSIONS.items())
    res = _invoke(fresh_home, ["compile", "--inline", sql, "--quiet"])
    assert res.success, res.exception
    compiled = res.result.results[0].node.compiled_code
    con = duckdb.connect()
    yield con, compiled
    con.close()


def evaluate(rules, value: str | None) -> dict:
    con, compiled = rules
    row = con.execute(f"with t as (select ?::varchar as x) {compiled} from t", [value]).fetchall()[0]
    return dict(zip(EXPRESSIONS, row))


def reference_name(name: str) -> str | None:
    """Section 4, literally: NFKD without accents, upper, & -> AND, non-alphanumerics -> space, collapse,
    trim, drop a leading THE, tokens LTD -> LIMITED and CO -> COMPANY."""
    s = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    s = s.upper().replace("&", " AND ")
    s = "".join(c if c.isalnum() else " " for c in s)
    s = " ".join(s.split())
    if s.startswith("THE "):
        s = s[4:]
    s = " ".join({"LTD": "LIMITED", "CO": "COMPANY"}.get(t, t) for t in s.split(" "))
    return s or None


# Latin letters with and without accents, digits, punctuation and spaces: the alphabet of supplier names.
# (Compatibility characters such as ligatures are left out: DuckDB's strip_accents does not fold them,
# a documented limit.)
NAME_CHARS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 &.,'()-/éèêàçñöüÉÅ"))
NAME_WORDS = st.sampled_from(["The", "THE", "Ltd", "LTD", "ltd.", "Co", "Co.", "co", "&", "Theatre", "Company", "Coach"])
names = st.lists(st.one_of(st.text(NAME_CHARS, min_size=1, max_size=8), NAME_WORDS), min_size=1, max_size=6).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(names)
def test_name_normalisation_matches_the_contract(rules, name):
    assert evaluate(rules, name)["name"] == reference_name(name)


@settings(max_examples=100, deadline=None)
@given(names)
def test_normalised_names_are_single_spaced_words_of_capitals_and_digits(rules, name):
    # (Not idempotent, and need not be: "THE THE X" loses one THE per application, as the contract says.)
    got = evaluate(rules, name)["name"]
    assert got is None or re.fullmatch(r"[A-Z0-9]+( [A-Z0-9]+)*", got)


@settings(max_examples=100, deadline=None)
@given(st.text(st.sampled_from(list("0123456789")), min_size=1, max_size=8),
       st.sampled_from(["", "SC", "sc", "NI", "OC"]))
def test_company_numbers_are_upper_case_and_padded_to_8(rules, digits, prefix):
    raw = prefix + digits[: 8 - len(prefix)] if prefix else digits
    got = evaluate(rules, f" {raw} ")["company"]
    assert got == raw.upper().rjust(8, "0")
    assert evaluate(rules, got)["company"] == got


OUTWARD = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]?\Z")
INWARD = st.from_regex(r"\A[0-9][A-Z]{2}\Z")


@settings(max_examples=100, deadline=None)
@given(OUTWARD, INWARD, st.sampled_from(["", " ", "  "]), st.booleans())
def test_postcodes_normalise_to_one_space_upper_case(rules, outward, inward, gap, lower):
    written = f"{outward}{gap}{inward}"
    got = evaluate(rules, written.lower() if lower else written)
    assert got["postcode"] == f"{outward} {inward}"


@settings(max_examples=100, deadline=None)
@given(OUTWARD, INWARD, OUTWARD, INWARD,
       st.sampled_from([", ", "\r\n", "rn", " ", ".  ", ",n"]), st.sampled_from(["", ",", ".", " "]))
def test_the_last_postcode_in_a_street_address_is_taken(rules, out1, in1, out2, in2, separator, trailer):
    address = f"Unit 4, {out1} {in1}, depot: 12 High Street, Town{separator}{out2} {in2}{trailer}"
    assert evaluate(rules, address)["in_text"] == f"{out2} {in2}"


def test_no_postcode_in_text_is_null(rules):
    assert evaluate(rules, "Town Hall, Church Street, Martock")["in_text"] is None
    assert evaluate(rules, None)["in_text"] is None
    assert evaluate(rules, "D02 X285")["postcode"] is None  # an Irish Eircode is not a UK postcode
