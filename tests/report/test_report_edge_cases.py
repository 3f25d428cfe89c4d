"""The report on a hand-built warehouse: what the sample lacks (null combined-authority figures, credit
notes, two financial years, hostile supplier names), rendered in Chromium and checked against the marts."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import duckdb
import plotly.graph_objects as go
import plotly.io
import pytest
from report_checks import CHARTS, chart_problems, figure_cells, mismatches
from report_warehouse import HTML_SUPPLIER, SANDWELL, WARWICKSHIRE

from flows.config import load_settings
from flows.report import ReportError, build_report, report_command
from flows.report.browser import dump_dom
from flows.report.charts import all_charts
from flows.report.data import financial_year, open_warehouse, read_report_data


@pytest.fixture(scope="module")
def rendered(synthetic, chromium):
    index = build_report(synthetic)
    return synthetic, index, dump_dom(index)


def test_every_chart_drawn_and_every_figure_equal_to_the_marts(rendered):
    settings, _, dom = rendered
    assert chart_problems(dom) == []
    cells = figure_cells(dom)
    assert {c.period for c in cells} == {"all", "2023/24", "2024/25"}
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert mismatches(con, cells) == []


def test_credit_notes_are_netted_and_shown_negative(rendered):
    _, _, dom = rendered
    sandwell = [c for c in figure_cells(dom) if c.area == "buyer-sandwell-metropolitan-borough-council"
                and c.source == "payments" and c.measure == "total_gbp"]
    # 2024/25: 2310.00 - 640.00 + 519.89 + 7956.42 (Jan 2025); 2023/24: 1200.00 + 800.50 in March 2024,
    # rounded half up to the pound.
    assert {c.period: c.text for c in sandwell} == {"all": "£12,147", "2024/25": "£10,146", "2023/24": "£2,001"}


def test_a_publisher_outside_any_combined_authority_shows_no_combined_authority_share(rendered):
    _, _, dom = rendered
    warwickshire = {c.measure: c.text for c in figure_cells(dom)
                    if c.area == "buyer-warwickshire-county-council" and c.period == "all"}
    assert warwickshire["in_combined_authority_share"] == "–"
    assert warwickshire["in_region_share"] == "100.0%"
    # ...and it is not part of the combined authority's figures.
    assert "ca-e47000007" in {c.area for c in figure_cells(dom)}
    assert WARWICKSHIRE in dom


def test_supplier_names_are_shown_as_text_never_as_markup(rendered):
    _, index, dom = rendered
    html = index.read_text(encoding="utf-8")
    assert HTML_SUPPLIER not in html  # neither in the tables nor in the charts' JSON
    assert "&lt;/script&gt;&lt;b&gt;Bold &amp; Sons&lt;/b&gt; Ltd" in dom
    assert "<b>Bold" not in dom.split('id="suppliers"')[1].split("<figure")[0]


def test_figures_csv_holds_every_area_source_and_period(rendered):
    settings, index, _ = rendered
    rows = list(csv.DictReader(io.StringIO((index.parent / "figures.csv").read_text(encoding="utf-8"), newline="")))
    sandwell = {(r["source"], r["period"]): r for r in rows if r["area"] == SANDWELL}
    assert sandwell[("payments", "all")]["total_gbp"] == "12146.81"
    # April 2024: SME 2310.00 - 640.00 of 2310.00 - 640.00 + 519.89 (a redacted payee).
    assert sandwell[("payments", "2024-04-01")]["sme_share"] == str(1670.00 / 2189.89)


def test_building_the_report_leaves_the_warehouse_unchanged_and_is_repeatable(synthetic, chromium, capsys):
    before = hashlib.sha256(synthetic.warehouse_db.read_bytes()).hexdigest()
    first = build_report(synthetic).read_text(encoding="utf-8")
    assert report_command(synthetic) == 0
    assert capsys.readouterr().out.strip() == f"Report: {synthetic.home / 'report' / 'index.html'}"
    assert (synthetic.home / "report" / "index.html").read_text(encoding="utf-8") == first
    assert hashlib.sha256(synthetic.warehouse_db.read_bytes()).hexdigest() == before


def test_every_chart_is_a_valid_plotly_figure_as_built(synthetic):
    """The report skips plotly's validation of its traces when it renders; plotly validates them here, and
    a valid figure comes back from validation exactly as it went in (nothing renamed, coerced or dropped)."""
    with open_warehouse(synthetic) as con:
        data = read_report_data(con)
    charts = all_charts(data)
    assert [chart.key for chart in charts] == CHARTS
    for chart in charts:
        validated = go.Figure(chart.figure)  # raises ValueError on a property plotly does not know
        as_built = json.loads(plotly.io.to_json(chart.figure, validate=False))
        assert json.loads(validated.to_json()) == as_built, chart.key
        if chart.traces_per_area:  # one block of traces per area, the first one shown
            visible = [trace["visible"] for trace in as_built["data"]]
            assert visible == [True] * chart.traces_per_area + [False] * chart.traces_per_area * (len(data.areas) - 1)


def test_no_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="no published warehouse"):
        build_report(load_settings({"PROCUREMENT_HOME": str(tmp_path)}))


@pytest.mark.parametrize("month, year", [((2024, 3, 1), "2023/24"), ((2024, 4, 1), "2024/25"),
                                         ((2000, 1, 1), "1999/00"), (None, "undated")])
def test_financial_year(month, year):
    from datetime import date

    assert financial_year(date(*month) if month else None) == year
