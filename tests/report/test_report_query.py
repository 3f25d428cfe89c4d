"""`procurement query`: read-only SQL over the published warehouse, as a table or as safe CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import duckdb
import pytest
from report_warehouse import FORMULA_SUPPLIER

from flows.config import load_settings
from flows.report import QueryRefused, ReportError, run_query
from flows.report.data import open_warehouse


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_select_prints_an_aligned_table_with_the_row_count(synthetic):
    out = run_query(synthetic, "SELECT buyer_name, sum(amount_gbp) AS paid, bool_or(is_redacted) AS any_redacted "
                               "FROM marts.fct_payments GROUP BY 1 ORDER BY 1")
    lines = out.splitlines()
    assert lines[0].split() == ["buyer_name", "paid", "any_redacted"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split("  ")[0] == "Sandwell Metropolitan Borough Council"
    assert lines[2].endswith("true")  # the redacted payee is Sandwell's
    assert "12146.81" in lines[2]  # 1200.00 + 800.50 + 2310.00 - 640.00 + 519.89 + 7956.42
    assert lines[-1] == "(3 rows)"
    # Numbers are right-aligned: every figure ends in the same column.
    paid_ends = {line.index(v) + len(v) for line, v in zip(lines[2:5], ("12146.81", "5833.32", "10250.00"))}
    assert len(paid_ends) == 1


def test_with_describe_show_and_explain_are_allowed(synthetic):
    assert "(1 row)" in run_query(synthetic, "WITH t AS (SELECT count(*) AS n FROM marts.dim_buyers) SELECT n FROM t")
    assert "amount_gbp" in run_query(synthetic, "DESCRIBE marts.fct_payments")
    assert "sme_spend" in run_query(synthetic, "SHOW ALL TABLES")
    assert run_query(synthetic, "EXPLAIN SELECT * FROM marts.sme_spend")
    assert "NULL" in run_query(synthetic, "SELECT supplier_name FROM marts.fct_payments WHERE is_redacted")


def test_csv_quotes_formula_text_and_keeps_negative_numbers(synthetic):
    out = run_query(synthetic, "SELECT supplier_name, amount_gbp FROM marts.fct_payments "
                               "WHERE amount_gbp < 0 OR supplier_name LIKE '=%' ORDER BY amount_gbp", csv=True)
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows == [["supplier_name", "amount_gbp"], ["Smethwick Cleaning Ltd", "-640.00"],
                    ["'" + FORMULA_SUPPLIER, "4500.00"]]


@pytest.mark.parametrize("sql, kind", [
    ("INSERT INTO marts.dim_buyers (buyer_name) VALUES ('x')", "INSERT"),
    ("UPDATE marts.fct_payments SET amount_gbp = 0", "UPDATE"),
    ("DELETE FROM marts.fct_payments", "DELETE"),
    ("DROP TABLE marts.fct_payments", "DROP"),
    ("CREATE TABLE marts.x AS SELECT 1", "CREATE"),
    ("COPY marts.fct_payments TO 'out.csv'", "COPY"),
    ("ATTACH 'other.duckdb' AS other", "ATTACH"),
    ("SET threads = 1", "SET"),
    ("INSTALL httpfs", "LOAD"),
    ("EXPORT DATABASE 'dump'", "EXPORT"),
    ("WITH t AS (SELECT 1) INSERT INTO marts.dim_buyers (buyer_name) SELECT 'x' FROM t", "INSERT"),
])
def test_statements_that_write_are_refused_before_opening_the_warehouse(synthetic, sql, kind):
    before = sha(synthetic.warehouse_db)
    with pytest.raises(QueryRefused, match=f"refused: {kind} statements .* only runs SELECT"):
        run_query(synthetic, sql)
    assert sha(synthetic.warehouse_db) == before


@pytest.mark.parametrize("sql, message", [
    ("SELECT 1; DROP TABLE marts.fct_payments", "one statement at a time, got 2"),
    ("   ", "no SQL statement given"),
    ("SELEC 1", "cannot parse the query"),
])
def test_several_empty_or_broken_statements_are_refused(synthetic, sql, message):
    with pytest.raises(QueryRefused, match=message):
        run_query(synthetic, sql)


def test_the_warehouse_is_opened_read_only(synthetic):
    with open_warehouse(synthetic) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE marts.x AS SELECT 1")


def test_a_missing_warehouse_says_to_run_the_pipeline(tmp_path):
    settings = load_settings({"PROCUREMENT_HOME": str(tmp_path / "empty")})
    with pytest.raises(ReportError, match=r"no published warehouse at .*run `procurement run` first"):
        run_query(settings, "SELECT 1")


def test_every_query_in_the_example_page_runs_on_a_contract_shaped_warehouse(synthetic):
    page = (Path(__file__).resolve().parents[2] / "docs" / "example-queries.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", page, flags=re.S)
    assert len(queries) >= 8
    for sql in queries:
        assert run_query(synthetic, sql).rstrip().endswith(("row)", "rows)")), sql
