"""The report's figures, read from the published warehouse (read-only) and summed in Decimal.

Every figure in the page is a sum of mart columns over an area (one publisher, or every publisher of a
combined authority) and a period (a month, a financial year, or everything published); every share is
one such sum divided by another, computed as floats exactly like `sum(a) / sum(b)` over the marts.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import duckdb

from flows.config import Settings

SOURCES = ("payments", "contracts_finder", "find_a_tender")
SOURCE_LABELS = {
    "payments": "Payments (council spend)",
    "contracts_finder": "Awards: Contracts Finder",
    "find_a_tender": "Awards: Find a Tender",
}
GREEN_CATEGORIES = ("renewable_energy", "energy_efficiency_and_heat", "low_emission_transport",
                    "waste_and_circular", "environmental_services", "nature_and_adaptation")
ALL_PERIODS = "all"
TOP_SUPPLIERS = 10
# Names of combined authorities for the area headings; the warehouse itself only carries codes.
GEOGRAPHY_SEED = Path(__file__).resolve().parents[2] / "seeds" / "lad_geography.csv"

MONEY = ("total_gbp", "sme_gbp", "large_gbp", "unknown_gbp", "vcse_gbp", "in_authority_gbp",
         "in_combined_authority_gbp", "in_region_gbp", "elsewhere_gbp", "unknown_locality_gbp", "green_gbp",
         "redacted_gbp")

_FIGURES = """
WITH green AS (
    SELECT source, buyer_name, month, sum(green_gbp) AS green_gbp
    FROM marts.green_spend WHERE green_category IS NOT NULL GROUP BY ALL
), redacted AS (
    SELECT 'payments' AS source, buyer_name, month, sum(amount_gbp) AS redacted_gbp
    FROM marts.fct_payments WHERE is_redacted GROUP BY ALL
)
SELECT s.buyer_name, s.source, s.month,
       s.total_gbp, s.sme_gbp, s.large_gbp, s.unknown_gbp, s.vcse_gbp,
       l.in_authority_gbp, l.in_combined_authority_gbp, l.in_region_gbp, l.elsewhere_gbp,
       l.unknown_gbp AS unknown_locality_gbp, coalesce(g.green_gbp, 0) AS green_gbp,
       CASE WHEN s.source = 'payments' THEN coalesce(r.redacted_gbp, 0) END AS redacted_gbp
FROM marts.sme_spend s
LEFT JOIN marts.local_spend l USING (source, buyer_name, month)
LEFT JOIN green g USING (source, buyer_name, month)
LEFT JOIN redacted r USING (source, buyer_name, month)
"""

_GREEN_BY_CATEGORY = """
SELECT buyer_name, source, month, green_category, green_gbp
FROM marts.green_spend WHERE green_category IS NOT NULL
"""

# The top suppliers of every area and source in one pass: money summed per buyer and supplier first, then
# per area (an area is one buyer, or every buyer of a combined authority), ranked within each area. A query
# per area and source scanned the facts each time: ~750 scans of 10M payments for 250 publishers.
_TOP_SUPPLIERS = """
WITH area_buyers AS (
    SELECT DISTINCT unnest($areas::VARCHAR[]) AS area, unnest($buyers::VARCHAR[]) AS buyer_name
), by_buyer AS (
    SELECT 'payments' AS source, buyer_name, supplier_key, sum(amount_gbp) AS gbp
    FROM marts.fct_payments GROUP BY ALL
    UNION ALL
    SELECT source, buyer_name, supplier_key, sum(value_gbp)
    FROM marts.fct_award_suppliers WHERE value_gbp IS NOT NULL GROUP BY ALL
), by_area AS (
    SELECT b.source, a.area, b.supplier_key, any_value(d.supplier_name) AS supplier_name,
           any_value(d.scale) AS scale, any_value(d.is_vcse) AS is_vcse, any_value(d.lad_code) AS lad_code,
           sum(b.gbp) AS gbp
    FROM by_buyer b JOIN area_buyers a USING (buyer_name) JOIN marts.dim_suppliers d USING (supplier_key)
    GROUP BY b.source, a.area, b.supplier_key
)
SELECT source, area, supplier_key, supplier_name, scale, is_vcse, lad_code, gbp FROM by_area
QUALIFY row_number() OVER (PARTITION BY source, area ORDER BY gbp DESC, supplier_key) <= $top
ORDER BY source, area, gbp DESC, supplier_key
"""


class ReportError(RuntimeError):
    """The published warehouse cannot be reported on; the message says why."""


def open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published warehouse, read-only; a clear error when nothing has been published yet."""
    if not settings.warehouse_db.exists():
        raise ReportError(f"no published warehouse at {settings.warehouse_db}; run `procurement run` first")
    return duckdb.connect(str(settings.warehouse_db), read_only=True)


def financial_year(month: date | None) -> str:
    """UK financial year of a month, written `2024/25`; `undated` for a missing month."""
    if month is None:
        return "undated"
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def share(part: Decimal | None, total: Decimal | None) -> float | None:
    """`part / total` as the marts' own share columns compute it; None when either is unknown or total is 0."""
    if part is None or total is None or total == 0:
        return None
    return float(part) / float(total)


@dataclass(frozen=True)
class Area:
    key: str  # for element ids
    label: str
    buyer_names: tuple[str, ...]
    is_combined: bool


@dataclass
class Sums:
    """Money sums of one (area, source, period); a sum is None when any row it covers is null."""

    values: dict[str, Decimal | None] = field(default_factory=lambda: {k: Decimal(0) for k in MONEY})

    def add(self, row: dict[str, Any]) -> None:
        for key in MONEY:
            mine, theirs = self.values[key], row.get(key)
            self.values[key] = None if mine is None or theirs is None else mine + theirs

    def __getitem__(self, key: str) -> Decimal | None:
        return self.values[key]

    def share(self, key: str) -> float | None:
        return share(self.values[key], self.values["total_gbp"])


