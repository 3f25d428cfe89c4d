"""`procurement status`: last runs (from the published warehouse's run log) and what is loaded.

The run log is read from the published warehouse, which is never locked by a run; the working
database's bookkeeping is added when no run holds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from flows.config import Settings
from flows.run_summary import render_markdown

LAST_RUNS = 5


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection | None:
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:
        return None


def _runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not _table_exists(con, "ops", "runs"):
        return []
    rows = con.execute(
        "SELECT run_id, mode, started_at, finished_at, status, message, summary FROM ops.runs "
        "ORDER BY started_at DESC LIMIT ?", [LAST_RUNS]
    ).fetchall()
    lines = ["Last runs:"]
    for run_id, mode, started, finished, status, message, _ in rows:
        ended = f"{finished:%Y-%m-%d %H:%M}" if finished else "—"
        lines.append(f"  {started:%Y-%m-%d %H:%M} → {ended}  {status:<9} {mode:<6} {run_id}  {message or ''}")
    latest_summary = rows[0][6] if rows else None
    if latest_summary:
        lines += ["", render_markdown(json.loads(latest_summary)).rstrip()]
    return lines


def _working_db_lines(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    lines: list[str] = []
    if _table_exists(con, "ops", "watermarks"):
        lines.append("Watermarks (notices harvested up to):")
        for source, to, updated in con.execute(
            "SELECT source, harvested_to, updated_at FROM ops.watermarks ORDER BY source"
        ).fetchall():
            lines.append(f"  {source:<18} {to:%Y-%m-%d %H:%M %Z}  (updated {updated:%Y-%m-%d %H:%M})")
    if _table_exists(con, "ops", "harvest_windows"):
        lines.append("Harvest windows:")
        for row in con.execute(
            """
            SELECT source, count(*), count(*) FILTER (WHERE status <> 'ok'), sum(pages),
                   sum(releases_seen), sum(releases_new), max(finished_at)
            FROM ops.harvest_windows GROUP BY source ORDER BY source
            """
        ).fetchall():
            lines.append(
                f"  {row[0]:<18} {row[1]} windows ({row[2]} failed), {row[3]} pages, "
                f"{row[4]} releases seen, {row[5]} new; last {row[6]:%Y-%m-%d %H:%M}"
            )
    if _table_exists(con, "raw", "ocds_releases"):
        lines.append("Releases stored:")
        for source, releases, processes in con.execute(
            "SELECT source, count(*), count(DISTINCT ocid) FROM raw.ocds_releases GROUP BY source ORDER BY source"
        ).fetchall():
            lines.append(f"  {source:<18} {releases} releases in {processes} processes")
    if _table_exists(con, "ops", "spend_files"):
        lines.append("Spend files (latest state of each registry row):")
        for status, files, read, loaded, rejected, skipped in con.execute(
            """
            SELECT status, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected), sum(rows_skipped)
            FROM (SELECT * FROM ops.spend_files
                  QUALIFY row_number() OVER (PARTITION BY publisher_id, url ORDER BY ingested_at DESC) = 1)
            GROUP BY status ORDER BY status
            """
        ).fetchall():
            lines.append(f"  {status:<12} {files} files: {read} rows read, {loaded} loaded, "
                         f"{rejected} rejected, {skipped} skipped")
    if _table_exists(con, "ops", "landing_files"):
        files, size = con.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM ops.landing_files").fetchone()
        lines.append(f"Landing area: {files} files, {size / 1e6:.1f} MB under {settings.landing_dir}")
    return lines


def render_status(settings: Settings) -> str:
    if not settings.work_db.exists() and not settings.warehouse_db.exists():
        return f"No runs yet under {settings.home}. Try `procurement run --sample`."
    lines: list[str] = []
    if settings.warehouse_db.exists() and (con := _open_read_only(settings.warehouse_db)) is not None:
        with con:
            lines += [f"Published warehouse: {settings.warehouse_db}", *_runs(con), ""]
    if settings.work_db.exists():
        con = _open_read_only(settings.work_db)
        if con is None:
            lines.append(f"A run is in progress and holds {settings.work_db}; loading details follow when it ends.")
        else:
            with con:
                lines += [f"Working database: {settings.work_db}", *_working_db_lines(con, settings)]
    return "\n".join(lines)
