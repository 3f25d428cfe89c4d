"""After `procurement run --sample`, the report opens in headless Chromium with every chart drawn,
and every figure it shows equals the marts of the published warehouse."""

from __future__ import annotations

import html
import json
import re
import struct
from pathlib import Path

import duckdb
import pytest
from report_checks import (
    CHARTS, area_buyers, bar_labels, chart_problems, figure_cells, figure_html, mismatches, pct,
)

from flows.config import load_settings
from flows.report import build_report
from flows.report.browser import dump_dom, screenshot


@pytest.fixture(scope="module")
def report(sample_home: Path, chromium: str) -> tuple[Path, str]:
    index = build_report(load_settings({"PROCUREMENT_HOME": str(sample_home)}))
    return index, dump_dom(index)


@pytest.fixture(scope="module")
def warehouse(sample_home: Path):
    con = duckdb.connect(str(sample_home / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_every_chart_is_drawn(report):
    _, dom = report
    assert chart_problems(dom) == []
    assert len(re.findall(r'<div [^>]*class="[^"]*\bjs-plotly-plot\b', dom)) == len(CHARTS)
    pickers = re.findall(r'<select id="pick-([a-z-]+)" class="area-select"[^>]*>(.*?)</select>', dom)
    assert {key for key, _ in pickers} == {"sme-fy", "sme-month", "local-month", "green-month", "top"}
    assert all(options.count("<option") == 9 for _, options in pickers)


def test_an_area_named_in_the_address_is_the_one_drawn(report, warehouse):
    index, _ = report
    dom = dump_dom(index, fragment="area=buyer-walsall-council")
    drawn = {html.unescape(name) for name in re.findall(
        r'<g class="ytick"><text[^>]*>([^<]*)</text>', figure_html(dom, "top"))}  # the payments panel
    walsall = {name for (name,) in warehouse.execute(
        "SELECT any_value(d.supplier_name) FROM marts.fct_payments p JOIN marts.dim_suppliers d USING (supplier_key) "
        "WHERE p.buyer_name = 'Walsall Council' GROUP BY p.supplier_key "
        "ORDER BY sum(p.amount_gbp) DESC, p.supplier_key LIMIT 10").fetchall()}
    assert drawn == walsall


def test_every_figure_in_the_page_equals_the_marts(report, warehouse):
    _, dom = report
    cells = figure_cells(dom)
    areas = {c.area for c in cells}
    # The WMCA as a whole and the eight publishers of the sample registry (seven councils and the WMCA).
    assert "ca-e47000007" in areas and len(areas) == 9
    assert {c.period for c in cells} >= {"all", "2025/26", "2023/24"}
    assert {c.source for c in cells} == {"payments", "contracts_finder", "find_a_tender"}
    assert len(cells) > 9 * 3 * 9
    assert mismatches(warehouse, cells) == []


def test_share_labels_on_the_first_chart_equal_the_marts(report, warehouse):
    _, dom = report
    expected = []
    for area in sorted({c.area for c in figure_cells(dom)}):
        for source in ("payments", "contracts_finder", "find_a_tender"):
            total, sme, vcse = warehouse.execute(
                "SELECT sum(total_gbp), sum(sme_gbp), sum(vcse_gbp) FROM marts.sme_spend "
                "WHERE source = ? AND buyer_name IN ?", [source, area_buyers(warehouse, area)]).fetchone()
            expected += [pct(sme, total), pct(vcse, total)]
    assert sorted(bar_labels(dom, "sme-vcse")) == sorted(expected)


def test_top_suppliers_are_the_marts_top_ten(report, warehouse):
    _, dom = report
    shown = [c.supplier for c in figure_cells(dom)
             if c.area == "ca-e47000007" and c.source == "payments" and c.measure == "supplier_gbp"]
    top = [k for (k,) in warehouse.execute(
        "SELECT supplier_key FROM marts.fct_payments WHERE supplier_key IS NOT NULL AND buyer_name IN "
        "(SELECT buyer_name FROM marts.dim_buyers WHERE publisher_id IS NOT NULL AND combined_authority_code = "
        "'E47000007') GROUP BY 1 ORDER BY sum(amount_gbp) DESC, 1 LIMIT 10").fetchall()]
    assert shown == top


def test_data_quality_notes_show_the_published_run(report, warehouse):
    _, dom = report
    summary = json.loads(warehouse.execute(
        "SELECT summary FROM ops.runs WHERE status = 'published' ORDER BY started_at DESC LIMIT 1").fetchone()[0])
    spend = next(s for s in summary["sources"] if s["source"] == "local_spend")
    assert re.search(rf'data-measure="rows_rejected">{spend["rows_rejected"]:,}<', dom)
    assert re.search(rf'data-measure="files_failed">{spend["files_failed"]}<', dom)
    assert f"{summary['validation']['expectations']} data-quality expectations passed" in dom


def test_the_report_needs_no_network(report):
    index, _ = report
    html = index.read_text(encoding="utf-8")
    assert re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="(?!plotly\.min\.js")[^"]*"', html) == []
    assert (index.parent / "plotly.min.js").stat().st_size > 1_000_000
    assert (index.parent / "figures.csv").read_text(encoding="utf-8").startswith("area,source,period,total_gbp")


def test_screenshot_of_the_first_screen(report, tmp_path):
    index, _ = report
    png = screenshot(index, tmp_path / "first-screen.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 900)
