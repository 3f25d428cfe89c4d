"""Publishing (section 6 of the warehouse contract): the validated marts replace the warehouse atomically.

The new warehouse is built as a separate file next to the old one (`warehouse.duckdb.new-<pid>`),
closed, fsync'ed and then `os.replace`d over `warehouse.duckdb`. A rename is atomic on POSIX: a
reader sees either the old file or the new one, and a reader that already has the old file open keeps
reading the old inode until it closes. A publish that fails or is killed before the rename leaves the
old warehouse untouched; its temp file is removed by the next publish. The warehouse itself is never
opened here. The Parquet copies under `$PROCUREMENT_HOME/marts/` are each written to a temp name and
renamed the same way.

`publish` itself does not validate; `publish_if_valid` is the gate: validate, then publish only a
passing working DB.

At national scale copying fct_payments (10M rows) into a new file is most of a night's publish, so the
new file starts as a byte copy of the published warehouse when there is one, and fct_payments is
brought up to date in it: the rows (re-)attributed since the last publish (see
int_spend__payments_attributed) are replaced. The copy is only trusted when the published file records
where it was left (meta.incremental_marts) and the result matches the working table in row count and a
checksum of every row; otherwise, and for every other mart (all small), the table is copied whole.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import duckdb

from flows.config import Settings
from flows.validate import ValidationReport, validate

# Section 7: the published tables. Publishing refuses a working DB that lacks any of them.
CONTRACT_MARTS = (
    "fct_payments",
    "fct_award_suppliers",
    "dim_suppliers",
    "dim_buyers",
    "sme_spend",
    "local_spend",
    "green_spend",
)
META_SCHEMA = "meta"
# Marts kept up to date in a copy of the published warehouse: mart -> (key column, the incremental model
# behind it, its column saying when a row was last (re-)built).
INCREMENTAL_MARTS = {
    "fct_payments": ("payment_key", "intermediate.int_spend__payments_attributed", "attributed_at"),
}
_TEMP_SUFFIX = re.compile(r"\.new-(\d+)(\.wal)?$")


class PublishError(RuntimeError):
    """The working DB cannot be published; the old warehouse is left as it was."""


@dataclass(frozen=True)
class PublishResult:
    warehouse_path: Path
    run_id: str
    published_at: datetime
    row_counts: dict[str, int]  # mart name -> rows published
    parquet_paths: dict[str, Path] = field(default_factory=dict)
    updated_in_place: list[str] = field(default_factory=list)  # marts updated in a copy of the last warehouse


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp_files(settings: Settings) -> list[Path]:
    """Remove temp files left by publishes whose process no longer exists; return what was removed."""
    candidates = list(settings.home.glob(settings.warehouse_db.name + ".new-*"))
    candidates += list((settings.home / "marts").glob("*.parquet.new-*"))
    removed = []
    for path in candidates:
        match = _TEMP_SUFFIX.search(path.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the renames themselves durable, not just the file contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _relations(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
        "ORDER BY table_name",
        [catalog, schema],
    ).fetchall()
    return [r[0] for r in rows]


def _changed_through(con: duckdb.DuckDBPyConnection, catalog: str, mart: str) -> datetime | None:
    """When the rows of `mart` in catalog's copy were last brought up to date, if it says."""
    if "incremental_marts" not in _relations(con, catalog, META_SCHEMA):
        return None
    row = con.execute(
        f"SELECT changed_through FROM {_quote(catalog)}.{META_SCHEMA}.incremental_marts WHERE table_name = ?", [mart]
    ).fetchone()
    return row[0] if row else None


