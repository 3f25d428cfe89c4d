"""The pipeline's working DuckDB database.

The working database (`$PROCUREMENT_HOME/work.duckdb`) holds the raw tables (schema `raw`), the
pipeline's own bookkeeping (schema `ops`: landing files, watermarks, ledgers, run log) and what dbt
builds. Analysts read the published copy instead, so the pipeline may hold this one open while it works.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from flows.config import Settings


# DuckDB's buffer pool may otherwise grow to 80% of the machine's memory as the raw tables grow (2.3 GB
# peak loading 1M releases; 1 GB with this limit, at about the same speed).
MEMORY_LIMIT = "1GB"


def connect_path(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    return con


@contextmanager
def working_db(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the working database, closed on exit so that dbt can open the file next."""
    con = connect_path(settings.work_db)
    try:
        yield con
    finally:
        con.close()
