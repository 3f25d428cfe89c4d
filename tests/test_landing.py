"""Landing in two steps: files stored as they are read, their rows recorded later, many in one statement."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from flows.http import Fetched
from flows.landing import record, store


def _fetched(body: bytes, url: str) -> Fetched:
    return Fetched(url=url, status=200, headers={"etag": '"x"', "set-cookie": "s=1"}, body=body,
                   fetched_at=datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc), attempts=1)


def test_stored_files_are_recorded_once_each_as_one_by_one(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ops")
    a, b = _fetched(b"a,b\n1,2\n", "https://example.org/a.csv"), _fetched(b"c\n3\n", "https://example.org/c.csv")
    stored = [store(tmp_path / "home", "spend", ["p1"], "feed", "csv", fetched) for fetched in (a, b, a)]
    assert stored[0] == stored[2] and stored[0].path.read_bytes() == a.body
    assert not list((tmp_path / "home" / "landing" / "spend" / "p1").glob("*.part"))

    record(con, stored)  # the same body twice in one statement: one row
    record(con, stored[:1])  # and again later: still one
    record(con, [])
    rows = con.execute("SELECT * FROM ops.landing_files ORDER BY bytes").fetchall()

    other = duckdb.connect()
    other.execute("CREATE SCHEMA ops")
    for fetched in (a, b, a):
        record(other, [store(tmp_path / "home", "spend", ["p1"], "feed", "csv", fetched)])
    assert rows == other.execute("SELECT * FROM ops.landing_files ORDER BY bytes").fetchall()
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        (stored[1].relative_path, "spend", 4, "https://example.org/c.csv", 200),
        (stored[0].relative_path, "spend", 8, "https://example.org/a.csv", 200),
    ]
    assert rows[0][2] == b.sha256 and rows[0][6] == b.fetched_at
