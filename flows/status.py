"""`procurement status`: what the pipeline has harvested and loaded, from the working database."""

from __future__ import annotations

import duckdb

from flows.config import Settings


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def render_status(settings: Settings) -> str:
    if not settings.work_db.exists():
        return f"No runs yet: {settings.work_db} does not exist. Try `procurement run --sample`."
    try:
        con = duckdb.connect(str(settings.work_db), read_only=True)
    except duckdb.IOException:
        return f"A run is in progress and holds {settings.work_db}; try again when it finishes."
    lines = [f"Working database: {settings.work_db}"]
    try:
        if _table_exists(con, "ops", "watermarks"):
            lines.append("\nWatermarks (notices harvested up to):")
            for source, to, updated in con.execute(
                "SELECT source, harvested_to, updated_at FROM ops.watermarks ORDER BY source"
            ).fetchall():
                lines.append(f"  {source:<18} {to:%Y-%m-%d %H:%M %Z}  (updated {updated:%Y-%m-%d %H:%M})")
        if _table_exists(con, "ops", "harvest_windows"):
            lines.append("\nHarvest windows:")
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
            lines.append("\nReleases stored:")
            for source, releases, processes in con.execute(
                "SELECT source, count(*), count(DISTINCT ocid) FROM raw.ocds_releases GROUP BY source ORDER BY source"
            ).fetchall():
                lines.append(f"  {source:<18} {releases} releases in {processes} processes")
        if _table_exists(con, "ops", "landing_files"):
            files, size = con.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM ops.landing_files").fetchone()
            lines.append(f"\nLanding area: {files} files, {size / 1e6:.1f} MB under {settings.landing_dir}")
    finally:
        con.close()
    return "\n".join(lines)
