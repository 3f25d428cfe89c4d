"""The report page: plain accessible HTML around the plotly charts, with the figures as tables.

Every figure cell carries `data-area`, `data-source`, `data-period` and `data-measure` so that the
page can be checked against the marts cell by cell.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any, Iterable

from flows.report.charts import Chart, category_label, fmt_gbp, fmt_share
from flows.report.data import (
    ALL_PERIODS, GREEN_CATEGORIES, SOURCE_LABELS, SOURCES, Area, ReportData,
)

# (measure, heading, how to show it from an area's sums)
MEASURES: list[tuple[str, str, Any]] = [
    ("total_gbp", "Total", lambda s: fmt_gbp(s["total_gbp"])),
    ("sme_share", "SME", lambda s: fmt_share(s.share("sme_gbp"))),
    ("vcse_share", "VCSE", lambda s: fmt_share(s.share("vcse_gbp"))),
    ("unknown_scale_share", "Scale unknown", lambda s: fmt_share(s.share("unknown_gbp"))),
    ("in_authority_share", "In the authority", lambda s: fmt_share(s.share("in_authority_gbp"))),
    ("in_combined_authority_share", "In the combined authority",
     lambda s: fmt_share(s.share("in_combined_authority_gbp"))),
    ("in_region_share", "In the region", lambda s: fmt_share(s.share("in_region_gbp"))),
    ("unknown_locality_share", "Locality unknown", lambda s: fmt_share(s.share("unknown_locality_gbp"))),
    ("green_share", "Green", lambda s: fmt_share(s.share("green_gbp"))),
]

# The cards keep to what an officer quotes; the unknown shares are in the tables and the quality section.
HEADLINE_MEASURES = {"total_gbp", "sme_share", "vcse_share", "in_authority_share", "in_combined_authority_share",
                     "in_region_share", "green_share"}

CSS = """
:root { --ink: #1b1b1b; --muted: #4a4a4a; --line: #d0d0d0; --accent: #005ea5; --bg: #ffffff; --band: #f3f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: var(--ink);
       background: var(--bg); }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 1rem; top: 1rem; background: #ffdd00; padding: .5rem; }
