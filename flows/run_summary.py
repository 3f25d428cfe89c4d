"""What a run did, for people: the Prefect artifact, the run log and `procurement status`.

The summary is a plain dict (stored as JSON in ops.runs) so that `status` can print it from the
published warehouse without Prefect; `render_markdown` turns it into the artifact's text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

# Headline shares per buyer over everything published: SME, local (the buyer's own authority) and
# green. The marts carry the monthly detail; this is what a person checks the morning after.
_HEADLINES = """
WITH sme AS (
    SELECT source, buyer_name, sum(total_gbp) AS total, sum(sme_gbp) AS sme, sum(vcse_gbp) AS vcse
    FROM marts.sme_spend GROUP BY ALL
), loc AS (
    SELECT source, buyer_name, sum(in_authority_gbp) AS local, sum(in_combined_authority_gbp) AS ca
    FROM marts.local_spend GROUP BY ALL
), green AS (
    SELECT source, buyer_name, sum(green_gbp) AS green
    FROM marts.green_spend WHERE green_category IS NOT NULL GROUP BY ALL
)
SELECT sme.source, sme.buyer_name, sme.total,
       sme.sme / nullif(sme.total, 0), sme.vcse / nullif(sme.total, 0),
       loc.local / nullif(sme.total, 0), loc.ca / nullif(sme.total, 0),
       coalesce(green.green, 0) / nullif(sme.total, 0)
FROM sme
LEFT JOIN loc USING (source, buyer_name)
LEFT JOIN green USING (source, buyer_name)
WHERE sme.source = 'payments' OR sme.buyer_name IN (SELECT buyer_name FROM marts.dim_buyers WHERE publisher_id IS NOT NULL)
ORDER BY sme.buyer_name, sme.source
"""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def _headlines(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    if not all(_has_table(con, "marts", t) for t in ("sme_spend", "local_spend", "green_spend", "dim_buyers")):
        return []
    keys = ("source", "buyer_name", "total_gbp", "sme_share", "vcse_share", "in_authority_share",
            "in_combined_authority_share", "green_share")
    return [
        {k: float(v) if isinstance(v, Decimal) else v for k, v in zip(keys, row)}
        for row in con.execute(_HEADLINES).fetchall()
    ]


def summarise(con: duckdb.DuckDBPyConnection, outcome: Any) -> dict[str, Any]:
    """A JSON-able account of the run from its outcome (see flows.pipeline.RunOutcome) and the marts."""
    sources = []
    for s in outcome.sources:
        entry = {"source": s.source, "ok": s.ok, "message": s.message}
        if s.files:
            entry.update(
                files_new=sum(f.status == "loaded" for f in s.files),
                files_unchanged=sum(f.status == "unchanged" for f in s.files),
                files_failed=sum(f.status in ("rejected", "failed") for f in s.files),
                rows_loaded=sum(f.rows_loaded for f in s.files if f.status == "loaded"),
                rows_rejected=sum(f.rows_rejected for f in s.files if f.status == "loaded"),
            )
        else:
            entry.update(releases_new=s.releases_new, releases_seen=s.releases_seen, pages=s.pages)
        sources.append(entry)
    validation = outcome.validation
    return {
        "run_id": outcome.run_id,
        "message": outcome.message,
        "sources": sources,
        "transform_error": outcome.transform_error,
        "validation": None if validation is None else {
            "passed": validation.passed,
            "expectations": validation.expectations_evaluated,
            "failed": validation.failed_expectations,
            "data_docs": str(validation.data_docs_index),
        },
        "headlines": _headlines(con),
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def render_markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Procurement run {summary['run_id']}", "", f"**{summary['message']}**", "", "## Sources", "",
             "| source | ok | what happened |", "|---|---|---|"]
    for s in summary["sources"]:
        lines.append(f"| {s['source']} | {'yes' if s['ok'] else '**no**'} | {s['message']} |")
    validation = summary.get("validation")
    lines += ["", "## Validation", ""]
    if summary.get("transform_error"):
        lines.append(f"dbt build failed: {summary['transform_error']}")
    elif validation is None:
        lines.append("not run")
    else:
        verdict = "passed" if validation["passed"] else "**failed**"
        lines.append(f"{validation['expectations']} expectations, {verdict}. Data Docs: `{validation['data_docs']}`")
        lines += [f"- {name}" for name in validation["failed"]]
    if summary["headlines"]:
        lines += ["", "## Headline shares per buyer", "",
                  "| buyer | source | total £ | SME | VCSE | in authority | in combined authority | green |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for h in summary["headlines"]:
            lines.append(
                f"| {h['buyer_name']} | {h['source']} | {h['total_gbp']:,.0f} | {_pct(h['sme_share'])} | "
                f"{_pct(h['vcse_share'])} | {_pct(h['in_authority_share'])} | "
                f"{_pct(h['in_combined_authority_share'])} | {_pct(h['green_share'])} |"
            )
    return "\n".join(lines) + "\n"
