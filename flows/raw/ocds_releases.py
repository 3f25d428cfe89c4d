"""raw.ocds_releases: every OCDS release ever harvested, once per (source, ocid, release id).

Services return a release again whenever its notice is edited, and overlapping windows return it
twice, so a release whose key is already stored is not inserted again. Amendments and award updates
are new releases with the same ocid and are all kept; dbt compiles the latest state.

Landed package files are loaded by DuckDB straight from disk (`load_releases`): no Python decoding or
re-encoding of any release. A file goes to the Python reader instead (`flows.sources.ocds`, then
`insert_releases`) when DuckDB would read it differently from it: not UTF-8, not one JSON value,
numbers Python repairs (`NaN`, `1e9999`, leading zeros), trailing commas Python refuses, or a release
whose ocid or id is not a plainly non-blank string (Python rejects or rewrites those). Both paths store
the release as DuckDB's JSON writer prints it. One difference remains: a member named twice in one
object is stored twice (DuckDB keeps both, readers see the first) where the Python path keeps the last.

The key is kept by the inserts rather than by a primary-key index: each insert skips keys already in the
table and repeats within its own batch (first file, first position wins), with one hash join per batch
instead of an index probe and index update per row. The table is only written by these two functions,
under the pipeline's run lock; tests/harvest prove one row per key, and the validation suite checks it
on every run. Tables created before this keep their primary key, which these inserts never violate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import duckdb

DDL = """
CREATE TABLE IF NOT EXISTS raw.ocds_releases (
    source       VARCHAR NOT NULL,
    ocid         VARCHAR NOT NULL,
    release_id   VARCHAR NOT NULL,
    release_date TIMESTAMPTZ,
    tags         VARCHAR[],
    release_json JSON NOT NULL,
    landing_file VARCHAR NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""

# New rows of one batch: neither stored already nor an earlier copy in the batch (first file, first
# position wins). `batch` has the raw columns plus `batch_order`, the release's position in the batch,
# and is materialized so that the JSON is parsed once. The stored keys are looked up with the batch as
# the hash join's build side (an IN list): a NOT EXISTS against the table would hash every stored key
# for every batch, which made memory and time grow with the table.
_INSERT_NEW = """
, stored AS MATERIALIZED (
    SELECT source, ocid, release_id FROM raw.ocds_releases
    WHERE (source, ocid, release_id) IN (SELECT source, ocid, release_id FROM batch)
)
INSERT INTO raw.ocds_releases (source, ocid, release_id, release_date, tags, release_json, landing_file)
SELECT source, ocid, release_id, release_date, tags, release_json, landing_file
FROM batch AS n
WHERE NOT EXISTS (
    SELECT 1 FROM stored AS o
    WHERE o.source = n.source AND o.ocid = n.ocid AND o.release_id = n.release_id
)
AND NOT EXISTS (
    SELECT 1 FROM batch AS e
    WHERE e.source = n.source AND e.ocid = n.ocid AND e.release_id = n.release_id AND e.batch_order < n.batch_order
)
"""

# Parsed releases from Python go to DuckDB as one bound JSON parameter: one statement per page, and no
# value from a feed is ever spliced into SQL text.
_FROM_PYTHON = """
WITH batch AS MATERIALIZED (
    SELECT
        $source AS source,
        r ->> 'ocid' AS ocid,
        r ->> 'id' AS release_id,
        TRY_CAST(r ->> 'date' AS TIMESTAMPTZ) AS release_date,
        CASE WHEN json_type(r -> 'tag') = 'ARRAY' THEN from_json(r -> 'tag', '["VARCHAR"]') END AS tags,
        r AS release_json,
        $landing_file AS landing_file,
        0 AS batch_order  -- the page was deduplicated in Python
    FROM (SELECT unnest(from_json($page::JSON, '["JSON"]')) AS r)
)
""" + _INSERT_NEW

# Where DuckDB's JSON reader accepts what Python's refuses or repairs: NaN/Infinity/inf in any case,
# exponents of three digits or more and 300-digit numbers (Python turns overflows into null), and
# trailing commas. It runs over the whole text, strings included: a false alarm only costs the Python path.
_NOT_PLAIN_JSON = r"[:,\[]\s*[-+]?(?i:nan|inf)|[:,\[]\s*-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{3}|[:,\[]\s*-?[0-9]{300}|,\s*[\]}]"

# One row per landed file: whether DuckDB reads it exactly as the Python path would, and how many
# releases it holds. try(decode()) is null for bytes that are not UTF-8; nothing here can raise on a
# bad file, which matters because an error aborts the caller's whole transaction.
_SCREEN = """
WITH files AS (
    SELECT f.file_order, try(decode(b.content)) AS text
    FROM read_blob($paths) AS b
    INNER JOIN (SELECT unnest($paths) AS path, unnest(range(len($paths))) AS file_order) AS f ON f.path = b.filename
),
valid AS (
    SELECT file_order, text,
           text IS NOT NULL AND json_valid(text) AND NOT regexp_matches(text, $not_plain) AS is_valid
    FROM files
),
keyed AS (
    SELECT file_order,
           CASE WHEN is_valid THEN from_json(text, '{"releases": [{"ocid": "JSON", "id": "JSON"}]}').releases END AS keys
    FROM valid
)
-- A plain key is a JSON string with a printable non-space ASCII character, so Python's strip() keeps it
-- non-blank; anything else (missing, blank, numeric ids Python turns into strings) takes the Python path.
SELECT
    file_order,
    keys IS NOT NULL AND len(list_filter(keys, lambda k: NOT coalesce(
        json_type(k.ocid) = 'VARCHAR' AND regexp_matches(k.ocid ->> '$', '[!-~]')
        AND json_type(k.id) = 'VARCHAR' AND regexp_matches(k.id ->> '$', '[!-~]'), false))) = 0 AS is_plain,
    coalesce(len(keys), 0) AS releases
FROM keyed
ORDER BY file_order
"""

# Files that passed the screen, read again by DuckDB: every release with its key fields in one pass.
_FROM_FILES = """
WITH files AS (
    SELECT f.source, f.landing_file, f.file_order,
           from_json(decode(b.content), '{"releases": ["JSON"]}').releases AS releases
    FROM read_blob($paths) AS b
    INNER JOIN (
        SELECT unnest($paths) AS path, unnest($sources) AS source, unnest($landing_files) AS landing_file,
               unnest(range(len($paths))) AS file_order
    ) AS f ON f.path = b.filename
),
releases AS (
    SELECT source, landing_file, file_order, unnest(releases) AS r, unnest(range(len(releases))) AS position
    FROM files
),
batch AS MATERIALIZED (
    SELECT
        source,
        k.ocid AS ocid,
        k.id AS release_id,
        TRY_CAST(k.date AS TIMESTAMPTZ) AS release_date,
        CASE WHEN json_type(k.tag) = 'ARRAY' THEN from_json(k.tag, '["VARCHAR"]') END AS tags,
        r AS release_json,
        landing_file,
        file_order * 1000000000 + position AS batch_order
    FROM (SELECT *, from_json(r, '{"ocid": "VARCHAR", "id": "VARCHAR", "date": "VARCHAR", "tag": "JSON"}') AS k
          FROM releases)
)
""" + _INSERT_NEW


@dataclass(frozen=True)
class LoadCount:
    seen: int
    new: int
    rejected: int

    def __add__(self, other: "LoadCount") -> "LoadCount":
        return LoadCount(self.seen + other.seen, self.new + other.new, self.rejected + other.rejected)


@dataclass(frozen=True)
class LandedPackage:
    source: str
    path: Path  # absolute
    landing_file: str  # as stored in raw.ocds_releases: relative to PROCUREMENT_HOME


class UnreadablePackage(ValueError):
    """A landed file that is not an OCDS release package even after repair."""


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _is_keyed(release: Any) -> bool:
    return (
        isinstance(release, dict)
        and isinstance(release.get("ocid"), str)
        and release["ocid"].strip() != ""
        and isinstance(release.get("id"), (str, int))
        and str(release["id"]).strip() != ""
    )


def insert_releases(
    con: duckdb.DuckDBPyConnection, source: str, releases: Iterable[Any], landing_file: str
) -> LoadCount:
    """Insert releases parsed in Python; returns how many were seen, new, and rejected for lacking a key."""
    ensure_table(con)
    keyed: dict[tuple[str, str], dict[str, Any]] = {}
    seen = rejected = 0
    for release in releases:
        seen += 1
        if not _is_keyed(release):
            rejected += 1
            continue
        release = {**release, "id": str(release["id"])}
        keyed.setdefault((release["ocid"], release["id"]), release)
    if not keyed:
        return LoadCount(seen=seen, new=0, rejected=rejected)
    (inserted,) = con.execute(
        _FROM_PYTHON,
        {"source": source, "landing_file": landing_file, "page": json.dumps(list(keyed.values()), allow_nan=False)},
    ).fetchone()
    return LoadCount(seen=seen, new=inserted, rejected=rejected)


def load_releases(con: duckdb.DuckDBPyConnection, packages: Sequence[LandedPackage]) -> LoadCount:
    """Load landed release package files: DuckDB reads the plain ones itself, Python the rest.

    Raises UnreadablePackage (after loading every readable file) when a file is not a release package.
    """
    from flows.sources.ocds import UnreadableResponse, decode_body, parse_package

    ensure_table(con)
    packages = list({p.path: p for p in packages}.values())
    if not packages:
        return LoadCount(0, 0, 0)
    paths = [str(p.path) for p in packages]
    screened = con.execute(_SCREEN, {"paths": paths, "not_plain": _NOT_PLAIN_JSON}).fetchall()
    if len(screened) != len(packages):
        raise FileNotFoundError(f"{len(packages) - len(screened)} landed package files could not be read")
    plain = [p for p, (_, is_plain, _) in zip(packages, screened) if is_plain]
    total = LoadCount(seen=sum(n for _, is_plain, n in screened if is_plain), new=0, rejected=0)
    if plain:
        (inserted,) = con.execute(_FROM_FILES, {
            "paths": [str(p.path) for p in plain],
            "sources": [p.source for p in plain],
            "landing_files": [p.landing_file for p in plain],
        }).fetchone()
        total += LoadCount(0, inserted, 0)
    unreadable = []
    for package, (_, is_plain, _) in zip(packages, screened):
        if is_plain:
            continue
        try:
            releases = parse_package(decode_body(package.path.read_bytes())).releases
        except UnreadableResponse as exc:
            unreadable.append(f"{package.landing_file}: {exc}")
            continue
        total += insert_releases(con, package.source, releases, package.landing_file)
    if unreadable:
        raise UnreadablePackage("; ".join(unreadable))
    return total
