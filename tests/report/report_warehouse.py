"""A small published warehouse with exactly the contract's section-7 columns, built with DuckDB.

The facts are written by hand; the three share marts are derived from them by SQL that follows the
contract's definitions, so every figure reconciles as in a real publish. It holds what the sample run
lacks: a publisher outside any combined authority (null combined-authority figures), a credit note,
two financial years, and supplier names that are HTML and spreadsheet formulas.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

SANDWELL = "Sandwell Metropolitan Borough Council"
WALSALL = "Walsall Council"
WARWICKSHIRE = "Warwickshire County Council"
HTML_SUPPLIER = "</script><b>Bold & Sons</b> Ltd"
FORMULA_SUPPLIER = "=HYPERLINK(\"http://evil.example\",\"click\")"
RUN_ID = "run-synthetic-1"

BUYERS = [  # buyer_name, publisher_id, lad_code, combined_authority_code, region_code
    (SANDWELL, "sandwell", "E08000028", "E47000007", "E12000005"),
    (WALSALL, "walsall", "E08000030", "E47000007", "E12000005"),
    (WARWICKSHIRE, "warwickshire", "E07000222", None, "E12000005"),
    ("Cabinet Office", None, "E09000033", None, None),
]

SUPPLIERS = [  # supplier_key, supplier_name, company_number, scale, is_vcse, postcode, lad_code
    ("GB-COH-00000001", "Smethwick Cleaning Ltd", "00000001", "sme", False, "B66 1AA", "E08000028"),
    ("GB-COH-00000002", "Albion Security Services Ltd", "00000002", "large", False, "WS1 1AA", "E08000030"),
    ("NAME-FORWARD STEPS CHARITY", "Forward Steps Charity", None, "sme", True, "CV1 1AA", "E08000026"),
    ("NAME-BOLD AND SONS LIMITED", HTML_SUPPLIER, None, "unknown", None, None, None),
    ("NAME-HYPERLINK", FORMULA_SUPPLIER, None, "large", False, "SW1A 1AA", "E09000033"),
    ("GB-COH-00000003", "Rugby Retrofit Ltd", "00000003", "sme", False, "CV21 1AA", "E07000220"),
]

# publisher, buyer, date, amount, supplier_key (None: redacted), locality, green_category
PAYMENTS = [
    ("sandwell", SANDWELL, date(2024, 3, 5), "1200.00", "GB-COH-00000001", "in_authority", None),
    ("sandwell", SANDWELL, date(2024, 3, 9), "800.50", "GB-COH-00000002", "in_combined_authority", None),
    ("sandwell", SANDWELL, date(2024, 4, 2), "2310.00", "NAME-FORWARD STEPS CHARITY", "in_combined_authority",
     "energy_efficiency_and_heat"),
    ("sandwell", SANDWELL, date(2024, 4, 20), "-640.00", "GB-COH-00000001", "in_authority", None),
    ("sandwell", SANDWELL, date(2024, 4, 21), "519.89", None, "unknown", None),
    ("sandwell", SANDWELL, date(2025, 1, 14), "7956.42", "NAME-BOLD AND SONS LIMITED", "unknown", "waste_and_circular"),
    ("walsall", WALSALL, date(2024, 4, 3), "999.99", "GB-COH-00000002", "in_authority", None),
    ("walsall", WALSALL, date(2024, 5, 30), "4500.00", "NAME-HYPERLINK", "elsewhere", "renewable_energy"),
    ("walsall", WALSALL, date(2025, 2, 1), "333.33", "GB-COH-00000001", "in_combined_authority", None),
    ("warwickshire", WARWICKSHIRE, date(2024, 6, 11), "10000.00", "GB-COH-00000003", "in_region", "energy_efficiency_and_heat"),
    ("warwickshire", WARWICKSHIRE, date(2024, 6, 12), "250.00", "GB-COH-00000001", "in_region", None),
]

# source, buyer, date, value, supplier_key, locality, green_category
AWARDS = [
    ("contracts_finder", SANDWELL, date(2024, 4, 15), "150000.00", "GB-COH-00000001", "in_authority", None),
    ("contracts_finder", SANDWELL, date(2024, 4, 15), "150000.00", "GB-COH-00000002", "in_combined_authority", None),
    ("find_a_tender", WALSALL, date(2024, 9, 1), "2500000.00", "NAME-FORWARD STEPS CHARITY", "in_combined_authority",
     "nature_and_adaptation"),
    ("find_a_tender", WALSALL, date(2024, 9, 1), None, "GB-COH-00000002", "in_authority", None),
    ("contracts_finder", "Cabinet Office", date(2024, 4, 1), "900000.00", "GB-COH-00000002", "elsewhere", None),
]

SUMMARY = {
    "run_id": RUN_ID,
    "message": "published",
    "sources": [
        {"source": "contracts_finder", "ok": True, "message": "Contracts Finder: 5 new releases (5 seen on 1 pages)",
         "releases_new": 5, "releases_seen": 5, "pages": 1},
        {"source": "local_spend", "ok": False,
         "message": "Spend feeds: 3 files loaded, 0 unchanged, 1 failed; 11 rows loaded, 3 rejected — "
                    "walsall https://example.org/w.csv: no amount column",
         "files_new": 3, "files_unchanged": 0, "files_failed": 1, "rows_loaded": 11, "rows_rejected": 3},
    ],
    "transform_error": None,
    "validation": {"passed": True, "expectations": 42, "failed": [], "data_docs": "/tmp/x/index.html"},
    "headlines": [],
}


def _financial_year(day: date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def make_warehouse(path: Path) -> Path:
    suppliers = {s[0]: s for s in SUPPLIERS}
    buyers = {b[0]: b for b in BUYERS}
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA ops; CREATE SCHEMA meta")
        con.execute("""CREATE TABLE marts.fct_payments (payment_key VARCHAR, publisher_id VARCHAR, buyer_name VARCHAR,
            buyer_lad_code VARCHAR, payment_date DATE, month DATE, financial_year VARCHAR, amount_gbp DECIMAL(18,2),
            supplier_key VARCHAR, supplier_name VARCHAR, is_redacted BOOLEAN, expense_description VARCHAR,
            scale VARCHAR, is_vcse BOOLEAN, supplier_postcode VARCHAR, supplier_lad_code VARCHAR, locality VARCHAR,
            green_category VARCHAR, green_rule VARCHAR, source_file VARCHAR, source_row INTEGER)""")
        for i, (publisher, buyer, day, amount, key, locality, green) in enumerate(PAYMENTS, start=1):
            s = suppliers.get(key)
            con.execute("INSERT INTO marts.fct_payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                f"p{i}", publisher, buyer, buyers[buyer][2], day, day.replace(day=1), _financial_year(day), amount,
                key, s[1] if s else None, s is None, "Services", s[3] if s else "unknown", s[4] if s else None,
                s[5] if s else None, s[6] if s else None, locality, green, f"rule-{green}" if green else None,
                f"landing/spend/{publisher}.csv", i])
        con.execute("""CREATE TABLE marts.fct_award_suppliers (source VARCHAR, ocid VARCHAR, award_id VARCHAR,
            buyer_name VARCHAR, buyer_lad_code VARCHAR, award_date DATE, month DATE, financial_year VARCHAR,
            value_gbp DECIMAL(18,2), supplier_key VARCHAR, supplier_name VARCHAR, scale VARCHAR, is_vcse BOOLEAN,
            supplier_postcode VARCHAR, supplier_lad_code VARCHAR, locality VARCHAR, cpv_code VARCHAR, title VARCHAR,
            green_category VARCHAR, green_rule VARCHAR)""")
        for i, (source, buyer, day, value, key, locality, green) in enumerate(AWARDS, start=1):
            s = suppliers[key]
            con.execute("INSERT INTO marts.fct_award_suppliers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                source, f"ocds-{i}", f"award-{i}", buyer, buyers[buyer][2], day, day.replace(day=1),
                _financial_year(day), value, key, s[1], s[3], s[4], s[5], s[6], locality, "79710000", "Services",
                green, f"rule-{green}" if green else None])
        con.execute("""CREATE TABLE marts.dim_suppliers (supplier_key VARCHAR, supplier_name VARCHAR,
            company_number VARCHAR, scale VARCHAR, is_vcse BOOLEAN, postcode VARCHAR, lad_code VARCHAR)""")
        con.executemany("INSERT INTO marts.dim_suppliers VALUES (?, ?, ?, ?, ?, ?, ?)", SUPPLIERS)
        con.execute("""CREATE OR REPLACE TABLE marts.dim_suppliers AS SELECT d.*,
            (SELECT count(*) FROM marts.fct_payments p WHERE p.supplier_key = d.supplier_key) AS n_payments,
            (SELECT coalesce(sum(amount_gbp), 0) FROM marts.fct_payments p WHERE p.supplier_key = d.supplier_key)::DECIMAL(18,2) AS paid_gbp,
            (SELECT count(*) FROM marts.fct_award_suppliers a WHERE a.supplier_key = d.supplier_key) AS n_awards,
            (SELECT coalesce(sum(value_gbp), 0) FROM marts.fct_award_suppliers a WHERE a.supplier_key = d.supplier_key)::DECIMAL(18,2) AS awarded_gbp
            FROM marts.dim_suppliers d""")
        con.execute("""CREATE TABLE marts.dim_buyers (buyer_name VARCHAR, publisher_id VARCHAR, lad_code VARCHAR,
            combined_authority_code VARCHAR, region_code VARCHAR)""")
        con.executemany("INSERT INTO marts.dim_buyers VALUES (?, ?, ?, ?, ?)", BUYERS)
        con.execute("""CREATE OR REPLACE TABLE marts.dim_buyers AS SELECT b.*,
            (SELECT count(*) FROM marts.fct_payments p WHERE p.buyer_name = b.buyer_name) AS n_payments,
            (SELECT coalesce(sum(amount_gbp), 0) FROM marts.fct_payments p WHERE p.buyer_name = b.buyer_name)::DECIMAL(18,2) AS paid_gbp,
            (SELECT count(*) FROM marts.fct_award_suppliers a WHERE a.buyer_name = b.buyer_name) AS n_awards,
            (SELECT coalesce(sum(value_gbp), 0) FROM marts.fct_award_suppliers a WHERE a.buyer_name = b.buyer_name)::DECIMAL(18,2) AS awarded_gbp
            FROM marts.dim_buyers b""")
        con.execute("""CREATE TEMP VIEW facts AS
            SELECT 'payments' AS source, buyer_name, month, amount_gbp AS gbp, scale, is_vcse, locality, green_category
            FROM marts.fct_payments
            UNION ALL
            SELECT source, buyer_name, month, value_gbp, scale, is_vcse, locality, green_category
            FROM marts.fct_award_suppliers WHERE value_gbp IS NOT NULL""")
        con.execute("""CREATE TABLE marts.sme_spend AS
            SELECT source, buyer_name, month, sum(gbp)::DECIMAL(18,2) AS total_gbp,
                   coalesce(sum(gbp) FILTER (scale = 'sme'), 0)::DECIMAL(18,2) AS sme_gbp,
                   coalesce(sum(gbp) FILTER (scale = 'large'), 0)::DECIMAL(18,2) AS large_gbp,
                   coalesce(sum(gbp) FILTER (scale = 'unknown'), 0)::DECIMAL(18,2) AS unknown_gbp,
                   coalesce(sum(gbp) FILTER (is_vcse), 0)::DECIMAL(18,2) AS vcse_gbp,
                   sme_gbp / nullif(total_gbp, 0) AS sme_share,
                   sme_gbp / nullif(sme_gbp + large_gbp, 0) AS sme_share_of_known
            FROM facts GROUP BY ALL""")
        con.execute("""CREATE TABLE marts.local_spend AS
            SELECT f.source, f.buyer_name, f.month, sum(gbp)::DECIMAL(18,2) AS total_gbp,
                   coalesce(sum(gbp) FILTER (locality = 'in_authority'), 0)::DECIMAL(18,2) AS in_authority_gbp,
                   CASE WHEN any_value(b.combined_authority_code) IS NOT NULL THEN coalesce(sum(gbp) FILTER
                       (locality IN ('in_authority', 'in_combined_authority')), 0) END::DECIMAL(18,2)
                       AS in_combined_authority_gbp,
                   CASE WHEN any_value(b.region_code) IS NOT NULL THEN coalesce(sum(gbp) FILTER
                       (locality IN ('in_authority', 'in_combined_authority', 'in_region')), 0) END::DECIMAL(18,2)
                       AS in_region_gbp,
                   coalesce(sum(gbp) FILTER (locality = 'elsewhere'), 0)::DECIMAL(18,2) AS elsewhere_gbp,
                   coalesce(sum(gbp) FILTER (locality = 'unknown'), 0)::DECIMAL(18,2) AS unknown_gbp,
                   in_authority_gbp / nullif(total_gbp, 0) AS in_authority_share,
                   in_combined_authority_gbp / nullif(total_gbp, 0) AS in_combined_authority_share,
                   in_region_gbp / nullif(total_gbp, 0) AS in_region_share
            FROM facts f JOIN marts.dim_buyers b USING (buyer_name) GROUP BY ALL""")
        con.execute("""CREATE TABLE marts.green_spend AS
            WITH tagged AS (
                SELECT source, buyer_name, month, green_category, sum(gbp) AS gbp FROM facts GROUP BY ALL
            )
            SELECT s.source, s.buyer_name, s.month, c.category AS green_category,
                   coalesce(t.gbp, 0)::DECIMAL(18,2) AS green_gbp, s.total_gbp,
                   coalesce(t.gbp, 0) / nullif(s.total_gbp, 0) AS green_share
            FROM marts.sme_spend s CROSS JOIN (VALUES ('renewable_energy'), ('energy_efficiency_and_heat'),
                ('low_emission_transport'), ('waste_and_circular'), ('environmental_services'),
                ('nature_and_adaptation')) c(category)
            LEFT JOIN tagged t ON t.source = s.source AND t.buyer_name = s.buyer_name AND t.month = s.month
                AND t.green_category = c.category""")
        con.execute("""CREATE TABLE ops.runs (run_id VARCHAR PRIMARY KEY, mode VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, message VARCHAR,
            summary JSON)""")
        started = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
        con.execute("INSERT INTO ops.runs VALUES (?, 'live', ?, NULL, 'published', 'published', ?)",
                    [RUN_ID, started, json.dumps(SUMMARY)])
        con.execute("CREATE TABLE meta.published_tables (table_name VARCHAR, row_count BIGINT, run_id VARCHAR, "
                    "published_at TIMESTAMPTZ)")
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall():
            rows = con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
            con.execute("INSERT INTO meta.published_tables VALUES (?, ?, ?, ?)",
                        [f"marts.{table}", rows, RUN_ID, started])
    finally:
        con.close()
    return path
