"""`procurement query "SQL"`: one read-only statement over the published warehouse.

Two locks: the statement is parsed first and refused unless it only reads (SELECT, including WITH,
FROM-first, DESCRIBE, SHOW and SUMMARIZE, or EXPLAIN), and the warehouse is opened read-only anyway,
so anything the parser check missed fails in DuckDB instead of writing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Sequence

import duckdb

from flows.config import Settings
from flows.report.data import open_warehouse
from flows.safe_csv import write_csv

READ_ONLY_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryRefused(ValueError):
    """The SQL is not a single read-only statement; the message says what was refused and why."""


def check_read_only(sql: str) -> None:
    """Raise QueryRefused unless `sql` is exactly one statement that only reads."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"cannot parse the query: {exc}") from None
    if not statements:
        raise QueryRefused("no SQL statement given")
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type
    if kind not in READ_ONLY_TYPES:
        name = kind.name.replace("_", " ")
        raise QueryRefused(f"refused: {name} statements can change data or settings; "
                           "`procurement query` only runs SELECT (or WITH ... SELECT, DESCRIBE, SHOW, EXPLAIN)")


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: numbers right-aligned, then the row count."""
    cells = [[_text(v) for v in row] for row in rows]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool)
                                  for r in rows if r[i] is not None) for i in range(len(header))]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out) + "\n"


def run_query(settings: Settings, sql: str, csv: bool = False) -> str:
    """Run one read-only statement on the published warehouse; the result as a text table or as CSV
    (cells that a spreadsheet would run as formulas are quoted, see flows.safe_csv)."""
    check_read_only(sql)
    with open_warehouse(settings) as con:
        cursor = con.execute(sql)
        header = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchall() if header else []
    return write_csv(header, rows) if csv else format_table(header, rows)