header { background: #0b2e4f; color: #fff; padding: 1rem 2rem; }
header h1 { margin: 0 0 .25rem; font-size: 1.6rem; } header p { margin: 0; color: #dfe8f1; }
nav { background: var(--band); border-bottom: 1px solid var(--line); padding: .5rem 2rem; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
a { color: var(--accent); } a:focus, summary:focus, select:focus { outline: 3px solid #ffdd00; outline-offset: 2px; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem 2rem 3rem; }
h2 { margin-top: 1.5rem; border-bottom: 2px solid var(--ink); padding-bottom: .25rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-top: 4px solid var(--accent); padding: .75rem 1rem; }
.card h3 { margin: 0 0 .5rem; font-size: 1.05rem; }
.card dl { display: grid; grid-template-columns: 1fr auto; margin: 0; gap: 0 1rem; line-height: 1.35; }
.card dt { color: var(--muted); } .card dd { margin: 0; font-weight: 600; text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; } figcaption { color: var(--muted); max-width: 70em; }
figcaption strong { color: var(--ink); display: block; font-size: 1.1rem; }
.chart { width: 100%; }
table { border-collapse: collapse; margin: .75rem 0; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { text-align: left; font-weight: 600; }
.scroll { overflow-x: auto; }
details { margin: .75rem 0; } summary { cursor: pointer; color: var(--accent); }
.note { background: var(--band); border-left: 4px solid var(--accent); padding: .5rem 1rem; }
.bad { color: #b00020; font-weight: 600; }
.area-pick { margin: .5rem 0 0; } .area-pick select { font: inherit; padding: .2rem .4rem; margin-left: .5rem; }
"""


def _attrs(area: Area, source: str, period: Any, measure: str) -> str:
    return (f'data-area="{escape(area.key)}" data-source="{source}" '
            f'data-period="{escape(_period_key(period))}" data-measure="{measure}"')


def _period_key(period: Any) -> str:
    return period.isoformat() if isinstance(period, date) else str(period)


def figures_table(data: ReportData, period: Any, caption: str, table_id: str) -> str:
    head = "".join(f'<th scope="col" class="num">{escape(h)}</th>' for _, h, _ in MEASURES)
    rows = []
    for area in data.areas:
        present = [s for s in SOURCES if data.get(area, s, period)]
        for i, source in enumerate(present):
            sums = data.get(area, source, period)
            area_cell = (f'<th scope="rowgroup" rowspan="{len(present)}">{escape(area.label)}</th>' if i == 0 else "")
            cells = "".join(f'<td class="num" {_attrs(area, source, period, m)}>{escape(show(sums))}</td>'
                            for m, _, show in MEASURES)
            rows.append(f"<tr>{area_cell}<th scope=\"row\">{escape(SOURCE_LABELS[source])}</th>{cells}</tr>")
    return (f'<div class="scroll"><table id="{table_id}"><caption>{escape(caption)}</caption>'
            f'<thead><tr><th scope="col">Area</th><th scope="col">Source</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def green_table(data: ReportData) -> str:
    head = "".join(f'<th scope="col" class="num">{escape(category_label(c))}</th>' for c in GREEN_CATEGORIES)
    rows = []
    for area in data.areas:
        for source in SOURCES:
            if not data.get(area, source):
                continue
            cells = "".join(
                f'<td class="num" {_attrs(area, source, ALL_PERIODS, "green_gbp:" + c)}>'
                f'{fmt_gbp(data.green.get((area.key, source, ALL_PERIODS, c)))}</td>' for c in GREEN_CATEGORIES)
            rows.append(f'<tr><th scope="row">{escape(area.label)}</th><td>{escape(SOURCE_LABELS[source])}</td>'
                        f"{cells}</tr>")
    return (f'<div class="scroll"><table id="table-green"><caption>Green spend by category, all published months'
            f'</caption><thead><tr><th scope="col">Area</th><th scope="col">Source</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def top_suppliers_tables(data: ReportData) -> str:
    parts = []
    for area in data.areas:
        rows = []
        for source in SOURCES:
            for rank, s in enumerate(data.top.get((area.key, source), []), start=1):
                rows.append(
                    f"<tr><td>{escape(SOURCE_LABELS[source])}</td><td class=\"num\">{rank}</td>"
                    f"<th scope=\"row\">{escape(s.name)}</th><td>{escape(s.scale or 'unknown')}</td>"
                    f"<td>{'yes' if s.is_vcse else ('no' if s.is_vcse is False else 'unknown')}</td>"
                    f"<td>{escape(s.lad_code or 'unknown')}</td>"
                    f'<td class="num" {_attrs(area, source, ALL_PERIODS, "supplier_gbp")} '
                    f'data-supplier="{escape(s.supplier_key)}">{fmt_gbp(s.gbp)}</td></tr>')
        parts.append(
            f"<details><summary>Top suppliers: {escape(area.label)}</summary><div class=\"scroll\"><table>"
            f"<caption>Top suppliers, {escape(area.label)}, all published months</caption><thead><tr>"
            "<th scope=\"col\">Source</th><th scope=\"col\" class=\"num\">Rank</th><th scope=\"col\">Supplier</th>"
            "<th scope=\"col\">Scale</th><th scope=\"col\">VCSE</th><th scope=\"col\">Supplier's district</th>"
            f"<th scope=\"col\" class=\"num\">Amount</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</div></details>")
    return "".join(parts)


def headline_cards(data: ReportData) -> str:
    area = data.areas[0]
    cards = []
    for source in SOURCES:
        sums = data.get(area, source)
        if not sums:
            continue
        items = "".join(f"<dt>{escape(h)}</dt><dd {_attrs(area, source, ALL_PERIODS, m)}>{escape(show(sums))}</dd>"
                        for m, h, show in MEASURES if m in HEADLINE_MEASURES)
        cards.append(f'<section class="card" aria-label="{escape(SOURCE_LABELS[source])}">'
                     f"<h3>{escape(SOURCE_LABELS[source])}</h3><dl>{items}</dl></section>")
    return f'<div class="cards">{"".join(cards)}</div>'


def area_picker(chart: Chart, areas: list[Area]) -> str:
    """A native drop-down (keyboard and screen-reader friendly) for charts of one area at a time."""
    if not chart.traces_per_area:
        return ""
    options = "".join(f'<option value="{escape(a.key)}">{escape(a.label)}</option>' for a in areas)
    return (f'<p class="area-pick"><label for="pick-{chart.key}">Area</label> '
            f'<select id="pick-{chart.key}" class="area-select" data-chart="chart-{chart.key}" '
            f'data-traces="{chart.traces_per_area}">{options}</select></p>')


# Shows the chosen area's block of traces; `#area=<key>` in the address picks an area on load, so a
# council's view of the report can be linked to.
AREA_SCRIPT = """
(function () {
  var wanted = new URLSearchParams(location.hash.slice(1)).get("area");
  document.querySelectorAll("select.area-select").forEach(function (select) {
    function show() {
      var chart = document.getElementById(select.dataset.chart), n = Number(select.dataset.traces), visible = [];
      for (var j = 0; j < chart.data.length; j++) visible.push(Math.floor(j / n) === select.selectedIndex);
      Plotly.restyle(chart, {visible: visible});
    }
    select.addEventListener("change", show);
    if (wanted && Array.prototype.some.call(select.options, function (o) { return o.value === wanted; })) {
      select.value = wanted;
      show();
    }
  });
})();
"""


def chart_figure(chart: Chart, plot_html: str, areas: list[Area], table: str = "") -> str:
    return (f'<figure id="figure-{chart.key}" data-chart="{chart.key}" aria-labelledby="caption-{chart.key}">'
            f'<figcaption id="caption-{chart.key}"><strong>{escape(chart.title)}</strong>{escape(chart.caption)}'
            f' The figures are in the tables on this page and in <a href="figures.csv">figures.csv</a>.'
            f'</figcaption>{area_picker(chart, areas)}'
            f'<div class="chart" role="group" aria-label="Chart: {escape(chart.title)}">{plot_html}</div>'
            f"{table}</figure>")


def _quality_notes(data: ReportData) -> str:
    run = data.run
    summary = run.summary or {}
    items = []
    for source in summary.get("sources", []):
        status = "ok" if source.get("ok") else '<span class="bad">failed</span>'
        detail = ""
        if "files_new" in source:
            detail = (f" Files loaded {source['files_new']}, unchanged {source['files_unchanged']}, "
                      f"failed <span data-measure=\"files_failed\">{source['files_failed']}</span>; rows loaded "
                      f"{source['rows_loaded']:,}, rows rejected "
                      f"<span data-measure=\"rows_rejected\">{source['rows_rejected']:,}</span>.")
        items.append(f"<li><strong>{escape(source['source'])}</strong> ({status}): "
                     f"{escape(source.get('message', ''))}.{detail}</li>")
    validation = summary.get("validation") or {}
    checks = (f"{validation.get('expectations')} data-quality expectations "
              f"{'passed' if validation.get('passed') else 'did not all pass'}" if validation else "not recorded")
    published = f"{run.published_at:%d %B %Y %H:%M %Z}" if run.published_at else "unknown"
    counts = "".join(f"<tr><th scope=\"row\">{escape(t)}</th><td class=\"num\">{n:,}</td></tr>"
                     for t, n in run.row_counts.items())
    area = data.areas[0]
    payments = data.get(area, "payments")
    redacted = (f"<li>{fmt_share(payments.share('redacted_gbp'))} of {escape(area.label)}'s payments by value went "
                "to redacted payees (personal data); they count as unknown scale and locality.</li>"
                if payments else "")
    return (
        f'<div class="note"><p>Published {escape(published)}, run <code>{escape(run.run_id or "unknown")}</code>. '
        f"Validation: {escape(checks)}.</p></div>"
        f"<h3>What the latest published run loaded</h3><ul>{''.join(items) or '<li>No run summary published.</li>'}"
        f"{redacted}</ul>"
        "<p>Rows rejected are lines of spend files whose date or amount could not be read, or that had neither "
        "supplier nor amount; files failed are files that could not be fetched or whose columns could not be "
        "mapped. Both are listed per file by <code>procurement status</code>.</p>"
        f"<details><summary>Rows in each published table</summary><table><caption>Published tables</caption>"
        f"<thead><tr><th scope=\"col\">Table</th><th scope=\"col\" class=\"num\">Rows</th></tr></thead>"
        f"<tbody>{counts}</tbody></table></details>"
    )


def render_page(data: ReportData, charts: list[Chart], plots: dict[str, str]) -> str:
    by_key = {c.key: c for c in charts}

    def fig(key: str, table: str = "") -> str:
        return chart_figure(by_key[key], plots[key], data.areas, table)

    years = "".join(
        f"<details><summary>Financial year {escape(y)}</summary>"
        f"{figures_table(data, y, f'Figures for financial year {y}', 'table-fy-' + y.replace('/', '-'))}</details>"
        for y in reversed(data.financial_years))
    span = (f"{data.months[0]:%B %Y} to {data.months[-1]:%B %Y}" if data.months else "no dated figures")
    whole = data.areas[0].label
    sections = [
        ("headlines", "Headlines", "Headline figures",
         f"<p>{escape(whole)} (every publisher in the combined authority), all published months "
         f"({escape(span)}). Payments are money paid; awards are contract values stated in notices. "
         "Shares are of each column's total.</p>" + headline_cards(data) + fig("sme-vcse")),
        ("sme", "SMEs and VCSEs", "SMEs and voluntary organisations", fig("sme-fy") + fig("sme-month")),
        ("local", "Local", "Local spend", fig("local") + fig("local-month")),
        ("green", "Green", "Green spend", fig("green", green_table(data)) + fig("green-month")),
        ("suppliers", "Suppliers", "Top suppliers", fig("top", top_suppliers_tables(data))),
        ("figures", "All figures", "Figures by area and year",
         figures_table(data, ALL_PERIODS, "Figures by area, all published months", "table-all") + years),
        ("quality", "Data quality", "Data quality", fig("unknown") + _quality_notes(data)),
        ("about", "About", "About these figures",
         "<ul><li>Figures are sums of the published marts (<code>marts.sme_spend</code>, "
         "<code>marts.local_spend</code>, <code>marts.green_spend</code>, <code>marts.fct_payments</code>, "
         "<code>marts.fct_award_suppliers</code>) in <code>warehouse.duckdb</code>; a share is the sum of the "
         "part divided by the sum of the total over the area and period, rounded to 0.1%. Money is rounded to "
         "the pound.</li>"
         f"<li>{escape(whole)} adds up the publishers of the combined authority; each publisher's local share "
         "is measured from its own district, so “in the authority” means in each publisher's own district.</li>"
         "<li>Contracts Finder and Find a Tender are shown apart: one contract can be published on both.</li>"
         "<li>Scale (SME or large) is what award notices declare; payees that match no notice are unknown. "
         "Locality is where suppliers' postcodes are, not where work is done. Green tags measure declared "
         "intent, not emissions saved. The methodology document in the project (<code>docs/methodology.md</code>) "
         "states every rule.</li>"
         '<li>Every figure behind the charts: <a href="figures.csv">figures.csv</a>.</li></ul>'),
    ]
    nav = "".join(f'<li><a href="#{key}">{escape(label)}</a></li>' for key, label, _, _ in sections)
    body = "".join(f'<section id="{key}" aria-labelledby="h-{key}"><h2 id="h-{key}">{escape(title)}</h2>{html}</section>'
                   for key, _, title, html in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Procurement report: {escape(whole)}</title><style>{CSS}</style>"
        '<script src="plotly.min.js"></script></head><body>'
        '<a class="skip" href="#main">Skip to the report</a>'
        f"<header><h1>Where public money goes: SMEs, local suppliers and green spend</h1>"
        f"<p>{escape(whole)} and each publisher · payments and contract awards · {escape(span)}</p></header>"
        f'<nav aria-label="Report sections"><ul>{nav}</ul></nav><main id="main">{body}</main>'
        f"<script>{AREA_SCRIPT}</script></body></html>"
    )


def figures_rows(data: ReportData) -> Iterable[list[Any]]:
    """Every (area, source, period) figure, for figures.csv."""
    for (area_key, source, period), sums in sorted(data.sums.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                     _period_key(kv[0][2]))):
        area = next(a for a in data.areas if a.key == area_key)
        yield [area.label, source, _period_key(period), *[sums[k] for k in sums.values],
               *[sums.share(k) for k in ("sme_gbp", "vcse_gbp", "unknown_gbp", "in_authority_gbp",
                                          "in_combined_authority_gbp", "in_region_gbp", "unknown_locality_gbp",
                                          "green_gbp")]]
