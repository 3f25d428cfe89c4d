"""The HTML report and read-only queries over the published warehouse.

`build_report(settings)` writes `$PROCUREMENT_HOME/report/index.html` (with `plotly.min.js` and
`figures.csv` beside it, so it opens offline); `run_query(settings, sql, csv)` is `procurement query`.
Both open `warehouse.duckdb` read-only and never touch the working database.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import plotly.io
import plotly.offline

from flows.config import Settings
from flows.report.charts import all_charts
from flows.report.data import MONEY, ReportError, open_warehouse, read_report_data
from flows.report.page import figures_rows, render_page
from flows.report.query import QueryRefused, run_query
from flows.safe_csv import write_csv

__all__ = ["QueryRefused", "ReportError", "build_report", "query_command", "report_command", "run_query"]

FIGURE_SHARES = ("sme_share", "vcse_share", "unknown_scale_share", "in_authority_share",
                 "in_combined_authority_share", "in_region_share", "unknown_locality_share", "green_share")
# The tool bar would sit on the subplot titles; zoom and hover still work without it.
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}


def report_dir(settings: Settings) -> Path:
    return settings.home / "report"


def _write(path: Path, text: str) -> None:
    # Written beside and renamed, so that a browser never loads half a file.
    temp = path.with_name(f".{path.name}.new-{os.getpid()}")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def build_report(settings: Settings) -> Path:
    """Write the report from the published warehouse; returns the path of index.html."""
    with open_warehouse(settings) as con:
        data = read_report_data(con)
    charts = all_charts(data)
    # The traces are plain dicts, validated by the tests rather than at every build (flows.report.charts).
    plots = {c.key: plotly.io.to_html(c.figure, validate=False, full_html=False, include_plotlyjs=False,
                                      div_id=f"chart-{c.key}", config=PLOT_CONFIG)
             for c in charts}
    out = report_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    plotly_js = out / "plotly.min.js"
    bundled = plotly.offline.get_plotlyjs()
    if not plotly_js.exists() or plotly_js.stat().st_size != len(bundled.encode("utf-8")):
        _write(plotly_js, bundled)
    _write(out / "figures.csv", write_csv(["area", "source", "period", *MONEY, *FIGURE_SHARES], figures_rows(data)))
    index = out / "index.html"
    _write(index, render_page(data, charts, plots))
    return index


def report_command(settings: Settings, args: argparse.Namespace | None = None) -> int:
    """`procurement report`: rebuild the report; prints where it is."""
    print(f"Report: {build_report(settings)}")
    return 0


def query_command(settings: Settings, args: argparse.Namespace) -> int:
    """`procurement query "SQL" [--csv]`."""
    print(run_query(settings, args.sql, csv=args.csv), end="")
    return 0
