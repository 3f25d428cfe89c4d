"""ops.runs: one row per `procurement run`, published with the marts for `procurement status`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import duckdb

DDL = """
CREATE TABLE IF NOT EXISTS ops.runs (
    run_id      VARCHAR PRIMARY KEY,
    mode        VARCHAR NOT NULL,  -- live | sample
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL,  -- running | published | failed
    message     VARCHAR,
    summary     JSON
)
"""


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, mode: str) -> None:
    con.execute(DDL)
    con.execute(
        "INSERT INTO ops.runs (run_id, mode, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, mode, datetime.now(timezone.utc)],
    ).fetchall()


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str, summary: dict[str, Any]
) -> None:
    con.execute(
        "UPDATE ops.runs SET finished_at = ?, status = ?, message = ?, summary = ? WHERE run_id = ?",
        [datetime.now(timezone.utc), status, message, json.dumps(summary, default=str), run_id],
    ).fetchall()
