"""Council payments through the whole dbt build, against suppliers known from the real Contracts Finder
releases: de-duplication of republished files, supplier resolution and keys, redaction, locality for
every WMCA council, and reconciliation of the marts. Raw rows are hand-made; the expected values are
worked out in the comments from those rows and the fixtures' notices."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest

from dbt_raw_fixtures import WMCA, insert_payments, make_settings, payment, query
from flows.database import working_db
from flows.transform import TransformError, build


@pytest.fixture(scope="module")
def built(awards_and_payments):
    settings, _ = awards_and_payments
    return settings

def payments(settings):
    rows = query(settings, """
        SELECT publisher_id, source_file, source_row, supplier_key, scale, is_vcse, supplier_postcode,
               supplier_lad_code, locality, green_category
        FROM marts.fct_payments ORDER BY publisher_id, source_file, source_row""")
    return {(r[0], r[1].rsplit("/", 1)[-1], r[2]): r[3:] for r in rows}


def test_republished_lines_are_counted_once_and_repeats_in_one_file_kept(built):
    keys = set(payments(built))
    # From the republished file only the new May line (row 5) counts; both identical T103 lines of the
    # April file count (a genuine repeat), their two republished copies do not.
    assert {k for k in keys if k[0] == "birmingham"} == {
        ("birmingham", "2025-04.csv", 2), ("birmingham", "2025-04.csv", 3), ("birmingham", "2025-04.csv", 4),
        ("birmingham", "2025-04.csv", 5), ("birmingham", "2025-04.csv", 6), ("birmingham", "2025-04-and-05.csv", 5),
    }
    assert query(built, "SELECT count(*), sum(amount_gbp) FROM int_spend__payments_ranked WHERE copy_rank > 1".replace(
        "int_spend__payments_ranked", "intermediate.int_spend__payments_ranked")) == [(3, Decimal("800.00"))]
    assert query(built, "SELECT count(*), sum(amount_gbp) FROM marts.fct_payments") == [(12, Decimal("4930.00"))]


def test_supplier_keys_resolution_and_attributes(built):
    got = payments(built)
    april = lambda row: got[("birmingham", "2025-04.csv", row)]  # noqa: E731
    # Name match to the directory (notice: no details -> unknown scale; B17 0TP is in Birmingham itself).
    assert april(2) == ("NAME-HENNESSY FLOORING LIMITED", "unknown", None, "B17 0TP", "E08000025", "in_authority", None)
    # Company number match: the notice says sme, registered office EC2A 3JL (Hackney).
    assert april(3) == ("GB-COH-04103211", "sme", False, "EC2A 3JL", "E09000012", "elsewhere", None)
    # Redacted: no supplier, unknown everywhere; its description is still tagged green.
    assert april(4) == (None, "unknown", None, None, None, "unknown", "energy_efficiency_and_heat")
    # Unmatched payee: its own supplier by normalised name, located by the postcode its file gives
    # (CV1 2GN, Coventry: same combined authority as Birmingham).
    assert april(5) == ("NAME-LOCAL BUILDERS LIMITED", "unknown", None, "CV1 2GN", "E08000026",
                        "in_combined_authority", None)
    # Unmatched payee with a company number: GB-COH key, kept as published (SC prefix not padded away).
    assert got[("birmingham", "2025-04-and-05.csv", 5)] == (
        "GB-COH-SC123456", "unknown", None, None, None, "unknown", "waste_and_circular")
    # "The Hennessy Flooring Ltd." normalises to the same supplier as the Birmingham payee.
    assert got[("wolverhampton", "2025-06.csv", 2)][:1] == ("NAME-HENNESSY FLOORING LIMITED",)
    assert query(built, "SELECT company_number, n_payments, paid_gbp FROM marts.dim_suppliers "
                        "WHERE supplier_key = 'GB-COH-SC123456'") == [("SC123456", 1, Decimal("80.00"))]
    assert query(built, "SELECT n_payments, paid_gbp, n_awards, awarded_gbp, scale FROM marts.dim_suppliers "
                        "WHERE supplier_key = 'NAME-HENNESSY FLOORING LIMITED'") == [
        (2, Decimal("1800.00"), 1, Decimal("1126.96"), "unknown")]
    assert query(built, "SELECT count(*) FROM marts.fct_payments WHERE is_redacted AND supplier_key IS NOT NULL") == [(0,)]


def test_locality_for_every_wmca_council(built):
    got = payments(built)
    locality = {k[0]: v[5] for k, v in got.items() if k[0] != "birmingham"}
    assert locality == {
        "coventry": "elsewhere",  # Aker Systems (name match) at OX26 6AD, Cherwell
        "dudley": "in_region",  # McManus Flooring at WV10 7BY, South Staffordshire: region, no combined authority
        "sandwell": "in_region",  # LGM Ltd -> LGM LIMITED at DY11 7QY, Wyre Forest
        "solihull": "unknown",  # no postcode anywhere
        "walsall": "elsewhere",  # Landmark International School, Cambridgeshire
        "wolverhampton": "in_combined_authority",  # Hennessy at B17 0TP, Birmingham
    }
    assert got[("walsall", "2025-06.csv", 2)][1:3] == ("large", True)


def test_every_wmca_council_has_figures_in_every_breakdown(built):
    names = sorted(name for name, _ in WMCA.values())
    for mart in ("sme_spend", "local_spend", "green_spend"):
        rows = query(built, f"SELECT DISTINCT buyer_name FROM marts.{mart} WHERE source = 'payments' AND total_gbp <> 0 "
                            "ORDER BY 1")
        assert [r[0] for r in rows] == names, mart
    buyers = query(built, "SELECT buyer_name, publisher_id, lad_code, combined_authority_code, region_code "
                          "FROM marts.dim_buyers WHERE publisher_id IS NOT NULL ORDER BY publisher_id")
    assert buyers == [(name, pid, lad, "E47000007", "E12000005") for pid, (name, lad) in sorted(WMCA.items())]


def test_marts_reconcile(built):
    assert query(built, "SELECT count(*) FROM marts.sme_spend WHERE sme_gbp + large_gbp + unknown_gbp <> total_gbp") == [(0,)]
    assert query(built, """
        SELECT count(*) FROM marts.sme_spend s FULL JOIN marts.local_spend l USING (source, buyer_name, month)
        WHERE s.total_gbp IS DISTINCT FROM l.total_gbp""") == [(0,)]
    assert query(built, "SELECT sum(total_gbp) FROM marts.sme_spend WHERE source = 'payments'") == [(Decimal("4930.00"),)]
    # Birmingham April: 1000 in_authority, 500 elsewhere, 250 unknown (redacted), -200 in_combined_authority.
    assert query(built, """
        SELECT total_gbp, in_authority_gbp, in_combined_authority_gbp, in_region_gbp, elsewhere_gbp, unknown_gbp
        FROM marts.local_spend WHERE buyer_name = 'Birmingham City Council' AND month = DATE '2025-04-01'""") == [
        (Decimal("1550.00"), Decimal("1000.00"), Decimal("800.00"), Decimal("800.00"), Decimal("500.00"),
         Decimal("250.00"))]
    assert query(built, """
        SELECT sme_gbp, large_gbp, unknown_gbp FROM marts.sme_spend
        WHERE buyer_name = 'Birmingham City Council' AND month = DATE '2025-04-01'""") == [
        (Decimal("500.00"), Decimal("0.00"), Decimal("1050.00"))]
    assert query(built, """
        SELECT green_category, green_gbp, total_gbp FROM marts.green_spend
        WHERE buyer_name = 'Solihull Metropolitan Borough Council' AND green_gbp <> 0""") == [
        ("low_emission_transport", Decimal("600.00"), Decimal("600.00"))]


def test_a_failing_test_is_named_in_the_transform_error(built, tmp_path):
    # On a copy of the built database, a raw payment line that never reached fct_payments breaks the
    # raw-to-facts reconciliation; running just that test must fail and name it.
    copy = make_settings(tmp_path)
    with working_db(built) as con:
        con.execute("CHECKPOINT")  # everything into the main file before copying it
    shutil.copy(built.work_db, copy.work_db)
    with working_db(copy) as con:
        insert_payments(con, [payment("birmingham", "landing/late.csv", 2, date(2025, 6, 1), "1.00", "X",
                                      transaction_number="N1")])
    with pytest.raises(TransformError) as caught:
        build(copy, select="assert_raw_payments_reconcile")
    assert "assert_raw_payments_reconcile" in str(caught.value)
    assert caught.value.failures == ["test assert_raw_payments_reconcile: fail (Got 1 result, configured to fail if != 0)"]


def test_null_columns_fail_the_build_with_one_result_per_column(built, tmp_path):
    # The not-null rules of a model are one dbt test (tests/generic/columns_not_null.sql); lines missing
    # two of them must fail it with one result per column, not pass or count lines. The raw table's own
    # NOT NULL constraints are dropped on a copy, as a loader regression would.
    copy = make_settings(tmp_path)
    with working_db(built) as con:
        con.execute("CHECKPOINT")
    shutil.copy(built.work_db, copy.work_db)
    line = payment("birmingham", "landing/broken.csv", 2, date(2025, 6, 1), "1.00", "X")
    line["amount_gbp"] = line["publisher_id"] = None
    with working_db(copy) as con:
        con.execute("CREATE TABLE raw.unconstrained AS SELECT * FROM raw.spend_payments")
        con.execute("DROP TABLE raw.spend_payments CASCADE")
        con.execute("ALTER TABLE raw.unconstrained RENAME TO spend_payments")
        insert_payments(con, [line, {**line, "source_row": 3}])
    with pytest.raises(TransformError) as caught:
        build(copy, select="stg_spend__payments")
    assert [f for f in caught.value.failures if "columns_not_null" in f] == [
        "test columns_not_null_stg_spend__payments_publisher_id__source_file__source_row__amount_gbp__is_redacted: "
        "fail (Got 2 results, configured to fail if != 0)"]
