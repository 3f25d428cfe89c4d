"""The validation gate's expectations, one `TableSuite` per table.

Each table is checked in three GX suites, because GX 1.x cannot run expectations on DuckDB through
SQLAlchemy and the biggest tables do not fit in memory as one DataFrame:

- `<table>.schema`: `ExpectTableColumnsToMatchSet` on the frame of the table's rows GX sees (column
  names only).
- `<table>.rows`: row-level GX expectations (not null, in set, between, regex), evaluated by GX on the
  rows DuckDB finds could fail one of them (`candidates.py`; usually none), with every column - the
  other rows pass them all. GX's unexpected counts and values are therefore exact at any table size.
  Only these four expectation types are translated; any other row expectation, or one with `mostly`
  below 1, makes GX see every row of the table (still correct, in chunks, but slow on a big table).
- `<table>.checks`: whole-table checks (keys unique, reconciliations, cross-table consistency,
  row-count drift). Each is a DuckDB query returning the violating rows; DuckDB counts them and GX
  checks a one-row frame of those counts, so every check is still a named GX expectation in the
  results and Data Docs, with its SQL in the expectation's `meta`.

Names are `<schema>.<table>` as in the warehouse contract. Suite parameters (`$PARAMETER`) are
filled in at validation time: the plausible date window and the previous run's row counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column, Condition

EARLIEST_DATE = {"$PARAMETER": "earliest_plausible_date"}  # 2000-01-01
LATEST_DATE = {"$PARAMETER": "latest_plausible_date"}  # validation day + 1 year
# A single council payment or award share beyond these is a parsing error (a date or reference
# read as an amount), not a real figure: the largest real contracts are frameworks of a few £bn.
MAX_PAYMENT_GBP = 1_000_000_000
MAX_AWARD_GBP = 100_000_000_000

SOURCES = ["payments", "contracts_finder", "find_a_tender"]
OCDS_SOURCES = ["contracts_finder", "find_a_tender"]
SCALES = ["sme", "large", "unknown"]
LOCALITIES = ["in_authority", "in_combined_authority", "in_region", "elsewhere", "unknown"]
GREEN_CATEGORIES = [
    "renewable_energy",
    "energy_efficiency_and_heat",
    "low_emission_transport",
    "waste_and_circular",
    "environmental_services",
    "nature_and_adaptation",
]
WMCA_CODE = "E47000007"
WMCA_COUNCILS = ["E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031"]

# Shares are only bounded by 0 and 1 when no part is negative: a credit note can push a payments
# month's sme_share above 1, which is a true net figure, not an error. Award values are never
# negative, so award rows are always bounded; payments rows only when every part is >= 0 (GX row
# conditions compare columns with constants, so for local and green shares that means awards only).
NON_NEGATIVE_SME_PARTS = (Column("sme_gbp") >= 0) & (Column("large_gbp") >= 0) & (Column("unknown_gbp") >= 0)
AWARDS_ONLY = Column("source") != "payments"
# Money is DECIMAL(18,2), so a reconciliation is exact; the half-penny tolerance only guards
# against a model that computes in DOUBLE, which the money-type check reports separately.
PENNY = 0.005


@dataclass(frozen=True)
class SqlCheck:
    name: str
    description: str
    sql: str  # returns the violating rows; none means the check passes
    # The same check when only the suite's changed rows can have broken it (the rest passed last time and
    # did not change): `{changed}` stands for those rows. None: the whole-table query always runs.
    changed_sql: str | None = None


@dataclass(frozen=True)
class TableSuite:
    table: str  # schema.table
    columns: list[str]  # the contract's columns, all required
    rows: list[gxe.Expectation] = field(default_factory=list)
    checks: list[SqlCheck] = field(default_factory=list)
    # Row-count drift: fail when the table has shrunk by more than this fraction since the last
    # passing validation; None for tables that may legitimately shrink.
    max_shrink: float | None = None
    # An optional table may be absent (skipped, not failed); when present it is checked in full.
    required: bool = True
    # The rows that may be new or changed since a time `$since`, as a SQL condition on the table. A
    # validation after a passing one evaluates the row expectations on these rows only (they are
    # per-row facts, so rows that passed and did not change still pass); None means all rows, always.
    # Whole-table checks read the whole table unless they have a `changed_sql`.
    changed_since: str | None = None
    # The table `changed_since` reads, when the suite's table is a view selecting columns of all the rows
    # of one table (not a join or a filter): its changed rows are then that table's rows meeting the
    # condition, with the view's columns, so the condition can use the table's own columns. A condition
    # on the view itself would have to find the rows by key, and DuckDB reads every key of the view for
    # that (fct_payments at 10M: ~0.8 CPU-s, against nothing for the row groups attributed_at selects).
    changed_from: str | None = None


def not_null(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def in_set(column: str, values: list[str], **kwargs) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values, **kwargs)


def between(column: str, low=None, high=None, **kwargs) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, **kwargs)


def share(column: str, condition: Condition) -> gxe.Expectation:
    return between(column, 0, 1, row_condition=condition)


def date_window(column: str) -> gxe.Expectation:
    return between(column, EARLIEST_DATE, LATEST_DATE)


def per_row(name: str, description: str, sql: str, table: str) -> SqlCheck:
    """A check of facts about single rows: `sql` reads `{rows}`, the table, or after a passing validation
    only the changed rows (the others passed it and did not change)."""
    return SqlCheck(name, description, sql.replace("{rows}", table), sql.replace("{rows}", "{changed}"))


def duplicates(table: str, key: list[str], determines: tuple[str, ...] = ()) -> SqlCheck:
    """`determines`: columns the key determines (rows with equal keys hold equal values there)."""
    cols = ", ".join(key)
    # Rows with a changed row's key hold that row's values of `determines`: DuckDB skips the row groups
    # whose statistics rule those values out, where otherwise it reads every key of the table.
    among = "".join(f"{c} IN (SELECT {c} FROM {{changed}}) AND " for c in determines)
    return SqlCheck(
        f"unique_{'_'.join(key)}",
        f"({cols}) identifies one row",
        # Grouping 64-bit hashes first is cheaper than grouping the keys (10M payment keys: ~40% less
        # CPU); equal keys have equal hashes, so only keys whose hash repeats can repeat.
        f"SELECT {cols}, count(*) AS n FROM {table} WHERE hash({cols}) IN "
        f"(SELECT hash({cols}) FROM {table} GROUP BY 1 HAVING count(*) > 1) GROUP BY ALL HAVING count(*) > 1",
        # A new duplicate involves a changed row; only keys of changed rows need counting.
        f"SELECT {cols}, count(*) AS n FROM {table} WHERE {among}({cols}) IN "
        f"(SELECT {cols} FROM {{changed}}) GROUP BY ALL HAVING count(*) > 1",
    )


def money_is_decimal(table: str) -> SqlCheck:
    schema, name = table.split(".")
    return SqlCheck(
        "money_columns_are_decimal_18_2",
        "every *_gbp column is DECIMAL(18,2) (contract section 7)",
        f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '{schema}' "
        f"AND table_name = '{name}' AND column_name LIKE '%\\_gbp' ESCAPE '\\' AND data_type <> 'DECIMAL(18,2)'",
    )


def month_and_financial_year(table: str, date_column: str) -> list[SqlCheck]:
    fy_start = f"year({date_column}) - CASE WHEN month({date_column}) < 4 THEN 1 ELSE 0 END"
    return [
        per_row(
            "month_is_first_day_of_date_month",
            f"month = first day of the month of {date_column}",
            f"SELECT {date_column}, month FROM {{rows}} WHERE month <> date_trunc('month', {date_column})",
            table,
        ),
        per_row(
            "financial_year_matches_date",
            f"financial_year is the April-March year of {date_column}, written 2024/25",
            f"SELECT {date_column}, financial_year FROM {{rows}} WHERE financial_year <> "
            f"printf('%d/%02d', {fy_start}, ({fy_start} + 1) % 100)",
            table,
        ),
    ]


def total_matches_sme_spend(table: str) -> SqlCheck:
    return SqlCheck(
        "total_gbp_matches_sme_spend",
        "every (source, buyer_name, month) has the same total_gbp as in marts.sme_spend, and exists in both",
        f"""SELECT coalesce(t.source, s.source) AS source, coalesce(t.buyer_name, s.buyer_name) AS buyer_name,
                   coalesce(t.month, s.month) AS month, t.total_gbp, s.total_gbp AS sme_spend_total_gbp
            FROM (SELECT DISTINCT source, buyer_name, month, total_gbp FROM {table}) t
            FULL JOIN marts.sme_spend s USING (source, buyer_name, month)
            WHERE t.total_gbp IS NULL OR s.total_gbp IS NULL OR abs(t.total_gbp - s.total_gbp) > {PENNY}""",
    )


RAW = [
    TableSuite(
        "raw.ocds_releases",
        ["source", "ocid", "release_id", "release_date", "tags", "release_json", "landing_file", "loaded_at"],
        rows=[
            *not_null("source", "ocid", "release_id", "release_json", "landing_file", "loaded_at"),
            in_set("source", OCDS_SOURCES),
            date_window("release_date"),
        ],
        checks=[
            duplicates("raw.ocds_releases", ["source", "ocid", "release_id"]),
            per_row(
                "release_json_matches_keys",
                "release_json is one release whose ocid and id are the row's ocid and release_id",
                "SELECT source, ocid, release_id FROM {rows} "
                "WHERE json_extract_string(release_json, '$.ocid') IS DISTINCT FROM ocid "
                "OR json_extract_string(release_json, '$.id') IS DISTINCT FROM release_id",
                "raw.ocds_releases",
            ),
        ],
        max_shrink=0.10,
        changed_since="loaded_at > $since",
    ),
    TableSuite(
        "raw.spend_publishers",
        ["publisher_id", "publisher_name", "lad_code", "url", "format"],
        rows=[
            *not_null("publisher_id", "publisher_name", "lad_code", "url"),
            gxe.ExpectColumnValuesToMatchRegex(column="lad_code", regex=r"^[EWSN][0-9]{8}$"),
            in_set("format", ["csv", "xlsx", ""]),
        ],
        # One row per registry row, so a publisher with several files has several rows; they must
        # agree on who the publisher is, or dim_buyers would depend on which row won.
        checks=[
            SqlCheck(
                "one_name_and_area_per_publisher",
                "every row of a publisher_id has the same publisher_name and lad_code",
                "SELECT publisher_id, list(DISTINCT publisher_name) AS names, list(DISTINCT lad_code) AS lad_codes "
                "FROM raw.spend_publishers GROUP BY publisher_id "
                "HAVING count(DISTINCT publisher_name) > 1 OR count(DISTINCT lad_code) > 1",
            )
        ],
    ),
    TableSuite(
        "raw.spend_payments",
        [
            "publisher_id", "source_file", "source_row", "file_sha256", "payment_date", "amount_gbp",
            "supplier_name", "is_redacted", "supplier_id", "transaction_number", "expense_description",
            "expense_area", "company_number", "vat_number", "supplier_postcode", "loaded_at",
        ],
        rows=[
            *not_null("publisher_id", "source_file", "source_row", "file_sha256", "payment_date", "amount_gbp",
                      "is_redacted", "loaded_at"),
            between("source_row", 1),
            between("amount_gbp", -MAX_PAYMENT_GBP, MAX_PAYMENT_GBP),
            date_window("payment_date"),
            gxe.ExpectColumnValuesToMatchRegex(column="company_number", regex=r"^[A-Z0-9]{8}$"),
            gxe.ExpectColumnValuesToMatchRegex(column="vat_number", regex=r"^[0-9]+$"),
            gxe.ExpectColumnValuesToMatchRegex(column="supplier_postcode", regex=r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$"),
        ],
        checks=[
            duplicates("raw.spend_payments", ["source_file", "source_row"]),
            per_row(
                "redacted_payee_has_no_name",
                "supplier_name is NULL when the payee is redacted",
                "SELECT source_file, source_row, supplier_name FROM {rows} WHERE is_redacted AND supplier_name IS NOT NULL",
                "raw.spend_payments",
            ),
        ],
        max_shrink=0.10,
        changed_since="loaded_at > $since",
    ),
    # Created by the first spend ingest: a working DB that never ingested spend has no rejects yet.
    TableSuite(
        "raw.spend_rejects",
        ["publisher_id", "source_file", "source_row", "reason", "raw_row"],
        required=False,
        rows=not_null("publisher_id", "source_file", "reason"),
        checks=[
            SqlCheck(
                "rejected_row_not_also_loaded",
                "a row read ends up in exactly one place: never both loaded and rejected",
                "SELECT r.source_file, r.source_row FROM raw.spend_rejects r "
                "JOIN raw.spend_payments p USING (source_file, source_row)",
            )
        ],
    ),
]

MARTS = [
    TableSuite(
        "marts.fct_payments",
        [
            "payment_key", "publisher_id", "buyer_name", "buyer_lad_code", "payment_date", "month", "financial_year",
            "amount_gbp", "supplier_key", "supplier_name", "is_redacted", "expense_description", "scale", "is_vcse",
            "supplier_postcode", "supplier_lad_code", "locality", "green_category", "green_rule", "source_file",
            "source_row",
        ],
        rows=[
            *not_null("payment_key", "publisher_id", "buyer_name", "payment_date", "month", "financial_year",
                      "amount_gbp", "is_redacted", "scale", "locality", "source_file", "source_row"),
            in_set("scale", SCALES),
            in_set("locality", LOCALITIES),
            in_set("green_category", GREEN_CATEGORIES),
            between("amount_gbp", -MAX_PAYMENT_GBP, MAX_PAYMENT_GBP),
            date_window("payment_date"),
        ],
        checks=[
            # payment_key is the hash of source_file '#' source_row (stg_spend__payments): a night's repeat
            # of its 33k new keys is sought in their file's row groups, not among all 10M keys (0.5-1.1 s ->
            # 0.06 s at 10M).
            duplicates("marts.fct_payments", ["payment_key"], determines=("source_file",)),
            *month_and_financial_year("marts.fct_payments", "payment_date"),
            per_row(
                "redacted_payee_is_unknown",
                "a redacted payee has no supplier_key and counts as unknown scale and locality",
                "SELECT payment_key FROM {rows} WHERE is_redacted "
                "AND (supplier_key IS NOT NULL OR scale <> 'unknown' OR locality <> 'unknown')",
                "marts.fct_payments",
            ),
            money_is_decimal("marts.fct_payments"),
        ],
        max_shrink=0.25,
        # The view selects the contract's columns of the incremental model, whose attributed_at is the
        # start of the build that last (re-)attributed the payment (a full rebuild: every payment).
        changed_since="attributed_at > $since",
        changed_from="intermediate.int_spend__payments_attributed",
    ),
    TableSuite(
        "marts.fct_award_suppliers",
        [
            "source", "ocid", "award_id", "buyer_name", "buyer_lad_code", "award_date", "month", "financial_year",
            "value_gbp", "supplier_key", "supplier_name", "scale", "is_vcse", "supplier_postcode", "supplier_lad_code",
            "locality", "cpv_code", "title", "green_category", "green_rule",
        ],
        rows=[
            *not_null("source", "ocid", "award_id", "buyer_name", "award_date", "month", "financial_year",
                      "scale", "locality"),
            in_set("source", OCDS_SOURCES),
            in_set("scale", SCALES),
            in_set("locality", LOCALITIES),
            in_set("green_category", GREEN_CATEGORIES),
            between("value_gbp", 0, MAX_AWARD_GBP),  # awards have no credit notes: never negative
            date_window("award_date"),
        ],
        checks=[
            duplicates("marts.fct_award_suppliers", ["source", "ocid", "award_id", "supplier_key"]),
            *month_and_financial_year("marts.fct_award_suppliers", "award_date"),
            money_is_decimal("marts.fct_award_suppliers"),
        ],
        max_shrink=0.25,
    ),
    TableSuite(
        "marts.dim_suppliers",
        ["supplier_key", "supplier_name", "company_number", "scale", "is_vcse", "postcode", "lad_code",
         "n_payments", "paid_gbp", "n_awards", "awarded_gbp"],
        rows=[
            *not_null("supplier_key", "scale"),
            gxe.ExpectColumnValuesToMatchRegex(column="supplier_key", regex=r"^(?:GB-COH-[A-Z0-9]{8}|NAME-.+)$"),
            in_set("scale", SCALES),
            between("n_payments", 0),
            between("n_awards", 0),
            between("awarded_gbp", 0),
        ],
        checks=[duplicates("marts.dim_suppliers", ["supplier_key"]), money_is_decimal("marts.dim_suppliers")],
    ),
    TableSuite(
        "marts.dim_buyers",
        ["buyer_name", "publisher_id", "lad_code", "combined_authority_code", "region_code", "n_payments",
         "paid_gbp", "n_awards", "awarded_gbp"],
        rows=[*not_null("buyer_name"), between("n_payments", 0), between("n_awards", 0), between("awarded_gbp", 0)],
        checks=[
            duplicates("marts.dim_buyers", ["buyer_name"]),
            SqlCheck(
                "known_buyers_present",
                "every configured spend publisher with loaded payments (by default the seven WMCA councils) "
                "is a buyer in dim_buyers",
                "SELECT DISTINCT p.publisher_id FROM raw.spend_payments p "
                "WHERE p.publisher_id NOT IN (SELECT publisher_id FROM marts.dim_buyers WHERE publisher_id IS NOT NULL)",
            ),
            SqlCheck(
                "fact_buyers_present",
                "every buyer_name in the fact tables has a dim_buyers row",
                "SELECT buyer_name FROM marts.fct_payments UNION SELECT buyer_name FROM marts.fct_award_suppliers "
                "EXCEPT SELECT buyer_name FROM marts.dim_buyers",
            ),
            SqlCheck(
                "wmca_councils_in_wmca",
                "a buyer in a WMCA council's area has combined_authority_code E47000007 and region E12000005",
                f"SELECT buyer_name, lad_code, combined_authority_code, region_code FROM marts.dim_buyers "
                f"WHERE lad_code IN ({', '.join(repr(c) for c in WMCA_COUNCILS)}) AND "
                f"(combined_authority_code IS DISTINCT FROM '{WMCA_CODE}' OR region_code IS DISTINCT FROM 'E12000005')",
            ),
            money_is_decimal("marts.dim_buyers"),
        ],
    ),
    TableSuite(
        "marts.sme_spend",
        ["source", "buyer_name", "month", "total_gbp", "sme_gbp", "large_gbp", "unknown_gbp", "vcse_gbp",
         "sme_share", "sme_share_of_known"],
        rows=[
            *not_null("source", "buyer_name", "month", "total_gbp", "sme_gbp", "large_gbp", "unknown_gbp", "vcse_gbp"),
            in_set("source", SOURCES),
            share("sme_share", NON_NEGATIVE_SME_PARTS),
            share("sme_share_of_known", NON_NEGATIVE_SME_PARTS),
            between("total_gbp", 0, row_condition=AWARDS_ONLY),
        ],
        checks=[
            duplicates("marts.sme_spend", ["source", "buyer_name", "month"]),
            SqlCheck(
                "sme_large_unknown_sum_to_total",
                "sme_gbp + large_gbp + unknown_gbp = total_gbp for every (source, buyer_name, month)",
                f"SELECT source, buyer_name, month, sme_gbp, large_gbp, unknown_gbp, total_gbp FROM marts.sme_spend "
                f"WHERE abs(sme_gbp + large_gbp + unknown_gbp - total_gbp) > {PENNY}",
            ),
            SqlCheck(
                "shares_match_their_definition",
                "sme_share = sme/total; sme_share_of_known = sme/(sme+large), null when sme+large is 0",
                "SELECT source, buyer_name, month, sme_share, sme_share_of_known FROM marts.sme_spend WHERE "
                "(total_gbp <> 0 AND abs(sme_share - sme_gbp / total_gbp) > 1e-6) "
                "OR (sme_gbp + large_gbp = 0 AND sme_share_of_known IS NOT NULL) "
                "OR (sme_gbp + large_gbp <> 0 AND abs(sme_share_of_known - sme_gbp / (sme_gbp + large_gbp)) > 1e-6)",
            ),
            SqlCheck(
                "totals_match_fact_tables",
                "each (source, buyer_name, month) total equals the sum of its facts (fct_payments, fct_award_suppliers)",
                f"""WITH facts AS (
                        SELECT 'payments' AS source, buyer_name, month, sum(amount_gbp) AS fact_gbp
                        FROM marts.fct_payments GROUP BY ALL
                        UNION ALL
                        SELECT source, buyer_name, month, sum(value_gbp) FROM marts.fct_award_suppliers GROUP BY ALL)
                    SELECT coalesce(f.source, s.source) AS source, coalesce(f.buyer_name, s.buyer_name) AS buyer_name,
                           coalesce(f.month, s.month) AS month, f.fact_gbp, s.total_gbp
                    FROM facts f FULL JOIN marts.sme_spend s USING (source, buyer_name, month)
                    WHERE abs(coalesce(f.fact_gbp, 0) - coalesce(s.total_gbp, 0)) > {PENNY}""",
            ),
            money_is_decimal("marts.sme_spend"),
        ],
    ),
    TableSuite(
        "marts.local_spend",
        ["source", "buyer_name", "month", "total_gbp", "in_authority_gbp", "in_combined_authority_gbp",
         "in_region_gbp", "elsewhere_gbp", "unknown_gbp", "in_authority_share", "in_combined_authority_share",
         "in_region_share"],
        rows=[
            *not_null("source", "buyer_name", "month", "total_gbp", "in_authority_gbp", "elsewhere_gbp", "unknown_gbp"),
            in_set("source", SOURCES),
            share("in_authority_share", AWARDS_ONLY),
            share("in_combined_authority_share", AWARDS_ONLY),
            share("in_region_share", AWARDS_ONLY),
            between("total_gbp", 0, row_condition=AWARDS_ONLY),
        ],
        checks=[
            duplicates("marts.local_spend", ["source", "buyer_name", "month"]),
            total_matches_sme_spend("marts.local_spend"),
            SqlCheck(
                "levels_sum_to_total",
                "in_region_gbp + elsewhere_gbp + unknown_gbp = total_gbp where the region is known",
                f"SELECT source, buyer_name, month FROM marts.local_spend WHERE in_region_gbp IS NOT NULL "
                f"AND abs(in_region_gbp + elsewhere_gbp + unknown_gbp - total_gbp) > {PENNY}",
            ),
            SqlCheck(
                "levels_nest",
                "for awards, in_authority <= in_combined_authority <= in_region (each includes the narrower)",
                "SELECT source, buyer_name, month FROM marts.local_spend WHERE source <> 'payments' AND ("
                "in_authority_gbp > in_combined_authority_gbp OR in_combined_authority_gbp > in_region_gbp "
                "OR in_authority_gbp > in_region_gbp)",
            ),
            money_is_decimal("marts.local_spend"),
        ],
    ),
    TableSuite(
        "marts.green_spend",
        ["source", "buyer_name", "month", "green_category", "green_gbp", "total_gbp", "green_share"],
        rows=[
            *not_null("source", "buyer_name", "month", "green_category", "green_gbp", "total_gbp"),
            in_set("source", SOURCES),
            in_set("green_category", GREEN_CATEGORIES),
            share("green_share", AWARDS_ONLY),
            between("green_gbp", 0, row_condition=AWARDS_ONLY),
        ],
        checks=[
            duplicates("marts.green_spend", ["source", "buyer_name", "month", "green_category"]),
            SqlCheck(
                "total_gbp_matches_sme_spend",
                "total_gbp is the buyer-month total of marts.sme_spend",
                f"SELECT g.source, g.buyer_name, g.month, g.total_gbp, s.total_gbp AS sme_spend_total_gbp "
                f"FROM marts.green_spend g LEFT JOIN marts.sme_spend s USING (source, buyer_name, month) "
                f"WHERE s.total_gbp IS NULL OR abs(g.total_gbp - s.total_gbp) > {PENNY}",
            ),
            SqlCheck(
                "award_green_within_total",
                "for awards, green spend across categories never exceeds the buyer-month total",
                "SELECT source, buyer_name, month, sum(green_gbp) AS green_gbp, any_value(total_gbp) AS total_gbp "
                "FROM marts.green_spend WHERE source <> 'payments' GROUP BY ALL HAVING sum(green_gbp) > any_value(total_gbp)",
            ),
            money_is_decimal("marts.green_spend"),
        ],
    ),
]

SUITES: list[TableSuite] = RAW + MARTS
