"""The sample OCDS feeds (flows/sample/feeds, made by the sample-feeds helper) through the whole dbt build: each named edge case of edge_cases.json comes out as the contract says. Suppliers' postcodes,
districts and company numbers are those listed in /work/notes/suppliers.md (flows/sample/make_ocds_feeds.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dbt_raw_fixtures import insert_releases, load_raw, query
from flows.sources.ocds import parse_package
from flows.transform import build

FEEDS = Path(__file__).resolve().parents[2] / "flows" / "sample" / "feeds"
EDGE_CASES = json.loads((FEEDS / "edge_cases.json").read_text(encoding="utf-8"))
EDGE = EDGE_CASES["contracts_finder"]


def sample_releases(source: str) -> list[dict]:
    # The Find a Tender sample holds the service's invalid JSON numbers: parse as the harvester does.
    text = (FEEDS / source / "releases.json").read_text(encoding="utf-8")
    return parse_package('{"releases": ' + text + "}").releases


@pytest.fixture(scope="module")
def built(fresh_home):
    def fill(con):
        for source in ("contracts_finder", "find_a_tender"):
            insert_releases(con, source, sample_releases(source), f"landing/sample/{source}.json")

    load_raw(fresh_home, fill)
    build(fresh_home)
    return fresh_home


def facts(settings, case: str) -> list[tuple]:
    return query(settings, """
        SELECT award_id, award_date, value_gbp, supplier_key, scale, is_vcse, supplier_postcode, supplier_lad_code,
               green_category
        FROM marts.fct_award_suppliers WHERE source = 'contracts_finder' AND ocid = ? ORDER BY award_id, supplier_key""",
        [EDGE[case]])


def test_cancelled_and_unsuccessful_awards_are_not_facts(built):
    assert facts(built, "award_cancelled") == []
    assert facts(built, "award_unsuccessful") == []


def test_non_gbp_award_is_kept_without_a_gbp_value(built):
    rows = facts(built, "award_eur")
    assert len(rows) == 1 and rows[0][2] is None


def test_amended_and_extended_awards_take_their_latest_state(built):
    (amended,) = facts(built, "award_value_amended")
    assert amended[2] == Decimal("525000.00")  # the award update's value, not the original notice's
    added = facts(built, "award_supplier_added")
    assert len(added) == 4 and {r[2] for r in added} == {Decimal("450000.00")}
    assert len(facts(built, "awardUpdate_same_timestamp")) == 1


def test_dates(built):
    # awards[].date "...T00:00:00+01:00" is 1 July in the UK, even though it is 30 June in UTC.
    assert facts(built, "award_date_bst_midnight")[0][1] == date(2025, 7, 1)
    late = facts(built, "late_publication")
    assert {r[1] for r in late} == {date(2024, 2, 12)}
    assert sum(r[2] for r in late) == Decimal("64250.50")


def test_suppliers_and_postcodes(built):
    # S09 Godiva Facilities Management: the Contracts Finder alias has no company number; Find a Tender
    # gives 05551234 under the same normalised name, so they are one GB-COH supplier.
    assert facts(built, "supplier_alias_without_company_number")[0][3] == "GB-COH-05551234"
    assert facts(built, "company_number_without_leading_zero")[0][3] == "GB-COH-07012345"  # S02, "7012345"
    assert facts(built, "postcode_lower_case_in_street_address")[0][6:8] == ("WS1 3LR", "E08000030")  # S28
    assert facts(built, "postcode_without_space")[0][6:8] == ("CV1 3PE", "E08000026")  # S11 "CV13PE"
    assert facts(built, "supplier_without_postcode")[0][6:8] == (None, None)  # S64
    assert facts(built, "accented_supplier_name")[0][3] == "GB-COH-09876543"  # S05 Café Élan Catering Ltd
    assert query(built, "SELECT name_normalised FROM intermediate.int_ocds__award_supplier_parties "
                        "WHERE company_number = '09876543' LIMIT 1") == [("CAFE ELAN CATERING LIMITED",)]


def test_green_edge_cases(built):
    assert facts(built, "keyword_with_exclusion")[0][8] is None  # "petrol, diesel and electric vehicle charging"
    assert facts(built, "ambiguous_cpv_keyword_and_exclusion")[0][8] is None  # HVAC + heat pump + fossil
    assert facts(built, "green_via_additional_classification")[0][8] == "renewable_energy"
    assert facts(built, "green_via_item_classification")[0][8] == "energy_efficiency_and_heat"


def test_find_a_tender_cases(built):
    fts = EDGE_CASES["find_a_tender"]
    rows = query(built, "SELECT ocid, count(*), sum(value_gbp), bool_or(is_vcse) FROM marts.fct_award_suppliers "
                        "WHERE source = 'find_a_tender' GROUP BY ocid")
    by_ocid = {r[0]: r[1:] for r in rows}
    assert by_ocid[fts["framework_five_suppliers"]][0] == 5
    assert by_ocid[fts["sme_vcse_supplier"]][2] is True
    assert query(built, "SELECT supplier_postcode, locality FROM marts.fct_award_suppliers WHERE ocid = ?",
                 [fts["supplier_without_postcode"]]) == [(None, "unknown")]
