"""Decoding and repair of OCDS response bodies, with examples and properties."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from flows.sources.ocds import (
    SERVICES,
    UnreadableResponse,
    date_windows,
    decode_body,
    parse_package,
)

from ocds_servers import utc


def test_utf8_body_with_bom_decodes():
    assert decode_body("\ufeff{\"a\": \"Café\"}".encode("utf-8")) == '{"a": "Café"}'


def test_iso_8859_1_body_falls_back():
    body = '{"releases": [], "name": "Nérac Café £"}'.encode("iso-8859-1")
    assert decode_body(body) == '{"releases": [], "name": "Nérac Café £"}'


def test_overflowing_number_becomes_null_and_is_reported():
    package = parse_package('{"releases": [{"ocid": "x", "id": "1", "value": {"amount": 1e9999}}]}')
    assert package.releases[0]["value"]["amount"] is None
    assert any("1e9999" in r for r in package.repairs)


def test_leading_zero_and_space_thousands_are_rewritten():
    package = parse_package('{"releases": [{"a": 000, "b": 150 000, "c": -007.50, "d": "000 keep"}]}')
    assert package.releases[0] == {"a": 0, "b": 150000, "c": -7.5, "d": "000 keep"}
    assert package.repairs == ["invalid JSON numbers rewritten"]


def test_numbers_inside_strings_are_never_touched():
    text = json.dumps({"releases": [{"title": 'Lot 007: "1e9999" and 150 000 units'}]})
    assert parse_package(text).releases[0]["title"] == 'Lot 007: "1e9999" and 150 000 units'


def test_next_link_is_returned_exactly_as_given():
    nxt = "https://example.test/api/1.0/ocdsReleasePackages?cursor=abc%3D%3D&updatedFrom=2025-01-01T00:00:00"
    assert parse_package(json.dumps({"releases": [], "links": {"next": nxt}})).next_url == nxt


@pytest.mark.parametrize("body, reason", [
    ("<html><body>Too many requests</body></html>", "not valid JSON"),
    ('{"releases": [', "not valid JSON"),
    ('{"data": []}', "without a 'releases' list"),
    ('[1, 2]', "without a 'releases' list"),
    ('{"releases": [], "links": {"next": "javascript:alert(1)"}}', r"not an http\(s\) URL"),
])
def test_unreadable_bodies_raise_with_a_reason(body, reason):
    with pytest.raises(UnreadableResponse, match=reason):
        parse_package(body)


def test_windows_cover_the_range_without_gaps_or_overlap():
    start, end = utc(2025, 1, 1), utc(2025, 2, 3, 7)
    windows = list(date_windows(start, end, SERVICES["contracts_finder"].window))
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all(w[1] - w[0] <= timedelta(days=15) for w in windows)


def test_find_a_tender_windows_are_six_hours():
    windows = list(date_windows(utc(2025, 1, 1), utc(2025, 1, 2), SERVICES["find_a_tender"].window))
    assert len(windows) == 4


def test_search_urls_use_each_services_parameters():
    cf = SERVICES["contracts_finder"].search_url("https://cf.test", utc(2025, 1, 1), utc(2025, 1, 16))
    assert cf == ("https://cf.test/Published/Notices/OCDS/Search?publishedFrom=2025-01-01T00:00:00"
                  "&publishedTo=2025-01-16T00:00:00&stages=planning,tender,award&limit=100")
    fts = SERVICES["find_a_tender"].search_url("https://fts.test", utc(2025, 1, 1), utc(2025, 1, 1, 6))
    assert fts == ("https://fts.test/api/1.0/ocdsReleasePackages?updatedFrom=2025-01-01T00:00:00"
                   "&updatedTo=2025-01-01T06:00:00&limit=100")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=5), max_size=5))
def test_valid_packages_parse_to_what_was_sent(releases):
    assert parse_package(json.dumps({"releases": releases})).releases == releases


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_any_bytes_either_parse_or_raise_unreadable(body):
    try:
        package = parse_package(decode_body(body))
    except UnreadableResponse:
        return
    assert isinstance(package.releases, list)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=5), st.integers(1, 3))
def test_zero_padded_numbers_repair_to_their_value(numbers, pad):
    text = '{"releases": [' + ", ".join("0" * pad + str(n) for n in numbers) + "]}"
    assert parse_package(text).releases == numbers
