"""The report's plotly charts. Every label drawn on a chart is formatted in Python (`fmt_share`,
`fmt_gbp`) so the page shows exactly the figures of its tables; plotly only draws.

Charts about one area at a time carry every area's traces and a drop-down that switches which are
visible, so the page stays static (no server) and offline.

A chart's layout is built through plotly's figure objects; its traces are plain dicts, which plotly
would validate one by one at ~1-2 ms a trace: with 250 publishers the per-area charts hold 750-4,500
traces each, ~24 s a report. They are all made by the few trace builders here, which a test validates
against plotly's schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

import plotly.graph_objects as go
import plotly.io
from plotly.subplots import make_subplots

from flows.report.data import (
    ALL_PERIODS, GREEN_CATEGORIES, SOURCE_LABELS, SOURCES, ReportData, Sums, share,
)

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
BAR_ROW_PX = 46
TIME_CHART_PX = 400
TOP_CHART_PX = 1000
TEMPLATE = "plotly_white"


def fmt_share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def fmt_gbp(value: Decimal | None) -> str:
    """Whole pounds, halves rounded away from zero as people round money (not to even)."""
    if value is None:
        return "–"
    pounds = abs(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"-£{pounds:,}" if value < 0 else f"£{pounds:,}"


def category_label(category: str) -> str:
    return category.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Chart:
    """One chart with its caption; `figure` is drawn into a div with id `chart-<key>`."""

    key: str
    title: str
    caption: str
    figure: dict[str, Any]  # a plotly figure: {"data": [trace, ...], "layout": {...}}
    # Charts of one area at a time: how many traces each area has (0: the chart shows every area).
    traces_per_area: int = 0


def _layout(fig: go.Figure, height: int, **extra: Any) -> go.Figure:
    layout = dict(
        height=height, font={"family": FONT, "size": 13, "color": "#1b1b1b"},
        margin={"l": 10, "r": 20, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.08, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_layout(**{**layout, **extra})
    fig.update_yaxes(automargin=True)
    return fig


def _by_source(data: ReportData, **kwargs: Any) -> go.Figure:
    return make_subplots(rows=1, cols=len(SOURCES), subplot_titles=[SOURCE_LABELS[s] for s in SOURCES],
                         horizontal_spacing=0.04, **kwargs)


def _figure(fig: go.Figure, traces: list[dict[str, Any]], traces_per_area: int = 0) -> dict[str, Any]:
    """The chart's figure: `fig`'s layout and `traces`. With `traces_per_area`, traces come in blocks of
    that many, one block per area, and only the first is visible; the page's area list (a native
    <select>, see flows.report.page) switches which block is."""
    if traces_per_area:
        for j, trace in enumerate(traces):
            trace["visible"] = j < traces_per_area
    # The template goes into the layout as JSON, as plotly would write it: set on the figure, plotly validates
    # and copies it (~0.03 s a chart, a third of the charts' time).
    template = plotly.io.templates[TEMPLATE].to_plotly_json()
    return {"data": traces, "layout": {**fig.layout.to_plotly_json(), "template": template}}


def _cells(fig: go.Figure, rows: int = 1, cols: int = len(SOURCES)) -> dict[tuple[int, int], dict[str, str]]:
    """The axes a trace names to be drawn in each (row, col) subplot of `fig`."""
    cells = {}
    for row in range(1, rows + 1):
        for col in range(1, cols + 1):
            subplot = fig.get_subplot(row, col)
            cells[row, col] = {"xaxis": subplot.xaxis.plotly_name.replace("axis", ""),
                               "yaxis": subplot.yaxis.plotly_name.replace("axis", "")}
    return cells


def _trace(cell: dict[str, str], kind: str, colour: str | list[str], **properties: Any) -> dict[str, Any]:
    """A bar or scatter trace drawn in subplot `cell` (of _cells), in `colour`."""
    if kind == "scatter":
        properties["line"] = {"color": colour}
    return {"type": kind, **properties, "marker": {"color": colour}, **cell}


def _per_area_bars(data: ReportData, series: list[tuple[str, Callable[[Sums], float | None]]]) -> dict[str, Any]:
    """Horizontal bars of shares per area, one column per source, labelled with the shown figure."""
    labels = [a.label for a in data.areas]
    fig = _by_source(data, shared_yaxes=True)
    cells, traces = _cells(fig), []
    for col, source in enumerate(SOURCES, start=1):
        for k, (name, value_of) in enumerate(series):
            values = [value_of(s) if (s := data.get(a, source)) else None for a in data.areas]
            traces.append(_trace(
                cells[1, col], "bar", PALETTE[k], y=labels, x=values, orientation="h", name=name, legendgroup=name,
                showlegend=col == 1, text=[fmt_share(v) for v in values], textposition="outside",
                cliponaxis=False, hovertemplate="%{y}<br>" + name + ": %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return _figure(_layout(fig, 100 + BAR_ROW_PX * len(labels), barmode="group"), traces)


def sme_vcse_chart(data: ReportData) -> Chart:
    fig = _per_area_bars(data, [("SME share", lambda s: s.share("sme_gbp")),
                                ("VCSE share", lambda s: s.share("vcse_gbp"))])
    return Chart("sme-vcse", "SME and VCSE share by area",
                 "Share of each area's money that went to small and medium-sized enterprises (SME) and to "
                 "voluntary, community and social enterprises (VCSE), for payments and for contract awards. "
                 "Award values are what notices state, not money paid: compare shares, not amounts.", fig)


def unknown_chart(data: ReportData) -> Chart:
    fig = _per_area_bars(data, [("Scale unknown", lambda s: s.share("unknown_gbp")),
                                ("Locality unknown", lambda s: s.share("unknown_locality_gbp"))])
    return Chart("unknown", "How much is unknown",
                 "Redacted payees, payees that match no supplier in the award notices, and suppliers without "
                 "a usable postcode count as unknown. A high unknown share means the SME and local shares "
                 "above are lower bounds.", fig)


def _period_label(period: Any) -> str:
    return f"{period:%b %Y}" if isinstance(period, date) else str(period)


def share_over_time_chart(data: ReportData, periods: list[Any],
                          series: list[tuple[str, str]], bars: bool) -> dict[str, Any]:
    """For each area in turn: one column per source, one trace per share in `series`."""
    fig = _by_source(data, shared_yaxes=True)
    x = [_period_label(p) for p in periods]
    style = dict(textposition="outside", cliponaxis=False) if bars else dict(mode="lines+markers", connectgaps=False)
    cells, traces = _cells(fig), []
    for area in data.areas:
        for col, source in enumerate(SOURCES, start=1):
            for k, (name, column) in enumerate(series):
                values = [s.share(column) if (s := data.get(area, source, p)) else None for p in periods]
                traces.append(_trace(
                    cells[1, col], "bar" if bars else "scatter", PALETTE[k], x=x, y=values, name=name,
                    legendgroup=name, showlegend=col == 1, text=[fmt_share(v) for v in values],
                    hovertemplate="%{x}<br>" + name + ": %{text}<extra></extra>", **style))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _figure(_layout(fig, TIME_CHART_PX, barmode="group"), traces, len(SOURCES) * len(series))


def sme_by_year_chart(data: ReportData) -> Chart:
    fig = share_over_time_chart(data, data.financial_years,
                                [("SME share", "sme_gbp"), ("VCSE share", "vcse_gbp")], bars=True)
    return Chart("sme-fy", "SME and VCSE share by financial year",
                 "Choose an area from the list. UK financial years run from 1 April to 31 March.", fig,
                 len(SOURCES) * 2)


def sme_by_month_chart(data: ReportData) -> Chart:
    fig = share_over_time_chart(data, data.months,
                                [("SME share", "sme_gbp"), ("VCSE share", "vcse_gbp")], bars=False)
    return Chart("sme-month", "SME and VCSE share by month",
                 "Choose an area from the list. Awards are dated by the award date, so a few old awards "
                 "published late appear in early months; a gap means nothing was published that month.", fig,
                 len(SOURCES) * 2)


# Near to far in darkening blues, then elsewhere and a neutral grey for unknown.
LOCAL_COLOURS = ["#08306b", "#2171b5", "#6baed6", PALETTE[1], "#bdbdbd"]
LOCAL_BANDS = [
    ("In the authority", lambda s: s["in_authority_gbp"]),
    ("Rest of the combined authority",
     lambda s: None if s["in_combined_authority_gbp"] is None else s["in_combined_authority_gbp"] - s["in_authority_gbp"]),
    ("Rest of the region",
     lambda s: None if s["in_region_gbp"] is None or s["in_combined_authority_gbp"] is None
     else s["in_region_gbp"] - s["in_combined_authority_gbp"]),
    ("Elsewhere", lambda s: s["elsewhere_gbp"]),
    ("Unknown", lambda s: s["unknown_locality_gbp"]),
]


# A band's tooltip also gives the nested share it completes.
NESTED_LEVELS = {
    "In the authority": ("in_authority_gbp", "in the authority"),
    "Rest of the combined authority": ("in_combined_authority_gbp", "in the combined authority"),
    "Rest of the region": ("in_region_gbp", "in the region"),
}


def local_chart(data: ReportData) -> Chart:
    """Stacked bands that add up to the whole; hover shows the nested (cumulative) share."""
    labels = [a.label for a in data.areas]
    fig = _by_source(data, shared_yaxes=True)
    cells, traces = _cells(fig), []
    for col, source in enumerate(SOURCES, start=1):
        for k, (name, band) in enumerate(LOCAL_BANDS):
            sums = [data.get(a, source) for a in data.areas]
            values = [share(band(s), s["total_gbp"]) if s else None for s in sums]
            hover = []
            for s, v in zip(sums, values):
                text = f"{name}: {fmt_share(v)}"
                if s and name in NESTED_LEVELS:
                    column, level = NESTED_LEVELS[name]
                    text += f"<br>Total {level}: {fmt_share(s.share(column))}"
                hover.append(text)
            traces.append(_trace(cells[1, col], "bar", LOCAL_COLOURS[k], y=labels, x=values, orientation="h",
                                 name=name, legendgroup=name, showlegend=col == 1, customdata=hover,
                                 hovertemplate="%{y}<br>%{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    return Chart("local", "Local share: authority, combined authority, region",
                 "Where the suppliers paid are based, by the postcode they give. Each bar adds up to all of the "
                 "area's money; the nested local shares (authority ⊂ combined authority ⊂ region) are in the "
                 "table below and in the tooltips.",
                 _figure(_layout(fig, 100 + BAR_ROW_PX * len(labels), barmode="stack"), traces))


def local_by_month_chart(data: ReportData) -> Chart:
    fig = share_over_time_chart(data, data.months,
                                [("In the authority", "in_authority_gbp"),
                                 ("In the combined authority", "in_combined_authority_gbp"),
                                 ("In the region", "in_region_gbp")], bars=False)
    return Chart("local-month", "Nested local share by month",
                 "Choose an area from the list. Each level includes the narrower ones.", fig, len(SOURCES) * 3)


def green_chart(data: ReportData) -> Chart:
    labels = [a.label for a in data.areas]
    fig = _by_source(data, shared_yaxes=True)
    cells, traces = _cells(fig), []
    for col, source in enumerate(SOURCES, start=1):
        for k, category in enumerate(GREEN_CATEGORIES):
            values = [data.green.get((a.key, source, ALL_PERIODS, category), Decimal(0)) for a in data.areas]
            traces.append(_trace(
                cells[1, col], "bar", PALETTE[k], y=labels, x=[float(v) for v in values], orientation="h",
                name=category_label(category), legendgroup=category, showlegend=col == 1,
                customdata=[fmt_gbp(v) for v in values],
                hovertemplate="%{y}<br>" + category_label(category) + ": %{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickprefix="£", tickformat="~s")
    return Chart("green", "Green spend by category",
                 "Money tagged green by the project's documented rules (CPV codes and keywords). Tags measure "
                 "declared intent, not emissions saved. Scales differ by column: award values are far larger "
                 "than a few months of payments.",
                 _figure(_layout(fig, 120 + BAR_ROW_PX * len(labels), barmode="stack"), traces))


def green_by_month_chart(data: ReportData) -> Chart:
    fig = _by_source(data)
    x = [_period_label(m) for m in data.months]
    cells, traces = _cells(fig), []
    for area in data.areas:
        for col, source in enumerate(SOURCES, start=1):
            for k, category in enumerate(GREEN_CATEGORIES):
                values = [data.green.get((area.key, source, m, category), Decimal(0)) for m in data.months]
                traces.append(_trace(
                    cells[1, col], "bar", PALETTE[k], x=x, y=[float(v) for v in values], name=category_label(category),
                    legendgroup=category, showlegend=col == 1, customdata=[fmt_gbp(v) for v in values],
                    hovertemplate="%{x}<br>" + category_label(category) + ": %{customdata}<extra></extra>"))
    fig.update_yaxes(tickprefix="£", tickformat="~s")
    per_area = len(SOURCES) * len(GREEN_CATEGORIES)
    return Chart("green-month", "Green spend by month", "Choose an area from the list.",
                 _figure(_layout(fig, TIME_CHART_PX, barmode="stack"), traces, per_area), per_area)


def top_suppliers_chart(data: ReportData) -> Chart:
    fig = make_subplots(rows=len(SOURCES), cols=1, vertical_spacing=0.07,
                        subplot_titles=[SOURCE_LABELS[s] for s in SOURCES])
    scale_colour = {"sme": PALETTE[2], "large": PALETTE[0]}
    cells, traces = _cells(fig, rows=len(SOURCES), cols=1), []
    for area in data.areas:
        for row, source in enumerate(SOURCES, start=1):
            suppliers = data.top.get((area.key, source), [])
            traces.append(_trace(
                cells[row, 1], "bar", [scale_colour.get(s.scale or "", "#9e9e9e") for s in suppliers],
                y=[s.name for s in suppliers], x=[float(s.gbp) for s in suppliers], orientation="h",
                text=[fmt_gbp(s.gbp) for s in suppliers], textposition="auto", showlegend=False,
                customdata=[f"{s.scale or 'unknown'} scale{', VCSE' if s.is_vcse else ''}" for s in suppliers],
                hovertemplate="%{y}<br>%{text} (%{customdata})<extra></extra>", name=SOURCE_LABELS[source]))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickprefix="£", tickformat="~s")
    return Chart("top", "Top suppliers",
                 "The ten suppliers that received most, by payments and by award value, for the chosen area. "
                 "Green bars are SMEs, blue large firms, grey unknown scale. Redacted payees are not suppliers "
                 "and are left out.",
                 _figure(_layout(fig, TOP_CHART_PX), traces, len(SOURCES)), len(SOURCES))


def all_charts(data: ReportData) -> list[Chart]:
    return [sme_vcse_chart(data), sme_by_year_chart(data), sme_by_month_chart(data), local_chart(data),
            local_by_month_chart(data), green_chart(data), green_by_month_chart(data), top_suppliers_chart(data),
            unknown_chart(data)]
