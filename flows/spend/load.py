"""The spend raw tables and the per-file ledger (contract in notes/COMMON.md), written in bulk.

Rows go in as whole columns in one statement per table and commit (NumPy object arrays that DuckDB
scans in place), so a batch of files is a handful of round trips and no input ever reaches SQL as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

import duckdb
import numpy

from flows.spend.fast import BulkFile, payments_sql
from flows.spend.registry import Feed
from flows.spend.rows import ParsedFile

BATCH_ROWS = 100_000

DDL = """
CREATE TABLE IF NOT EXISTS raw.spend_publishers (
    publisher_id   VARCHAR NOT NULL,
    publisher_name VARCHAR NOT NULL,
    lad_code       VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    format         VARCHAR,
    PRIMARY KEY (publisher_id, url)
);
CREATE TABLE IF NOT EXISTS raw.spend_payments (
    publisher_id        VARCHAR NOT NULL,
    source_file         VARCHAR NOT NULL,
    source_row          INTEGER NOT NULL,
    file_sha256         VARCHAR NOT NULL,
    payment_date        DATE NOT NULL,
    amount_gbp          DECIMAL(18,2) NOT NULL,
    supplier_name       VARCHAR,
    is_redacted         BOOLEAN NOT NULL,
    supplier_id         VARCHAR,
    transaction_number  VARCHAR,
    expense_description VARCHAR,
    expense_area        VARCHAR,
    company_number      VARCHAR,
    vat_number          VARCHAR,
    supplier_postcode   VARCHAR,
    loaded_at           TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.spend_rejects (
    publisher_id VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_row   INTEGER NOT NULL,
    reason       VARCHAR NOT NULL,
    raw_row      JSON
);
CREATE TABLE IF NOT EXISTS ops.spend_files (
    publisher_id   VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    source_file    VARCHAR,          -- landing path relative to PROCUREMENT_HOME; null if nothing landed
    file_sha256    VARCHAR,
    status         VARCHAR NOT NULL, -- loaded | unchanged | rejected | superseded | fetch_failed
    message        VARCHAR,
    rows_read      INTEGER NOT NULL,
    rows_loaded    INTEGER NOT NULL,
    rows_rejected  INTEGER NOT NULL,
    rows_skipped   INTEGER NOT NULL,
    skipped_blank  INTEGER NOT NULL,
    skipped_total  INTEGER NOT NULL,
    skipped_header INTEGER NOT NULL,
    header_row     INTEGER,          -- line/row of the header in the file (title rows sit above it)
    file_kind      VARCHAR,          -- csv | xlsx, as sniffed from the bytes
    encoding       VARCHAR,
    sheet          VARCHAR,
    http_status    INTEGER,
    etag           VARCHAR,
    last_modified  VARCHAR,
    ingested_at    TIMESTAMPTZ NOT NULL,
    local_stat     VARCHAR,          -- a local file's size, times and inode when read (flows/spend/fetch.py)
    CHECK (rows_read = rows_loaded + rows_rejected + rows_skipped),
    CHECK (rows_skipped = skipped_blank + skipped_total + skipped_header)
);
"""

PAYMENT_COLUMNS = (
    "publisher_id", "source_file", "source_row", "file_sha256", "payment_date", "amount_gbp",
    "supplier_name", "is_redacted", "supplier_id", "transaction_number", "expense_description",
    "expense_area", "company_number", "vat_number", "supplier_postcode", "loaded_at",
)
# Casts applied to the bound lists; amounts travel as exact decimal strings, never floats.
_PAYMENT_CASTS = {"payment_date": "DATE", "amount_gbp": "DECIMAL(18,2)", "source_row": "INTEGER"}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    # Ledgers written before local_stat existed.
    con.execute("ALTER TABLE ops.spend_files ADD COLUMN IF NOT EXISTS local_stat VARCHAR")
    # Commits smaller than a row group (ingest_feed's single files, the last batch of a run) go through
    # the WAL. At DuckDB's default WAL size (16 MiB) nearly every such commit checkpoints, rewriting the
    # table's open row group each time; a 256 MiB WAL checkpoints every ~800k rows instead and still
    # bounds the rows held until then.
    con.execute("SET checkpoint_threshold = '256MB'")


def _insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, names: Sequence[str], columns: Sequence[list[Any]],
    casts: dict[str, str],
) -> None:
    """INSERT one batch given column-wise lists; no value ever reaches SQL as text.

    The lists travel as NumPy object arrays, which DuckDB scans in place (its replacement scan finds the
    local `bound_columns` by name): ~6x less CPU than binding them as list parameters to `unnest`, which
    converts every element to a DuckDB value first (74k payment lines: 1.25 -> 0.2 CPU-s)."""
    bound_columns = {f"c{i}": numpy.array(values, dtype=object) for i, values in enumerate(columns)}
    select = ", ".join(
        f"CAST(c{i} AS {casts[name]})" if name in casts else f"c{i}" for i, name in enumerate(names)
    )
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} FROM bound_columns")


def _batches(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), BATCH_ROWS):
        yield items[start:start + BATCH_ROWS]


def insert_payments(con: duckdb.DuckDBPyConnection, files: Sequence[StagedFile]) -> None:
    """The payments Python read (parse_file, and the lines the bulk path left to RowReader) of these files,
    in as few statements as BATCH_ROWS allows: planning a statement costs milliseconds, so one per file
    was a large share of a national load's small files."""
    rows = [(staged, payment) for staged in files for payment in staged.parsed.payments]
    for batch in _batches(rows):
        columns = [
            [s.feed.publisher_id for s, _ in batch], [s.source_file for s, _ in batch],
            [p.source_row for _, p in batch], [s.sha for s, _ in batch],
            [p.payment_date.isoformat() for _, p in batch], [str(p.amount_gbp) for _, p in batch],
            [p.supplier_name for _, p in batch], [p.is_redacted for _, p in batch], [p.supplier_id for _, p in batch],
            [p.transaction_number for _, p in batch], [p.expense_description for _, p in batch],
            [p.expense_area for _, p in batch], [p.company_number for _, p in batch],
            [p.vat_number for _, p in batch], [p.supplier_postcode for _, p in batch],
            [s.ledger.ingested_at for s, _ in batch],
        ]
        _insert_columns(con, "raw.spend_payments", PAYMENT_COLUMNS, columns, _PAYMENT_CASTS)


def insert_rejects(con: duckdb.DuckDBPyConnection, files: Sequence[StagedFile]) -> None:
    rows = [(staged, reject) for staged in files for reject in staged.parsed.rejects]
    for batch in _batches(rows):
        columns = [[s.feed.publisher_id for s, _ in batch], [s.source_file for s, _ in batch],
                   [r.source_row for _, r in batch], [r.reason for _, r in batch], [r.raw_row for _, r in batch]]
        _insert_columns(
            con, "raw.spend_rejects", ("publisher_id", "source_file", "source_row", "reason", "raw_row"), columns,
            {"source_row": "INTEGER", "raw_row": "JSON"},
        )


@dataclass(frozen=True)
class LedgerRow:
    publisher_id: str
    url: str
    status: str
    ingested_at: datetime
    source_file: str | None = None
    file_sha256: str | None = None
    message: str | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    skipped_blank: int = 0
    skipped_total: int = 0
    skipped_header: int = 0
    header_row: int | None = None
    file_kind: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    local_stat: str | None = None

    @property
    def rows_skipped(self) -> int:
        return self.skipped_blank + self.skipped_total + self.skipped_header

    @property
    def rows_read(self) -> int:
        return self.rows_loaded + self.rows_rejected + self.rows_skipped


LEDGER_COLUMNS = (
    "publisher_id", "url", "source_file", "file_sha256", "status", "message", "rows_read", "rows_loaded",
    "rows_rejected", "rows_skipped", "skipped_blank", "skipped_total", "skipped_header", "header_row",
    "file_kind", "encoding", "sheet", "http_status", "etag", "last_modified", "ingested_at", "local_stat",
)
_LEDGER_CASTS = {
    "rows_read": "INTEGER", "rows_loaded": "INTEGER", "rows_rejected": "INTEGER", "rows_skipped": "INTEGER",
    "skipped_blank": "INTEGER", "skipped_total": "INTEGER", "skipped_header": "INTEGER", "header_row": "INTEGER",
    "http_status": "INTEGER", "ingested_at": "TIMESTAMPTZ",
}


def insert_ledger(con: duckdb.DuckDBPyConnection, *rows: LedgerRow) -> None:
    """Ledger rows in one statement (a night's hundreds of unchanged files cost one round trip)."""
    columns = [[getattr(row, name) for row in rows] for name in LEDGER_COLUMNS]
    _insert_columns(con, "ops.spend_files", LEDGER_COLUMNS, columns, _LEDGER_CASTS)


@dataclass(frozen=True)
class PreviousVersion:
    """The feed's current version: the last file version whose rows are in the raw tables (or rejected)."""

    status: str
    source_file: str | None
    file_sha256: str | None
    etag: str | None
    last_modified: str | None
    local_stat: str | None = None


def previous_versions(con: duckdb.DuckDBPyConnection, feeds: Sequence[Feed]) -> dict[tuple[str, str], PreviousVersion]:
    """Each feed's current version by (publisher_id, url), in one query; feeds never ingested are absent.

    That is the latest loaded, rejected or unchanged row (a loaded or rejected one first at equal times).
    An unchanged run repeats the version before it, so it reports that version's own outcome: loaded
    when a loaded row of the feed has the same SHA-256, else rejected.
    """
    rows = con.execute(
        """
        WITH latest AS (
            SELECT f.publisher_id, f.url, f.status, f.source_file, f.file_sha256, f.etag, f.last_modified,
                   f.local_stat
            FROM ops.spend_files AS f
            JOIN (SELECT unnest($publishers) AS publisher_id, unnest($urls) AS url) AS wanted
              ON f.publisher_id = wanted.publisher_id AND f.url = wanted.url
            WHERE f.status IN ('loaded', 'rejected', 'unchanged')
            QUALIFY row_number() OVER (PARTITION BY f.publisher_id, f.url
                                       ORDER BY f.ingested_at DESC, f.status = 'unchanged') = 1
        )
        SELECT publisher_id, url,
               CASE WHEN status <> 'unchanged' THEN status
                    WHEN EXISTS (SELECT 1 FROM ops.spend_files AS l
                                 WHERE l.publisher_id = latest.publisher_id AND l.url = latest.url
                                   AND l.status = 'loaded' AND l.file_sha256 = latest.file_sha256) THEN 'loaded'
                    ELSE 'rejected' END,
               source_file, file_sha256, etag, last_modified, local_stat
        FROM latest
        """,
        {"publishers": [feed.publisher_id for feed in feeds], "urls": [feed.url for feed in feeds]},
    ).fetchall()
    return {(row[0], row[1]): PreviousVersion(*row[2:]) for row in rows}


def insert_staged_payments(con: duckdb.DuckDBPyConnection, files: Sequence[StagedFile]) -> None:
    """The lines the bulk CSV path parsed in SQL (flows/spend/fast.py) for these files, from their groups'
    staged tables, one statement per group. Raises (the caller rolls back) if a group inserts other than the
    lines its files counted."""
    groups: dict[int, list[StagedFile]] = {}
    for staged in files:
        if staged.bulk is not None:
            groups.setdefault(staged.bulk.group.number, []).append(staged)
    for staged in groups.values():
        (inserted,) = con.execute(
            f"""
            INSERT INTO raw.spend_payments ({', '.join(PAYMENT_COLUMNS)})
            SELECT f.publisher_id, f.source_file, CAST(f.first_line + s.line_id - f.start AS INTEGER), f.sha,
                   s.payment_date, s.amount_gbp, s.supplier_name, s.is_redacted, s.supplier_id,
                   s.transaction_number, s.expense_description, s.expense_area, s.company_number,
                   s.vat_number, s.supplier_postcode, f.loaded_at
            FROM ({payments_sql(staged[0].bulk.group)}) AS s
            JOIN (SELECT unnest($file) AS file, unnest($publisher_id) AS publisher_id,
                         unnest($source_file) AS source_file, unnest($sha) AS sha, unnest($first_line) AS first_line,
                         unnest($start) AS start, unnest($loaded_at) AS loaded_at) AS f
              ON s.file = f.file
            """,
            {"file": [f.bulk.file for f in staged], "publisher_id": [f.feed.publisher_id for f in staged],
             "source_file": [f.source_file for f in staged], "sha": [f.sha for f in staged],
             "first_line": [f.bulk.first_line for f in staged], "start": [f.bulk.start for f in staged],
             "loaded_at": [f.ledger.ingested_at for f in staged]},
        ).fetchone()
        counted = sum(f.bulk.loaded for f in staged)
        if inserted != counted:
            raise AssertionError(f"bulk spend path lost lines: {inserted} inserted, {counted} counted")


def loaded_urls(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    """The URLs under which each (publisher_id, file_sha256) is currently loaded, in one query (one per
    file cost milliseconds of planning each)."""
    rows = con.execute(
        "SELECT publisher_id, file_sha256, list(DISTINCT url ORDER BY url) FROM ops.spend_files "
        "WHERE status = 'loaded' GROUP BY publisher_id, file_sha256"
    ).fetchall()
    return {(publisher_id, sha): urls for publisher_id, sha, urls in rows}


@dataclass(frozen=True)
class StagedFile:
    """A parsed file version waiting to be committed: its Python-read rows, its ledger row, its bulk lines."""

    feed: Feed
    source_file: str
    sha: str
    parsed: ParsedFile
    ledger: LedgerRow
    bulk: BulkFile | None = None


def replace_feed_rows(con: duckdb.DuckDBPyConnection, files: Sequence[StagedFile]) -> None:
    """In one transaction, for every file: drop the rows of its feed's earlier versions, add this version's,
    log it. A crash leaves each of these files wholly loaded and logged, or not at all.

    The files' earlier versions go first, then the new rows of all of them, one statement per table (the
    files are of distinct feeds: ingest_feeds commits a feed's earlier outcome before reading it again).
    The bulk path's staged lines stay in their staged tables (flows.spend.fast.drop_staged drops them).
    """
    con.execute("BEGIN TRANSACTION")
    try:
        loaded = _loaded_files(con, [staged.feed for staged in files])
        for staged in files:
            _drop_earlier(con, staged.feed, loaded.get((staged.feed.publisher_id, staged.feed.url), []))
        insert_payments(con, files)
        insert_rejects(con, files)
        insert_ledger(con, *(staged.ledger for staged in files))
        insert_staged_payments(con, files)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _loaded_files(con: duckdb.DuckDBPyConnection, feeds: Sequence[Feed]) -> dict[tuple[str, str], list[str]]:
    """The source files of each feed's loaded versions, in one query."""
    rows = con.execute(
        """
        SELECT f.publisher_id, f.url, list(DISTINCT f.source_file)
        FROM ops.spend_files AS f
        JOIN (SELECT unnest($publishers) AS publisher_id, unnest($urls) AS url) AS wanted
          ON f.publisher_id = wanted.publisher_id AND f.url = wanted.url
        WHERE f.status = 'loaded'
        GROUP BY f.publisher_id, f.url
        """,
        {"publishers": [feed.publisher_id for feed in feeds], "urls": [feed.url for feed in feeds]},
    ).fetchall()
    return {(publisher_id, url): files for publisher_id, url, files in rows}


def _drop_earlier(con: duckdb.DuckDBPyConnection, feed: Feed, previous_files: list[str]) -> None:
    """Delete the rows of the feed's loaded versions and mark them superseded. A feed's first version has
    nothing to delete or supersede; skipping keeps a national load linear."""
    if not previous_files:
        return
    for table in ("raw.spend_payments", "raw.spend_rejects"):
        con.execute(
            f"DELETE FROM {table} WHERE publisher_id = ? AND list_contains(?, source_file)",
            [feed.publisher_id, previous_files],
        )
    con.execute(
        "UPDATE ops.spend_files SET status = 'superseded' WHERE publisher_id = ? AND url = ? AND status = 'loaded'",
        [feed.publisher_id, feed.url],
    )


def record_publishers(con: duckdb.DuckDBPyConnection, feeds: Iterable[Feed]) -> int:
    """Upsert the registry rows into raw.spend_publishers; returns how many rows were written.

    One row per (publisher_id, url). Rows of feeds no longer in the registry stay, because their
    payments stay; a publisher's name and lad_code are updated on all its rows to the registry's values.
    """
    ensure_tables(con)
    feeds = list(feeds)
    if not feeds:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        columns = [
            [f.publisher_id for f in feeds], [f.publisher_name for f in feeds], [f.lad_code for f in feeds],
            [f.url for f in feeds], [f.format for f in feeds],
        ]
        con.execute(
            "DELETE FROM raw.spend_publishers WHERE list_contains(?, publisher_id || chr(31) || url)",
            [[f"{f.publisher_id}\x1f{f.url}" for f in feeds]],
        )
        _insert_columns(
            con, "raw.spend_publishers", ("publisher_id", "publisher_name", "lad_code", "url", "format"), columns, {}
        )
        con.execute(
            """
            UPDATE raw.spend_publishers AS p SET publisher_name = n.publisher_name, lad_code = n.lad_code
            FROM (SELECT DISTINCT unnest($1) AS publisher_id, unnest($2) AS publisher_name, unnest($3) AS lad_code) AS n
            WHERE p.publisher_id = n.publisher_id
            """,
            columns[:3],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(feeds)