@dataclass(frozen=True)
class Supplier:
    supplier_key: str
    name: str
    scale: str | None
    is_vcse: bool | None
    lad_code: str | None
    gbp: Decimal


@dataclass(frozen=True)
class RunInfo:
    run_id: str | None
    published_at: datetime | None
    summary: dict[str, Any] | None
    row_counts: dict[str, int]


@dataclass
class ReportData:
    areas: list[Area]
    # (area key, source, period) -> sums; period is a month (date), a financial year (str) or ALL_PERIODS
    sums: dict[tuple[str, str, Any], Sums]
    # (area key, source, period, category) -> green £
    green: dict[tuple[str, str, Any, str], Decimal]
    top: dict[tuple[str, str], list[Supplier]]
    months: list[date]
    financial_years: list[str]
    run: RunInfo

    def get(self, area: Area, source: str, period: Any = ALL_PERIODS) -> Sums | None:
        return self.sums.get((area.key, source, period))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def combined_authority_names(seed: Path = GEOGRAPHY_SEED) -> dict[str, str]:
    if not seed.exists():
        return {}
    with seed.open(newline="", encoding="utf-8") as handle:
        return {row["combined_authority_code"]: row["combined_authority_name"]
                for row in csv.DictReader(handle) if row.get("combined_authority_code")}


def short_name(name: str) -> str:
    """`West Midlands Combined Authority` → `WMCA`: initials of the capitalised words."""
    initials = "".join(word[0] for word in name.split() if word[:1].isupper())
    return initials if len(initials) > 1 else name


def read_areas(con: duckdb.DuckDBPyConnection) -> list[Area]:
    """Every publisher (a buyer in the spend registry), plus one area per combined authority holding all
    of its publishers, first. Buyers seen only in notices are left out so that payments and awards
    compare the same organisations."""
    publishers = con.execute(
        "SELECT buyer_name, combined_authority_code FROM marts.dim_buyers "
        "WHERE publisher_id IS NOT NULL ORDER BY buyer_name"
    ).fetchall()
    names = combined_authority_names()
    members: dict[str, list[str]] = defaultdict(list)
    for buyer, ca_code in publishers:
        if ca_code:
            members[ca_code].append(buyer)
    areas = [
        Area(key=f"ca-{slug(code)}", label=f"{short_name(names.get(code, code))} as a whole",
             buyer_names=tuple(buyers), is_combined=True)
        for code, buyers in sorted(members.items())
    ]
    areas += [Area(key=f"buyer-{slug(buyer)}", label=buyer, buyer_names=(buyer,), is_combined=False)
              for buyer, _ in publishers]
    return areas


def _dicts(cursor: duckdb.DuckDBPyConnection) -> Iterable[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(columns, row))


def _run_info(con: duckdb.DuckDBPyConnection) -> RunInfo:
    tables = {tuple(r) for r in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    counts: dict[str, int] = {}
    run_id = published_at = None
    if ("meta", "published_tables") in tables:
        for name, rows, run, at in con.execute(
                "SELECT table_name, row_count, run_id, published_at FROM meta.published_tables ORDER BY 1").fetchall():
            counts[name], run_id, published_at = rows, run, at
    summary = None
    if ("ops", "runs") in tables:
        row = con.execute(
            "SELECT summary FROM ops.runs WHERE status = 'published' AND summary IS NOT NULL "
            "ORDER BY (run_id = ?) DESC, started_at DESC LIMIT 1", [run_id]).fetchone()
        summary = json.loads(row[0]) if row else None
    return RunInfo(run_id=run_id, published_at=published_at, summary=summary, row_counts=counts)


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    areas = read_areas(con)
    if not areas:
        raise ReportError("the published warehouse has no spend publishers (marts.dim_buyers.publisher_id)")
    area_of: dict[str, list[Area]] = defaultdict(list)
    for area in areas:
        for buyer in area.buyer_names:
            area_of[buyer].append(area)

    sums: dict[tuple[str, str, Any], Sums] = defaultdict(Sums)
    months: set[date] = set()
    for row in _dicts(con.execute(_FIGURES)):
        month, areas_of_row = row["month"], area_of.get(row["buyer_name"], [])
        if month is not None and areas_of_row:
            months.add(month)
        for area in areas_of_row:
            for period in (month, financial_year(month), ALL_PERIODS):
                sums[(area.key, row["source"], period)].add(row)

    green: dict[tuple[str, str, Any, str], Decimal] = defaultdict(Decimal)
    for buyer, source, month, category, gbp in con.execute(_GREEN_BY_CATEGORY).fetchall():
        for area in area_of.get(buyer, []):
            for period in (month, financial_year(month), ALL_PERIODS):
                green[(area.key, source, period, category)] += gbp

    top: dict[tuple[str, str], list[Supplier]] = {(area.key, source): [] for area in areas for source in SOURCES}
    pairs = [(area.key, buyer) for area in areas for buyer in area.buyer_names]
    for source, area_key, *supplier in con.execute(_TOP_SUPPLIERS, {
            "areas": [a for a, _ in pairs], "buyers": [b for _, b in pairs], "top": TOP_SUPPLIERS}).fetchall():
        if source in SOURCES:
            top[(area_key, source)].append(Supplier(*supplier))

    ordered_months = sorted(months)
    years = sorted({financial_year(m) for m in ordered_months})
    if any(key[2] is None for key in sums):
        years.append(financial_year(None))
    return ReportData(areas=areas, sums=dict(sums), green=dict(green), top=top, months=ordered_months,
                      financial_years=years, run=_run_info(con))
