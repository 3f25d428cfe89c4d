"""Checks of a rendered report against the warehouse it was built from, by SQL written independently
of the report's own code: the areas are found from dim_buyers, the sums taken by DuckDB."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import duckdb

CHARTS = ["sme-vcse", "sme-fy", "sme-month", "local", "local-month", "green", "green-month", "top", "unknown"]
FY_START = "(CASE WHEN month({m}) >= 4 THEN year({m}) ELSE year({m}) - 1 END)"


@dataclass(frozen=True)
class Cell:
    area: str
    source: str
    period: str
    measure: str
    supplier: str | None
    text: str


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[Cell] = []
        self._open: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "data-area" in found and "data-measure" in found:
            self._open, self._text = found, []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open is not None:
            a = self._open
            self.cells.append(Cell(a["data-area"], a["data-source"], a["data-period"], a["data-measure"],
                                   a.get("data-supplier"), "".join(self._text).strip()))
            self._open = None


def figure_cells(dom: str) -> list[Cell]:
    parser = _Cells()
    parser.feed(dom)
    return parser.cells


def figure_html(dom: str, key: str) -> str:
    start = dom.index(f'<figure id="figure-{key}"')
    return dom[start:dom.index("</figure>", start)]


def money(value: Decimal | None) -> str:
    if value is None:
        return "–"
    pounds = int(abs(value) + Decimal("0.5"))  # half up, as money is rounded for people
    return f"-£{pounds:,}" if value < 0 else f"£{pounds:,}"


def pct(part: Decimal | None, total: Decimal | None) -> str:
    if part is None or total is None or total == 0:
        return "–"
    return f"{float(part) / float(total):.1%}"


def area_buyers(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    publishers = con.execute("SELECT buyer_name, combined_authority_code FROM marts.dim_buyers "
                             "WHERE publisher_id IS NOT NULL").fetchall()
    if key.startswith("ca-"):
        return [b for b, ca in publishers if ca and ca.lower() == key[3:]]
    matches = [b for b, _ in publishers if "buyer-" + re.sub(r"[^a-z0-9]+", "-", b.lower()).strip("-") == key]
    assert len(matches) == 1, key
    return matches


def _period(period: str, month: str = "month") -> tuple[str, list]:
    if period == "all":
        return "TRUE", []
    return f"{FY_START.format(m=month)} = ?", [int(period[:4])]


def expected_text(con: duckdb.DuckDBPyConnection, cell: Cell) -> str:
    buyers = area_buyers(con, cell.area)
    where, params = _period(cell.period)
    if cell.measure == "supplier_gbp":
        if cell.source == "payments":
            sql = "SELECT sum(amount_gbp) FROM marts.fct_payments WHERE supplier_key = ? AND buyer_name IN ?"
            return money(con.execute(sql, [cell.supplier, buyers]).fetchone()[0])
        sql = ("SELECT sum(value_gbp) FROM marts.fct_award_suppliers "
               "WHERE source = ? AND supplier_key = ? AND buyer_name IN ?")
        return money(con.execute(sql, [cell.source, cell.supplier, buyers]).fetchone()[0])
    if cell.measure.startswith("green_gbp:"):
        sql = (f"SELECT sum(green_gbp) FROM marts.green_spend WHERE source = ? AND buyer_name IN ? "
               f"AND green_category = ? AND {where}")
        return money(con.execute(sql, [cell.source, buyers, cell.measure.split(":")[1], *params]).fetchone()[0])
    joined, _ = _period(cell.period, "s.month")
    total, sme, vcse, unknown, auth, ca, region, unknown_loc = con.execute(
        "SELECT sum(s.total_gbp), sum(s.sme_gbp), sum(s.vcse_gbp), sum(s.unknown_gbp), sum(l.in_authority_gbp), "
        "sum(l.in_combined_authority_gbp), sum(l.in_region_gbp), sum(l.unknown_gbp) "
        "FROM marts.sme_spend s JOIN marts.local_spend l USING (source, buyer_name, month) "
        f"WHERE s.source = ? AND s.buyer_name IN ? AND {joined}",
        [cell.source, buyers, *params]).fetchone()
    green = con.execute(f"SELECT sum(green_gbp) FROM marts.green_spend WHERE green_category IS NOT NULL "
                        f"AND source = ? AND buyer_name IN ? AND {where}", [cell.source, buyers, *params]).fetchone()[0]
    return {
        "total_gbp": money(total), "sme_share": pct(sme, total), "vcse_share": pct(vcse, total),
        "unknown_scale_share": pct(unknown, total), "in_authority_share": pct(auth, total),
        "in_combined_authority_share": pct(ca, total), "in_region_share": pct(region, total),
        "unknown_locality_share": pct(unknown_loc, total), "green_share": pct(green, total),
    }[cell.measure]


def mismatches(con: duckdb.DuckDBPyConnection, cells: list[Cell]) -> list[str]:
    return [f"{c}: expected {expected}" for c in cells if (expected := expected_text(con, c)) != c.text]


def chart_problems(dom: str) -> list[str]:
    """Every chart drawn: a plotly root with its SVG, traces, and drawn bars or lines."""
    problems = []
    for key in CHARTS:
        html = figure_html(dom, key)
        traces = len(re.findall(r'<g class="trace[ "]', html))
        drawn = html.count('class="point"') + html.count('class="js-line"')
        if "js-plotly-plot" not in html or 'class="main-svg"' not in html or not traces or not drawn:
            problems.append(f"{key}: plotly root {'js-plotly-plot' in html}, traces {traces}, marks {drawn}")
    return problems


def bar_labels(dom: str, key: str) -> list[str]:
    return re.findall(r'<text class="bartext[^"]*"[^>]*>([^<]*)</text>', figure_html(dom, key))