def _update_in_place(con: duckdb.DuckDBPyConnection, work: str, mart: str, since: datetime) -> bool:
    """Replace the rows of wh.marts.<mart> (re-)built in the working DB after `since`; False (and nothing
    changed) when that is not safe or not worth it, so that the caller copies the table whole."""
    key, model, built_at = INCREMENTAL_MARTS[mart]
    source, target = f"{_quote(work)}.marts.{_quote(mart)}", f"wh.marts.{_quote(mart)}"
    columns = "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? " \
              "AND table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position"
    if con.execute(columns, [work, mart]).fetchall() != con.execute(columns, ["wh", mart]).fetchall():
        return False
    changed = f"(SELECT {key} FROM {_quote(work)}.{model} WHERE {built_at} > $since)"
    (n_changed,) = con.execute(f"SELECT count(*) FROM {changed}", {"since": since}).fetchone()
    (n_rows,) = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    if n_changed >= n_rows:  # a full rebuild: copying is faster than replacing every row
        return False
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM {target} WHERE {key} IN {changed}", {"since": since}).fetchall()
    con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {key} IN {changed}", {"since": since}).fetchall()
    # Whole rows compared as one checksum: a row the update missed or left stale changes it.
    totals = "SELECT count(*), sum(hash(t)) FROM {} AS t"
    if con.execute(totals.format(target)).fetchone() != con.execute(totals.format(source)).fetchone():
        con.execute("ROLLBACK")
        return False
    con.execute("COMMIT")
    return True


def _build_new_warehouse(
    settings: Settings, temp_db: Path, run_id: str, published_at: datetime, extra_tables: Sequence[str]
) -> tuple[dict[str, int], list[str]]:
    """Write the new warehouse at temp_db; returns (rows per mart, the marts updated in place)."""
    if not settings.work_db.exists():
        raise PublishError(f"no working database at {settings.work_db}; run ingest and transform first")
    # Connect to the working DB the way the rest of the pipeline does: DuckDB lets a process open a
    # file through one database instance only, so this shares the instance (and its writes) of any
    # connection the caller still holds instead of failing to attach the file a second time.
    con = duckdb.connect(str(settings.work_db))
    try:
        work = con.execute("SELECT current_database()").fetchone()[0]
        marts = _relations(con, work, "marts")
        missing = [m for m in CONTRACT_MARTS if m not in marts]
        if missing:
            raise PublishError(f"working database {settings.work_db} lacks marts: {', '.join(missing)}")
        if settings.warehouse_db.exists():
            shutil.copyfile(settings.warehouse_db, temp_db)
        con.execute(f"ATTACH {_sql_string(str(temp_db))} AS wh")
        con.execute("CREATE SCHEMA IF NOT EXISTS wh.marts")
        counts: dict[str, int] = {}
        updated: list[str] = []
        changed_through: dict[str, datetime] = {}
        for mart in marts:
            since = None
            if mart in INCREMENTAL_MARTS:
                _, model, built_at = INCREMENTAL_MARTS[mart]
                if model.partition(".")[2] in _relations(con, work, model.partition(".")[0]):
                    changed_through[mart] = con.execute(
                        f"SELECT max({built_at}) FROM {_quote(work)}.{model}").fetchone()[0]
                    since = _changed_through(con, "wh", mart)
            if since is not None and mart in _relations(con, "wh", "marts") and _update_in_place(con, work, mart, since):
                updated.append(mart)
            else:
                con.execute(f"CREATE OR REPLACE TABLE wh.marts.{_quote(mart)} "
                            f"AS SELECT * FROM {_quote(work)}.marts.{_quote(mart)}")
            counts[mart] = con.execute(f"SELECT count(*) FROM wh.marts.{_quote(mart)}").fetchone()[0]
        for stale in set(_relations(con, "wh", "marts")) - set(marts):
            con.execute(f"DROP TABLE wh.marts.{_quote(stale)}")
        for qualified in extra_tables:
            schema, _, table = qualified.partition(".")
            if not table or table not in _relations(con, work, schema):
                raise PublishError(f"working database {settings.work_db} lacks table {qualified}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS wh.{_quote(schema)}")
            con.execute(
                f"CREATE OR REPLACE TABLE wh.{_quote(schema)}.{_quote(table)} "
                f"AS SELECT * FROM {_quote(work)}.{_quote(schema)}.{_quote(table)}"
            )
        # Metadata lives outside `marts` so the published schema holds exactly the contract's tables.
        con.execute(f"DROP SCHEMA IF EXISTS wh.{META_SCHEMA} CASCADE")
        con.execute(f"CREATE SCHEMA wh.{META_SCHEMA}")
        con.execute(
            f"CREATE TABLE wh.{META_SCHEMA}.published_tables "
            "(table_name VARCHAR, row_count BIGINT, run_id VARCHAR, published_at TIMESTAMPTZ)"
        )
        con.executemany(
            f"INSERT INTO wh.{META_SCHEMA}.published_tables VALUES (?, ?, ?, ?)",
            [[f"marts.{m}", n, run_id, published_at] for m, n in counts.items()],
        )
        con.execute(f"CREATE TABLE wh.{META_SCHEMA}.incremental_marts (table_name VARCHAR, changed_through TIMESTAMPTZ)")
        for mart, through in changed_through.items():
            con.execute(f"INSERT INTO wh.{META_SCHEMA}.incremental_marts VALUES (?, ?)", [mart, through]).fetchall()
        con.execute("DETACH wh")  # checkpoints: everything is in the file, no WAL left behind
    finally:
        con.close()
    return counts, updated


