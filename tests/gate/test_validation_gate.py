import hashlib
import json

import duckdb
import pytest

from expectations.suites import SUITES
from flows.publish import publish, publish_if_valid
from flows.validate import ValidationError, validate


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def execute(settings, *statements):
    con = duckdb.connect(str(settings.work_db))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def failures_by_table(report):
    return {(f.table, f.expectation) for f in report.failures}


def test_valid_working_db_passes_and_saves_results_and_docs(settings):
    report = validate(settings, run_id="run-ok")

    assert report.failures == []
    assert report.passed
    assert report.skipped_tables == []
    n_expected = sum(1 + len(s.rows) + len(s.checks) + (s.max_shrink is not None) for s in SUITES)
    assert report.expectations_evaluated == n_expected
    assert report.row_counts["marts.sme_spend"] == 3
    assert report.rows_checked == report.row_counts  # the first validation covers every row
    # GX sees only rows that could fail a row expectation: here the Birmingham payments month whose
    # net sme_share_of_known of 1.2 is outside its bounds but also outside the expectation's row
    # condition, which GX applies (and passes).
    assert report.rows_to_gx == {**{t: 0 for t in report.row_counts}, "marts.sme_spend": 1}
    assert report.data_docs_index.is_file()
    assert "marts.sme_spend.checks" in report.data_docs_index.read_text()
    summary = json.loads(report.result_path.read_text())
    assert summary["passed"] is True and summary["run_id"] == "run-ok"
    stored = list((settings.home / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == len(report.gx_result_ids) >= len(SUITES) * 2
    con = duckdb.connect(str(settings.work_db), read_only=True)
    counts = dict(con.execute("SELECT table_name, row_count FROM ops.validation_row_counts WHERE run_id = 'run-ok'").fetchall())
    con.close()
    assert counts == report.row_counts


def test_broken_reconciliation_fails_names_the_expectation_and_keeps_the_warehouse(settings):
    publish(settings, run_id="published-before")
    warehouse_before = sha256(settings.warehouse_db)
    parquet_before = sha256(settings.home / "marts" / "sme_spend.parquet")
    execute(settings, "UPDATE marts.sme_spend SET sme_gbp = sme_gbp + 100 WHERE buyer_name = 'Coventry City Council'")

    report, published = publish_if_valid(settings, run_id="run-broken")

    assert published is None
    assert not report.passed
    assert ("marts.sme_spend", "sme_large_unknown_sum_to_total") in failures_by_table(report)
    failure = next(f for f in report.failures if f.expectation == "sme_large_unknown_sum_to_total")
    assert "Coventry City Council" in failure.details and "5100.00" in failure.details
    assert "marts.sme_spend: sme_large_unknown_sum_to_total" in report.failed_expectations
    assert sha256(settings.warehouse_db) == warehouse_before
    assert sha256(settings.home / "marts" / "sme_spend.parquet") == parquet_before
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT count(*) FROM ops.validation_row_counts").fetchone()[0] == 0
    con.close()


def test_row_level_schema_and_cross_table_breakages_are_each_named(settings):
    execute(
        settings,
        "UPDATE marts.fct_payments SET scale = 'medium' WHERE payment_key = 'pay-c-1'",
        "UPDATE marts.fct_award_suppliers SET value_gbp = -25000 WHERE supplier_key = 'GB-COH-00000123'",
        "UPDATE marts.local_spend SET total_gbp = total_gbp + 1 WHERE source = 'payments' AND buyer_name LIKE 'Cov%'",
        "UPDATE raw.spend_payments SET payment_date = DATE '1899-12-30' WHERE source_row = 4",
        "DELETE FROM marts.dim_buyers WHERE publisher_id = 'coventry'",
        "ALTER TABLE marts.green_spend DROP COLUMN green_share",
        "DROP TABLE marts.dim_suppliers",
        "DROP TABLE raw.spend_rejects",
        "INSERT INTO raw.spend_publishers VALUES ('coventry', 'Coventry CC', 'E08000026', 'http://127.0.0.1:8000/c.csv', 'csv')",
    )

    report = validate(settings)

    failed = failures_by_table(report)
    assert ("marts.fct_payments", "expect_column_values_to_be_in_set(scale)") in failed
    assert ("marts.fct_award_suppliers", "expect_column_values_to_be_between(value_gbp)") in failed
    assert ("marts.local_spend", "total_gbp_matches_sme_spend") in failed
    assert ("raw.spend_payments", "expect_column_values_to_be_between(payment_date)") in failed
    assert ("marts.dim_buyers", "known_buyers_present") in failed
    assert ("marts.dim_buyers", "fact_buyers_present") in failed
    assert ("marts.green_spend", "contract_columns_present") in failed
    assert ("marts.dim_suppliers", "contract_columns_present") in failed
    assert ("raw.spend_publishers", "one_name_and_area_per_publisher") in failed
    # raw.spend_rejects only exists once spend has been ingested: its absence is not a failure.
    assert report.skipped_tables == ["raw.spend_rejects"]
    scale = next(f for f in report.failures if f.expectation == "expect_column_values_to_be_in_set(scale)")
    assert "medium" in scale.details and scale.details.startswith("1 unexpected row")
    schema = next(f for f in report.failures if f.table == "marts.green_spend" and f.expectation == "contract_columns_present")
    assert "green_share" in schema.details
    # The negative award share also no longer adds up to its sme_spend total.
    assert ("marts.sme_spend", "totals_match_fact_tables") in failed
    # Nothing that was left intact fails: each breakage is reported where it is, not everywhere.
    assert {t for t, _ in failed} == {
        "marts.fct_payments", "marts.fct_award_suppliers", "marts.local_spend", "raw.spend_payments",
        "marts.dim_buyers", "marts.green_spend", "marts.dim_suppliers", "raw.spend_publishers", "marts.sme_spend",
    }


def test_net_payment_shares_above_one_are_not_errors_but_award_shares_are(settings):
    execute(settings, "UPDATE marts.sme_spend SET sme_share = 1.5 WHERE source = 'contracts_finder'")
    report = validate(settings, suites=[s for s in SUITES if s.table == "marts.sme_spend"])
    failed = failures_by_table(report)
    share = "expect_column_values_to_be_between(sme_share) where (sme_gbp >= 0 AND large_gbp >= 0 AND unknown_gbp >= 0)"
    assert ("marts.sme_spend", share) in failed
    # The Birmingham payments month has sme_share_of_known = 1.2 from a credit note, and passes.
    assert not any("sme_share_of_known" in name for _, name in failed)


def test_row_count_drift_against_the_last_passing_validation(settings):
    payments = [s for s in SUITES if s.table == "raw.spend_payments"]
    execute(settings, "INSERT INTO raw.spend_payments SELECT * REPLACE (source_row + 100 AS source_row) FROM raw.spend_payments")
    assert validate(settings, suites=payments).passed
    execute(settings, "DELETE FROM raw.spend_payments WHERE source_row > 100 AND publisher_id = 'birmingham'")

    report = validate(settings, suites=payments)

    assert failures_by_table(report) == {("raw.spend_payments", "row_count_drift")}
    assert "5 rows now, 8 at the last passing validation" in report.failures[0].details


def test_rows_that_could_fail_reach_gx_in_chunks_and_are_counted_together(settings):
    payments = [s for s in SUITES if s.table == "raw.spend_payments"]
    execute(
        settings,
        "INSERT INTO raw.spend_payments SELECT p.* REPLACE (source_row + i AS source_row) "
        "FROM raw.spend_payments p, range(10, 5010) r(i) WHERE source_row = 2 AND publisher_id = 'coventry'",
        # Every other new line has an impossible amount: the rows GX sees are spread over the table.
        "UPDATE raw.spend_payments SET amount_gbp = 2e9 WHERE source_row >= 10 AND source_row % 2 = 0",
    )

    report = validate(settings, suites=payments, chunk_rows=1000)

    assert report.rows_checked["raw.spend_payments"] == 5004
    assert report.rows_to_gx["raw.spend_payments"] == 2500  # only the lines that could fail a row expectation
    rows_results = {r for r in report.gx_result_ids if "/rows/" in r}
    assert 2 <= len(rows_results) <= 3  # 2500 rows in frames of 1000 to 3047 rows, each result stored apart
    [failure] = report.failures
    assert failure.expectation == "expect_column_values_to_be_between(amount_gbp)"
    assert failure.details.startswith("2500 unexpected row(s)") and "2000000000" in failure.details


def test_after_a_pass_row_expectations_see_only_rows_loaded_since(settings):
    payments = [s for s in SUITES if s.table == "raw.spend_payments"]
    first = validate(settings, suites=payments)
    assert first.passed and first.rows_changed_since is None
    assert first.rows_checked["raw.spend_payments"] == 4
    # A new line with an impossible amount, loaded after that validation; an old line broken in place,
    # which no loader does (rows are only added or removed), is not looked at again.
    execute(
        settings,
        "INSERT INTO raw.spend_payments SELECT * REPLACE (source_row + 100 AS source_row, 2e9 AS amount_gbp, "
        "current_timestamp AS loaded_at) FROM raw.spend_payments WHERE source_row = 2 AND publisher_id = 'coventry'",
        "UPDATE raw.spend_payments SET amount_gbp = 3e9 WHERE source_row = 3 AND publisher_id = 'birmingham'",
    )

    report = validate(settings, suites=payments)

    assert report.rows_changed_since is not None
    assert report.rows_checked["raw.spend_payments"] == 1
    [failure] = report.failures
    assert failure.expectation == "expect_column_values_to_be_between(amount_gbp)"
    assert failure.details.startswith("1 unexpected row(s)") and "2000000000" in failure.details
    # Whole-table checks still count every row.
    assert report.row_counts["raw.spend_payments"] == 5


def test_after_a_pass_a_new_duplicate_key_is_still_found(settings):
    payments = [s for s in SUITES if s.table == "raw.spend_payments"]
    assert validate(settings, suites=payments).passed
    # The same (file, row) loaded again: an old row and a new one share the key.
    execute(settings, "INSERT INTO raw.spend_payments SELECT * REPLACE (current_timestamp AS loaded_at) "
                      "FROM raw.spend_payments WHERE source_row = 2 AND publisher_id = 'coventry'")

    report = validate(settings, suites=payments)

    assert report.rows_changed_since is not None
    [failure] = report.failures
    assert failure.expectation == "unique_source_file_source_row"
    assert "1 violating row(s)" in failure.details and "coventry" in failure.details and '"n": "2"' in failure.details


def test_changed_suites_validate_every_row_again(settings):
    from flows.validate import rows_changed_since, suites_hash

    validate(settings, suites=[s for s in SUITES if s.table == "marts.sme_spend"])
    con = duckdb.connect(str(settings.work_db))
    try:
        assert rows_changed_since(con, suites_hash()) is not None
        assert rows_changed_since(con, "the hash of other suites") is None
    finally:
        con.close()


def test_missing_working_db_is_a_clear_error(tmp_path):
    from flows.config import load_settings

    with pytest.raises(ValidationError, match="no working database"):
        validate(load_settings({"PROCUREMENT_HOME": str(tmp_path)}))


def test_only_the_newest_runs_are_kept_in_results_and_data_docs(settings):
    sme = [s for s in SUITES if s.table == "marts.sme_spend"]
    for run_id in ("run-a", "run-b", "run-c"):
        report = validate(settings, run_id=run_id, suites=sme, keep_runs=2)

    validations = settings.home / "gx" / "uncommitted" / "validations"
    kept = {p.name for p in validations.glob("marts/sme_spend/*/*")}
    assert kept == {"run-b", "run-c"}
    assert not list(report.data_docs_index.parent.glob("validations/*/*/*/run-a"))
    assert "run-a" not in report.data_docs_index.read_text()
    assert "run-c" in report.data_docs_index.read_text()
    assert sorted(p.stem for p in report.result_path.parent.glob("*.json")) == ["run-b", "run-c"]


def test_dates_outside_the_plausible_window_fail_even_beyond_pandas_range(settings):
    raw = [s for s in SUITES if s.table in ("raw.spend_payments", "raw.ocds_releases")]
    execute(
        settings,
        "UPDATE raw.spend_payments SET payment_date = DATE '9999-12-31' WHERE source_row = 3",
        "UPDATE raw.ocds_releases SET release_date = TIMESTAMPTZ '1970-01-01 00:00:00+00' WHERE release_id LIKE '%-1'",
    )

    report = validate(settings, suites=raw)

    assert failures_by_table(report) == {
        ("raw.spend_payments", "expect_column_values_to_be_between(payment_date)"),
        ("raw.ocds_releases", "expect_column_values_to_be_between(release_date)"),
    }
    payment = next(f for f in report.failures if f.table == "raw.spend_payments")
    assert payment.details.startswith("1 unexpected row(s)") and "2261-12-31" in payment.details


def test_a_missing_date_is_reported_as_missing_not_as_out_of_the_window(settings):
    execute(settings, "UPDATE raw.spend_payments SET payment_date = NULL WHERE source_row = 3")

    report = validate(settings, suites=[s for s in SUITES if s.table == "raw.spend_payments"])

    assert failures_by_table(report) == {("raw.spend_payments", "expect_column_values_to_not_be_null(payment_date)")}


def test_run_ids_that_could_escape_the_results_folder_are_refused(settings):
    with pytest.raises(ValueError, match="run id"):
        validate(settings, run_id="../../elsewhere")


def test_gx_objects_are_written_once_and_again_when_missing(settings):
    sme = [s for s in SUITES if s.table == "marts.sme_spend"]
    validate(settings, run_id="run-a", suites=sme)
    checkpoints = settings.home / "gx" / "checkpoints"
    written = {p.name: p.stat().st_mtime_ns for p in checkpoints.glob("*.json")}
    assert "marts.sme_spend.rows.json" in written and "marts.sme_spend.checks.json" in written

    validate(settings, run_id="run-b", suites=sme)
    assert {p.name: p.stat().st_mtime_ns for p in checkpoints.glob("*.json")} == written

    (checkpoints / "marts.sme_spend.checks.json").unlink()
    report = validate(settings, run_id="run-c", suites=sme)
    assert report.passed and (checkpoints / "marts.sme_spend.checks.json").exists()
    assert "marts.sme_spend.checks" in report.data_docs_index.read_text()


def test_each_stored_result_names_its_checkpoint_and_definition(settings):
    # validate runs each checkpoint's definitions itself; the results must carry what Checkpoint.run stores.
    sme = [s for s in SUITES if s.table == "marts.sme_spend"]
    report = validate(settings, run_id="run-a", suites=sme)

    gx = settings.home / "gx"
    checkpoints = [json.loads(p.read_text()) for p in (gx / "checkpoints").glob("*.json")]
    checkpoint_of = {d["id"]: c for c in checkpoints for d in c["validation_definitions"]}
    stored = [json.loads(p.read_text()) for p in (gx / "uncommitted" / "validations").rglob("*.json")]
    assert len(stored) == len(report.gx_result_ids) == 3  # schema, rows, checks
    for result in stored:
        checkpoint = checkpoint_of[result["meta"]["validation_id"]]
        assert result["meta"]["checkpoint_id"] == checkpoint["id"]
        definition = json.loads((gx / "validation_definitions" / f"{result['suite_name']}.json").read_text())
        assert definition["id"] == result["meta"]["validation_id"]
        assert checkpoint["name"] == f"marts.sme_spend.{'checks' if result['suite_name'].endswith('checks') else 'rows'}"
        assert result["meta"]["run_id"]["run_name"] == "run-a"


def _payments_as_a_view_of_an_attributed_table(settings):
    """fct_payments as dbt builds it: a view of the contract's columns of the incremental model."""
    execute(
        settings,
        "CREATE SCHEMA intermediate",
        "CREATE TABLE intermediate.int_spend__payments_attributed AS "
        "SELECT *, 'not in the view' AS payee_identity, TIMESTAMPTZ '2025-06-01 00:00:00+00' AS attributed_at "
        "FROM marts.fct_payments",
        "DROP TABLE marts.fct_payments",
        "CREATE VIEW marts.fct_payments AS SELECT * EXCLUDE (payee_identity, attributed_at) "
        "FROM intermediate.int_spend__payments_attributed",
    )


def test_after_a_pass_payments_are_checked_where_attributed_since(settings):
    _payments_as_a_view_of_an_attributed_table(settings)
    payments = [s for s in SUITES if s.table == "marts.fct_payments"]
    first = validate(settings, suites=payments)
    assert first.passed and first.rows_checked["marts.fct_payments"] == 4
    # A payment attributed by a later build, wrong in a row expectation, in a per-row check and in its
    # key (a copy of an older payment's); an older payment broken in place, which no build does, is not
    # looked at again by the per-row expectations and checks.
    execute(
        settings,
        "INSERT INTO intermediate.int_spend__payments_attributed SELECT * REPLACE ('medium' AS scale, "
        "DATE '2025-05-20' AS month, current_timestamp AS attributed_at) "
        "FROM intermediate.int_spend__payments_attributed WHERE payment_key = 'pay-c-1'",
        "UPDATE intermediate.int_spend__payments_attributed SET locality = 'nowhere', financial_year = '1999/00' "
        "WHERE payment_key = 'pay-b-1'",
    )

    report = validate(settings, suites=payments)

    assert report.rows_checked["marts.fct_payments"] == 1 and report.row_counts["marts.fct_payments"] == 5
    assert failures_by_table(report) == {
        ("marts.fct_payments", "expect_column_values_to_be_in_set(scale)"),
        ("marts.fct_payments", "month_is_first_day_of_date_month"),
        ("marts.fct_payments", "unique_payment_key"),
    }
    month = next(f for f in report.failures if f.expectation == "month_is_first_day_of_date_month")
    assert month.details.startswith("1 violating row(s)") and "2025-05-20" in month.details


def test_payments_are_all_checked_again_when_the_attributed_table_differs_from_the_view(settings):
    _payments_as_a_view_of_an_attributed_table(settings)
    payments = [s for s in SUITES if s.table == "marts.fct_payments"]
    assert validate(settings, suites=payments).passed
    # The view now computes a column the table holds differently: the table's rows are not the view's.
    execute(
        settings,
        "CREATE OR REPLACE VIEW marts.fct_payments AS SELECT * EXCLUDE (payee_identity, attributed_at) "
        "REPLACE (CAST(source_row AS BIGINT) AS source_row) FROM intermediate.int_spend__payments_attributed",
    )

    report = validate(settings, suites=payments)

    assert report.passed and report.rows_changed_since is not None
    assert report.rows_checked["marts.fct_payments"] == 4
