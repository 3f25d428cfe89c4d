"""Publishing (section 6 of the warehouse contract): the validated marts replace the warehouse atomically.

The new warehouse is built as a separate file next to the old one (`warehouse.duckdb.new-<pid>`),
closed, fsync'ed and then `os.replace`d over `warehouse.duckdb`. A rename is atomic on POSIX: a
reader sees either the old file or the new one, and a reader that already has the old file open keeps
reading the old inode until it closes. A publish that fails or is killed before the rename leaves the
old warehouse untouched; its temp files are removed by the next publish. The warehouse itself is never
opened here. `publish` itself does not validate; `publish_if_valid` is the gate: validate, then publish
only a passing working DB.

What a publish costs, and why it is done this way (10M payment lines, 2 cores): writing the 10M rows of
fct_payments costs ~24 CPU s into a DuckDB file and ~22 CPU s into Parquet (half of that is DuckDB's
Parquet writer on the random payment_key; compression level, codec and row-group size change it by
10-25%); a checksum of every row of it costs ~1.3 CPU s. A night changes a few publishers' payments
and the small marts, so a night's publish only rewrites what changed, decided by content:

- Every mart's rows are summed as count(*) and sum(hash(row)) per partition (fct_payments: per
  publisher_id; fct_award_suppliers: per bucket of processes, hash(ocid) % 65536; the other marts are
  one partition). The sums of what was published are recorded in the warehouse
  (meta.published_partitions).
- The new file starts as a byte copy of the published warehouse. A mart whose sums equal the recorded
  ones is kept as it is; in a partitioned mart only the partitions whose sums changed are deleted
  and inserted again; any other changed mart is copied whole. A kept or updated mart is then checked
  against the working DB by the same sums over every row, and copied whole if they differ, so a copy
  that is not what was recorded (edited, or from an older publish) is never trusted. Only when the
  published file is still the one the last publish wrote (its device, inode, size, mtime and ctime as
  recorded in `$PROCUREMENT_HOME/warehouse-checked.json` right after its rename, before and after the
  copy: any write, copy or replacement changes one of them) are just the replaced partitions checked,
  since the rest were checked when that file was written (10M payments: ~1.3 CPU s a night less).
  This needs no knowledge of which rows the pipeline rebuilt: a full dbt rebuild that yields the
  same rows republishes nothing.
- Parquet under `$PROCUREMENT_HOME/marts/`: each file carries in its footer (key-value metadata
  `procurement_checksum`) the sums and column list of the rows it holds, so what is on disk says
  what it holds, whatever step a killed publish stopped at, and a file is rewritten only when that
  differs. The small marts are one file each, `marts/<mart>.parquet`, written to a temp name and
  renamed. fct_payments is a folder of files: `marts/fct_payments.parquet` is a symlink to
  `marts/fct_payments.versions/<version>/`, whose `part-NN.parquet` files each hold the publishers
  with hash(publisher_id) % 32 = NN (one file per publisher needs a scan per publisher, ~0.2 CPU s
  each, or DuckDB's PARTITION_BY, which took 37 CPU s and 5.9 GB at 10M and 227 s under a 1 GB limit;
  32 hash buckets cost one cheap scan each and keep a night's rewrite to about 1/32 of the rows plus
  its publishers'). A new version links the unchanged files of the current one (hard links, so
  every version stands alone) and writes the changed ones; the symlink is then replaced by a rename,
  atomically, so a reader of `marts/fct_payments.parquet` (DuckDB's read_parquet reads a folder)
  sees one whole version. The version before stays for readers still listing it; older ones are
  removed after the switch.

As before, the warehouse is renamed first and the Parquet renames follow; a kill between them leaves
Parquet of the last publish, which the next publish brings up to date.

A night at 10M (a copy of the benchmark's 10M home made to look as before its night: one new 33k-line
file, ~1,700 changed buckets of award processes; `benchmarks.run --stage publish`, 3 runs each alternated
with the code before, load average 4-5): 6.4-8.5 CPU s, 9-12 s wall, peak 630-700 MB [8.9-11.5 CPU s,
12.6-13.1 s wall, 880 MB before checking only the replaced partitions and replacing award buckets]. Of
that: summing the working DB's payments ~1.2 CPU s, its award buckets ~0.4, writing the changed part
file of fct_payments ~1.6-2.2 (~680k rows; finding them is ~0.2) and fct_award_suppliers.parquet
~1.0-1.8 (one file, so any change rewrites its 670k rows), copying the 380 MB file ~0.2. A publish with
nothing changed: ~2.9-3.3 CPU s (the meta table now holds 65k award bucket rows). Seventh session: the
working DB's sums stay in a temp table, compared with the recorded ones and recorded in SQL (as Python
values, fetching the 65k rows twice and binding them back cost ~0.8 CPU s): 10M night 11.0-11.9 -> 10.2-11.4
CPU s (4 alternated runs each, load average 4-6). Replacing the award buckets cost a further ~1.3-1.5 CPU s
at the checkpoint, where DuckDB merged the row groups the deletes left part-empty (copying the table whole
instead measured ~2.3): the deleted rows now stay stored until they are a tenth of a table
(MAX_DELETED_SHARE). 3 alternated runs each at load 3-6: 11.9-12.0 (the session's start) -> 11.1-11.5 (sums
in SQL) -> 8.8-10.4 CPU s, peak ~770 -> ~620-670 MB.

Measured at 10M on the shared 2-core machine (load average 8-10, so CPU seconds are the figure to
compare; the old code on the same data and machine in brackets): a night of one new 33k-line file,
11.9 CPU s, 37 s wall, peak 1.0 GB [38.3 CPU s, 54 s wall at load 6, 2.8 GB]; a publish with nothing
changed (e.g. after a full rebuild that yields the same rows) 4.3 CPU s; a full publish from scratch
73 CPU s, 169 s wall, 1.0 GB [68 CPU s, 170 s wall, 2.9 GB]. Of the old night, 7 CPU s (13 s wall)
were importing Great Expectations, which publishing alone no longer does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import duckdb

from flows.config import Settings

if TYPE_CHECKING:  # validation pulls in Great Expectations (~10 s of imports), which publish alone never needs
    from flows.validate import ValidationReport

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
# Marts updated partition by partition: mart -> the SQL (a VARCHAR) naming a row's partition.
PARTITIONS = {
    "fct_payments": '"publisher_id"::VARCHAR',
    # A night's releases change a few thousand of some 500k processes (10M payments + 1M releases):
    # copying the 670k rows whole cost ~2 CPU s, replacing the changed ones of 65,536 buckets ~0.4.
    "fct_award_suppliers": '(hash("ocid") % 65536)::VARCHAR',
}
# Marts published as a folder of Parquet files: mart -> the column whose hash(...) % PARQUET_FILES
# numbers a row's file. The others are one Parquet file each.
PARQUET_FOLDERS = {"fct_payments": "publisher_id"}
PARQUET_FILES = 32
CHECKSUM_KEY = "procurement_checksum"  # the Parquet footer entry saying what rows a file holds
# A night replaces some of fct_award_suppliers' 65k buckets, deleting rows in nearly every row group of it, and
# DuckDB's checkpoint then merges the part-empty row groups ("vacuum"), rewriting most of the table: ~1.5 of
# the night's ~10 CPU-s at 10M, for ~8k changed rows. A publish leaves them part-empty while the deleted rows
# still stored are at most this share of every mart table's stored rows, and lets DuckDB vacuum otherwise.
MAX_DELETED_SHARE = 0.1
_TEMP_SUFFIX = re.compile(r"\.new-(\d+)(\.wal)?$")

# partition value (None for an unpartitioned mart) -> (Parquet file number, rows, sum of row hashes)
Sums = dict[str | None, tuple[int, int, int]]
# Parquet file number -> (rows, sum of row hashes) of a mart's partitions in that file
FileSums = dict[int, tuple[int, int]]
# The working DB's sums of this publish, in a temp table of its connection: the 65k partitions of a night
# (fct_award_suppliers' buckets) are compared with the recorded ones and recorded in SQL, where as Python
# values fetching, comparing and binding them again cost ~0.8 CPU-s.
SUMS_DDL = ("CREATE TEMP TABLE publish_sums (table_name VARCHAR, part VARCHAR, file_number INTEGER, "
            "row_count BIGINT, checksum HUGEINT)")


class PublishError(RuntimeError):
    """The working DB cannot be published; the old warehouse is left as it was."""


@dataclass(frozen=True)
class PublishResult:
    warehouse_path: Path
    run_id: str
    published_at: datetime
    row_counts: dict[str, int]  # mart name -> rows published
    parquet_paths: dict[str, Path] = field(default_factory=dict)
    updated_in_place: list[str] = field(default_factory=list)  # marts whose changed partitions replaced in a copy
    unchanged: list[str] = field(default_factory=list)  # marts kept as they were in the copy of the last warehouse
    parquet_written: list[str] = field(default_factory=list)  # Parquet files (relative to marts/) written anew


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


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, mart: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [catalog, mart]).fetchall()


def _sums_query(relation: str, mart: str, where: str = "TRUE") -> str:
    """SQL of (partition, Parquet file number, rows, sum of the rows' hashes) of the rows of `relation` (a
    quoted name holding `mart`'s rows) meeting `where`, one row per partition. Equal sums mean equal rows
    up to a 64-bit hash collision; the order of rows does not count."""
    part = PARTITIONS.get(mart)
    if part is None:
        return f"SELECT NULL::VARCHAR, 0, count(*), coalesce(sum(hash(t)), 0) FROM {relation} AS t WHERE {where}"
    folder_key = PARQUET_FOLDERS.get(mart)
    number = f"hash({_quote(folder_key)}) % {PARQUET_FILES}" if folder_key else "0"
    return f"SELECT {part}, {number}, count(*), sum(hash(t)) FROM {relation} AS t WHERE {where} GROUP BY ALL"


def partition_sums(con: duckdb.DuckDBPyConnection, relation: str, mart: str, where: str = "TRUE",
                   params: dict | None = None) -> Sums:
    """The sums of `_sums_query` (binding `params`), by partition."""
    found = con.execute(_sums_query(relation, mart, where), params or {}).fetchall()
    return {part: (int(number), rows, int(total)) for part, number, rows, total in found}


def _in_partitions(expression: str) -> str:
    """A condition on a partition `expression`: its value is in $parts, or it is NULL and $nulls holds."""
    return f"({expression} IN (SELECT unnest($parts::VARCHAR[])) OR ({expression} IS NULL AND $nulls))"


def _current_sums(con: duckdb.DuckDBPyConnection, mart: str, partitions: dict | None = None) -> Sums:
    """The working DB's sums of `mart` in publish_sums: every partition, or those `partitions` names
    (the $parts and $nulls of `_in_partitions`)."""
    where = "TRUE" if partitions is None else _in_partitions("part")
    found = con.execute("SELECT part, file_number, row_count, checksum FROM publish_sums "
                        f"WHERE table_name = $mart AND {where}", {"mart": mart, **(partitions or {})}).fetchall()
    return {part: (number, rows, int(total)) for part, number, rows, total in found}


def _changed_partitions(con: duckdb.DuckDBPyConnection, mart: str) -> tuple[set[str | None], bool] | None:
    """The partitions of `mart` whose sums in publish_sums differ from those the published warehouse (attached
    as wh) recorded, and whether any partition is left unchanged; None when it recorded none for `mart`."""
    if "published_partitions" not in _relations(con, "wh", META_SCHEMA):
        return None
    recorded, current = con.execute(
        f"SELECT (SELECT count(*) FROM wh.{META_SCHEMA}.published_partitions WHERE table_name = $mart), "
        "(SELECT count(*) FROM publish_sums WHERE table_name = $mart)", {"mart": mart}).fetchone()
    if not recorded:
        return None
    changed = con.execute(
        f"SELECT coalesce(s.part, r.part), s.table_name IS NOT NULL "
        f"FROM (FROM publish_sums WHERE table_name = $mart) AS s "
        f"FULL JOIN (FROM wh.{META_SCHEMA}.published_partitions WHERE table_name = $mart) AS r "
        "ON s.part IS NOT DISTINCT FROM r.part WHERE s.table_name IS NULL OR r.table_name IS NULL "
        "OR s.file_number <> r.file_number OR s.row_count <> r.row_count OR s.checksum <> r.checksum",
        {"mart": mart}).fetchall()
    return {part for part, _ in changed}, current > sum(now for _, now in changed)


def deleted_share(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """The share of `table`'s stored rows (a quoted name) that are deleted but still stored."""
    stored = con.execute("SELECT sum(count) FROM pragma_storage_info(?) WHERE column_id = 0 AND column_path = '[0]'",
                         [table]).fetchone()[0]
    live = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return 1 - live / stored if stored else 0.0


def _file_identity(path: Path) -> list[int] | None:
    """What changes whenever a file is written, renamed over or replaced; None if there is no file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _checked_marker(settings: Settings) -> Path:
    """Where a publish records the identity of the warehouse file it wrote (all of it checked row by row)."""
    return settings.home / "warehouse-checked.json"


def _untouched_since_published(settings: Settings) -> bool:
    """Whether warehouse.duckdb is still the very file the last publish wrote: no write, copy or
    replacement since (any of them changes its size, times or inode). Readers open it read-only."""
    try:
        recorded = json.loads(_checked_marker(settings).read_text())
    except (OSError, ValueError):
        return False
    return recorded == _file_identity(settings.warehouse_db)


def _bring_up_to_date(con: duckdb.DuckDBPyConnection, work: str, mart: str, trusted: bool) -> str:
    """Make wh.marts.<mart> hold the working DB's rows: 'unchanged' (kept), 'updated' (changed partitions
    replaced) or 'copied' (copied whole). Kept and updated tables are checked row by row against the sums in
    publish_sums: all their rows, or, when `trusted` (wh is a byte copy of a file the last publish wrote and
    checked, untouched since), the partitions replaced now; the others hold what wh recorded."""
    source, target = f"{_quote(work)}.marts.{_quote(mart)}", f"wh.marts.{_quote(mart)}"
    part = PARTITIONS.get(mart)
    found = _changed_partitions(con, mart)
    if (found is not None and mart in _relations(con, "wh", "marts")
            and _columns(con, work, mart) == _columns(con, "wh", mart)):
        changed, some_kept = found
        # An unpartitioned mart is kept or copied whole, and so is one none of whose partitions is kept.
        if not changed or (part is not None and some_kept):
            con.execute("BEGIN TRANSACTION")
            if changed:
                where = _in_partitions(part)
                params = {"parts": [p for p in changed if p is not None], "nulls": None in changed}
                con.execute(f"DELETE FROM {target} WHERE {where}", params).fetchall()
                con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {where}", params).fetchall()
            # Summing every row again costs ~1.4 CPU-s for 10M payments; a trusted copy is checked where
            # it was changed.
            if not trusted:
                agrees = partition_sums(con, target, mart) == _current_sums(con, mart)
            elif changed:
                agrees = partition_sums(con, target, mart, where, params) == _current_sums(con, mart, params)
            else:
                agrees = True
            if agrees:
                con.execute("COMMIT")
                return "updated" if changed else "unchanged"
            con.execute("ROLLBACK")
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")
    return "copied"


@dataclass
class _NewWarehouse:
    files: dict[str, FileSums]  # mart -> its sums per Parquet file
    columns: dict[str, list[tuple[str, str]]]
    how: dict[str, str]  # mart -> unchanged | updated | copied


def _build_new_warehouse(
    settings: Settings, temp_db: Path, run_id: str, published_at: datetime, extra_tables: Sequence[str]
) -> _NewWarehouse:
    """Write the new warehouse at temp_db, starting from a copy of the published one if there is one."""
    if not settings.work_db.exists():
        raise PublishError(f"no working database at {settings.work_db}; run ingest and transform first")
    # Connect to the working DB the way the rest of the pipeline does: DuckDB lets a process open a
    # file through one database instance only, so this shares the instance (and its writes) of any
    # connection the caller still holds instead of failing to attach the file a second time.
    con = duckdb.connect(str(settings.work_db))
    # An instance-wide setting, and this connection shares the instance of any the caller holds on the working DB.
    vacuum_tasks = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0]
    try:
        work = con.execute("SELECT current_database()").fetchone()[0]
        marts = _relations(con, work, "marts")
        missing = [m for m in CONTRACT_MARTS if m not in marts]
        if missing:
            raise PublishError(f"working database {settings.work_db} lacks marts: {', '.join(missing)}")
        trusted = False
        if settings.warehouse_db.exists():
            trusted = _untouched_since_published(settings)
            shutil.copyfile(settings.warehouse_db, temp_db)
            trusted = trusted and _untouched_since_published(settings)  # and not written while copied
        con.execute(f"ATTACH {_sql_string(str(temp_db))} AS wh")
        con.execute("CREATE SCHEMA IF NOT EXISTS wh.marts")
        if all(deleted_share(con, f"wh.marts.{_quote(table)}") <= MAX_DELETED_SHARE
               for table in _relations(con, "wh", "marts")):
            con.execute("SET max_vacuum_tasks = 0")
        con.execute(SUMS_DDL)
        built = _NewWarehouse({}, {}, {})
        for mart in marts:
            sums = _sums_query(f"{_quote(work)}.marts.{_quote(mart)}", mart)
            con.execute(f"INSERT INTO publish_sums SELECT $mart, * FROM ({sums})", {"mart": mart}).fetchall()
            built.how[mart] = _bring_up_to_date(con, work, mart, trusted)
            built.columns[mart] = _columns(con, "wh", mart)
            built.files[mart] = {}
        for mart, number, rows, total in con.execute(
                "SELECT table_name, file_number, sum(row_count), sum(checksum) FROM publish_sums GROUP BY ALL").fetchall():
            built.files[mart][number] = (int(rows), int(total))
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
            [[f"marts.{m}", sum(n for n, _ in files.values()), run_id, published_at]
             for m, files in built.files.items()],
        )
        con.execute(f"CREATE TABLE wh.{META_SCHEMA}.published_partitions AS FROM publish_sums")
        con.execute("DETACH wh")  # checkpoints: everything is in the file, no WAL left behind
    finally:
        con.execute("SET max_vacuum_tasks = ?", [vacuum_tasks])
        con.close()
    return built


def parquet_tag(columns: list[tuple[str, str]], rows: int, total: int) -> str:
    """What a Parquet file holds, as written in its footer: its columns and the sums of its rows."""
    schema = hashlib.sha256(repr(columns).encode()).hexdigest()[:16]
    return f"{rows}:{total}:{schema}"


def _file_tags(con: duckdb.DuckDBPyConnection, pattern: Path) -> dict[str, Path]:
    """tag -> file, for the Parquet files matching `pattern` that carry one; empty if there are none."""
    try:
        found = con.execute("SELECT file_name, value FROM parquet_kv_metadata(?) WHERE key = ?",
                            [str(pattern), CHECKSUM_KEY.encode()]).fetchall()
    except duckdb.Error:  # no such files, or unreadable ones: nothing to reuse
        return {}
    return {value.decode(): Path(name) for name, value in found}


@dataclass
class _ParquetPlan:
    renames: list[tuple[Path, Path]] = field(default_factory=list)  # temp -> final, after the warehouse's
    new_versions: list[Path] = field(default_factory=list)  # folders written for this publish
    written: list[str] = field(default_factory=list)


def _copy_to_parquet(con: duckdb.DuckDBPyConnection, source: str, temp: Path, tag: str) -> None:
    con.execute(f"COPY {source} TO {_sql_string(str(temp))} "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{CHECKSUM_KEY}: {_sql_string(tag)}}})")
    _fsync_file(temp)


def _write_parquet(settings: Settings, temp_db: Path, built: _NewWarehouse, published_at: datetime) -> _ParquetPlan:
    """Parquet files of the marts, from the file about to be published so both always agree; only files
    whose footer does not already say they hold these rows are written."""
    out_dir = settings.home / "marts"
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _ParquetPlan()
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_sql_string(str(temp_db))} AS wh (READ_ONLY)")
        for mart, files in built.files.items():
            final = out_dir / f"{mart}.parquet"
            temp = out_dir / f"{mart}.parquet.new-{os.getpid()}"
            columns = built.columns[mart]
            if mart not in PARQUET_FOLDERS:
                tag = parquet_tag(columns, sum(n for n, _ in files.values()), sum(t for _, t in files.values()))
                if final.is_symlink() or _file_tags(con, final).get(tag) != final:
                    _copy_to_parquet(con, f"wh.marts.{_quote(mart)}", temp, tag)
                    plan.renames.append((temp, final))
                    plan.written.append(final.name)
                continue
            tags = {number: parquet_tag(columns, *sums) for number, sums in (files or {0: (0, 0)}).items()}
            current = _file_tags(con, final / "*.parquet") if final.is_dir() else {}
            if final.is_symlink() and sorted(current) == sorted(tags.values()) \
                    and len(list(final.rglob("*"))) == len(tags):
                continue
            version = out_dir / f"{mart}.versions" / f"{published_at:%Y%m%dT%H%M%S%f}-{os.getpid()}"
            version.mkdir(parents=True)
            plan.new_versions.append(version)
            key = PARQUET_FOLDERS[mart]
            for number, tag in sorted(tags.items()):
                path = version / f"part-{number:02d}.parquet"
                if tag in current:
                    try:
                        os.link(current[tag], path)
                    except OSError:  # a file system without hard links: the bytes, then
                        shutil.copyfile(current[tag], path)
                        _fsync_file(path)
                    continue
                _copy_to_parquet(con, f"(SELECT * FROM wh.marts.{_quote(mart)} WHERE hash({_quote(key)}) % "
                                      f"{PARQUET_FILES} = {number})", path, tag)
                plan.written.append(f"{version.parent.name}/{version.name}/{path.name}")
            _fsync_dir(version)
            temp.unlink(missing_ok=True)  # left by a publish of this process that failed before its renames
            temp.symlink_to(Path(version.parent.name) / version.name)
            plan.renames.append((temp, final))
    finally:
        con.close()
    return plan


def _replace(temp: Path, final: Path) -> None:
    """os.replace, also over a real folder where a symlink is expected (a home copied without symlinks);
    only that case is not atomic."""
    if final.is_dir() and not final.is_symlink():
        aside = final.with_name(f"{final.name}.old-{os.getpid()}")
        os.rename(final, aside)
        os.replace(temp, final)
        shutil.rmtree(aside)
    else:
        os.replace(temp, final)


def _remove_old_versions(out_dir: Path, previous: dict[str, str | None]) -> None:
    """Keep the version each partitioned mart points to and the one it pointed to before (a reader may
    still be listing it); remove the rest, including versions of publishes killed before their switch."""
    for mart in PARQUET_FOLDERS:
        versions = out_dir / f"{mart}.versions"
        pointer = out_dir / f"{mart}.parquet"
        if not versions.is_dir():
            continue
        keep = {Path(os.readlink(pointer)).name if pointer.is_symlink() else None, previous.get(mart)}
        for version in versions.iterdir():
            if version.name not in keep:
                shutil.rmtree(version, ignore_errors=True)


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
    out_dir = settings.home / "marts"
    plan = _ParquetPlan()
    switched = False
    for leftover in (temp_db, temp_db.with_name(temp_db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        built = _build_new_warehouse(settings, temp_db, run_id, published_at, extra_tables)
        if temp_db.with_name(temp_db.name + ".wal").exists():
            raise PublishError(f"{temp_db} was not checkpointed cleanly; not publishing it")
        plan = _write_parquet(settings, temp_db, built, published_at)
        previous = {m: Path(os.readlink(out_dir / f"{m}.parquet")).name
                    for m in PARQUET_FOLDERS if (out_dir / f"{m}.parquet").is_symlink()}
        _fsync_file(temp_db)
        _checked_marker(settings).unlink(missing_ok=True)  # killed before the new one: all rows checked next time
        os.replace(temp_db, settings.warehouse_db)
        switched = True
        _checked_marker(settings).write_text(json.dumps(_file_identity(settings.warehouse_db)))
        for temp, final in plan.renames:
            _replace(temp, final)
        _fsync_dir(settings.home)
        _fsync_dir(out_dir)
        _remove_old_versions(out_dir, previous)
    finally:
        for leftover in [temp_db, temp_db.with_name(temp_db.name + ".wal"), *(t for t, _ in plan.renames)]:
            leftover.unlink(missing_ok=True)
        if not switched:
            for version in plan.new_versions:
                shutil.rmtree(version, ignore_errors=True)
    return PublishResult(
        warehouse_path=settings.warehouse_db,
        run_id=run_id,
        published_at=published_at,
        row_counts={m: sum(n for n, _ in files.values()) for m, files in built.files.items()},
        parquet_paths={m: out_dir / f"{m}.parquet" for m in built.files},
        updated_in_place=[m for m, how in built.how.items() if how == "updated"],
        unchanged=[m for m, how in built.how.items() if how == "unchanged"],
        parquet_written=plan.written,
    )


def publish_if_valid(
    settings: Settings, run_id: str | None = None, extra_tables: Sequence[str] = ()
) -> tuple[ValidationReport, PublishResult | None]:
    """Validate the working DB and publish it only if every expectation passed.

    On failure nothing under PROCUREMENT_HOME except the GX results and Data Docs changes; the
    report names the failed expectations.
    """
    from flows.validate import validate

    report = validate(settings, run_id=run_id)
    if not report.passed:
        return report, None
    return report, publish(settings, run_id=report.run_id, extra_tables=extra_tables)