def _write_parquet(settings: Settings, temp_db: Path, marts: Sequence[str]) -> dict[str, Path]:
    """Parquet copies of the marts, from the file about to be published so both always agree."""
    out_dir = settings.home / "marts"
    out_dir.mkdir(parents=True, exist_ok=True)
    temps: dict[str, Path] = {}
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_sql_string(str(temp_db))} AS wh (READ_ONLY)")
        for mart in marts:
            temp = out_dir / f"{mart}.parquet.new-{os.getpid()}"
            con.execute(
                f"COPY wh.marts.{_quote(mart)} TO {_sql_string(str(temp))} (FORMAT parquet, COMPRESSION zstd)"
            )
            _fsync_file(temp)
            temps[mart] = temp
    finally:
        con.close()
    return temps


def publish(settings: Settings, run_id: str | None = None, extra_tables: Sequence[str] = ()) -> PublishResult:
    """Copy the working DB's `marts` schema into a new warehouse file and rename it over the old one.

    `extra_tables` are further `schema.table` names of the working DB to publish alongside (e.g. a
    run log for `procurement status`). Raises PublishError, leaving the old warehouse as it was.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(settings)
    run_id = run_id or uuid.uuid4().hex
    published_at = datetime.now(timezone.utc)
    temp_db = settings.warehouse_db.with_name(f"{settings.warehouse_db.name}.new-{os.getpid()}")
    temp_parquet: dict[str, Path] = {}
    for leftover in (temp_db, temp_db.with_name(temp_db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        counts, updated = _build_new_warehouse(settings, temp_db, run_id, published_at, extra_tables)
        if temp_db.with_name(temp_db.name + ".wal").exists():
            raise PublishError(f"{temp_db} was not checkpointed cleanly; not publishing it")
        temp_parquet = _write_parquet(settings, temp_db, list(counts))
        _fsync_file(temp_db)
        os.replace(temp_db, settings.warehouse_db)
        parquet_paths = {}
        for mart, temp in temp_parquet.items():
            final = temp.with_name(f"{mart}.parquet")
            os.replace(temp, final)
            parquet_paths[mart] = final
        _fsync_dir(settings.home)
        _fsync_dir(settings.home / "marts")
    finally:
        for leftover in [temp_db, temp_db.with_name(temp_db.name + ".wal"), *temp_parquet.values()]:
            leftover.unlink(missing_ok=True)
    return PublishResult(
        warehouse_path=settings.warehouse_db,
        run_id=run_id,
        published_at=published_at,
        row_counts=counts,
        parquet_paths=parquet_paths,
        updated_in_place=updated,
    )


def publish_if_valid(
    settings: Settings, run_id: str | None = None, extra_tables: Sequence[str] = ()
) -> tuple[ValidationReport, PublishResult | None]:
    """Validate the working DB and publish it only if every expectation passed.

    On failure nothing under PROCUREMENT_HOME except the GX results and Data Docs changes; the
    report names the failed expectations.
    """
    report = validate(settings, run_id=run_id)
    if not report.passed:
        return report, None
    return report, publish(settings, run_id=report.run_id, extra_tables=extra_tables)
