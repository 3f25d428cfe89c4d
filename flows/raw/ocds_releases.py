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

The same pass writes raw.ocds_release_fields: the fields of each stored release that the dbt models read
(title, tender, buyer, awards, parties), typed as written, so that no model parses release JSON, with
the release's release_date and loaded_at, so that the models' staging reads it without a join. It is
derived from raw.ocds_releases and kept in step with it: `sync_release_fields` (run by `ensure_table`, so
before every dbt build) adds the fields of releases that reached the table otherwise, e.g. inserted by
hand or loaded before the table existed, and drops those of releases no longer there; when both tables
hold the same keys it only checks that (0.15 CPU-s at 1M releases, against 1.4 for the two joins). Measured
at 1M releases (load average ~9, so CPU seconds): the load 164 CPU-s and 1.1 GB peak; filling the fields
of 1M releases already stored (a database loaded before this table) 24 CPU-s.

The key is kept by the inserts rather than by a primary-key index: each insert skips keys already in the
table and repeats within its own batch (first file, first position wins), with one hash join per batch
instead of an index probe and index update per row. The tables are only written by this module,
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
    release_json JSON NOT NULL USING COMPRESSION zstd,
    landing_file VARCHAR NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""
# zstd: compressing the release JSON with DuckDB's default string compression took half of the load's
# time (in the checkpoints); zstd is several times cheaper.

# The part of a release the models read, as DuckDB's from_json structure: every leaf is the text as
# written (a string's value, any other value's JSON text), like json_extract_string, except that a
# non-integral number is printed by DuckDB's cast of the double (1e+16, where the JSON text reads
# 10000000000000000.0: the same number); a member that is absent or of another shape (a list where an
# object belongs, or the reverse) is null.
_ID = {"scheme": "VARCHAR", "id": "VARCHAR"}
FIELDS: dict[str, Any] = {
    "title": "VARCHAR",
    "tender": {
        "title": "VARCHAR",
        "description": "VARCHAR",
        "classification": _ID,
        "additionalClassifications": [_ID],
        "items": [{"classification": _ID, "additionalClassifications": [_ID]}],
    },
    "buyer": {"id": "VARCHAR", "name": "VARCHAR"},
    "awards": [{
        "id": "VARCHAR", "title": "VARCHAR", "status": "VARCHAR", "date": "VARCHAR",
        "value": {"amount": "VARCHAR", "currency": "VARCHAR"},
        "suppliers": [{"id": "VARCHAR", "name": "VARCHAR"}],
    }],
    "parties": [{
        "id": "VARCHAR", "name": "VARCHAR", "roles": ["VARCHAR"],
        "address": {"streetAddress": "VARCHAR", "postalCode": "VARCHAR", "countryName": "VARCHAR"},
        "details": {"scale": "VARCHAR", "vcse": "VARCHAR", "sme": "VARCHAR", "vco": "VARCHAR"},
        "sme": "VARCHAR", "vco": "VARCHAR",
        "identifier": _ID,
        "additionalIdentifiers": [_ID],
    }],
}
# What the loader reads of each release besides its key.
_RELEASE = json.dumps({"date": "VARCHAR", "tag": ["VARCHAR"], **FIELDS})
# The same with the key as JSON values, so that the screen can tell a plain string key from anything else.
_KEYED_RELEASE = json.dumps({"ocid": "JSON", "id": "JSON", "date": "VARCHAR", "tag": ["VARCHAR"], **FIELDS})


def _column_type(structure: Any) -> str:
    if isinstance(structure, list):
        return _column_type(structure[0]) + "[]"
    if isinstance(structure, dict):
        return "STRUCT(" + ", ".join(f'"{name}" {_column_type(t)}' for name, t in structure.items()) + ")"
    return structure


FIELDS_DDL = (
    "CREATE TABLE IF NOT EXISTS raw.ocds_release_fields (\n"
    "    source VARCHAR NOT NULL,\n    ocid VARCHAR NOT NULL,\n    release_id VARCHAR NOT NULL,\n"
    "    release_date TIMESTAMPTZ,\n    loaded_at TIMESTAMPTZ NOT NULL,\n"
    + ",\n".join(f'    "{name}" {_column_type(t)}' for name, t in FIELDS.items())
    + "\n)"
)
_FIELD_COLUMNS = ", ".join(f'"{name}"' for name in FIELDS)

# A batch is the temporary table ocds_batch: one row per release read, with its key, `release_json`,
# `r` (the release read with _KEYED_RELEASE), `landing_file` and `batch_order` (its position in the
# batch). Its new rows are those neither stored already nor an earlier copy in the batch (first file,
# first position wins); only their positions are kept, in ocds_new, for the two inserts. The stored keys
# are looked up with the batch as the hash join's build side (an IN list): a NOT EXISTS against the table
# would hash every stored key for every batch, which made memory and time grow with the table.
_NEW_ROWS = """
CREATE OR REPLACE TEMP TABLE ocds_new AS
WITH batch AS (SELECT source, ocid, release_id, batch_order FROM ocds_batch WHERE release_json IS NOT NULL),
stored AS MATERIALIZED (
    SELECT source, ocid, release_id FROM raw.ocds_releases
    WHERE (source, ocid, release_id) IN (SELECT source, ocid, release_id FROM batch)
)
SELECT batch_order, current_timestamp AS loaded_at
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
_INSERT_RELEASES = """
INSERT INTO raw.ocds_releases (source, ocid, release_id, release_date, tags, release_json, landing_file, loaded_at)
SELECT source, ocid, release_id, TRY_CAST(r.date AS TIMESTAMPTZ), r.tag, release_json, landing_file, loaded_at
FROM ocds_batch INNER JOIN ocds_new USING (batch_order)
"""
_INSERT_FIELDS = f"""
INSERT INTO raw.ocds_release_fields
SELECT source, ocid, release_id, TRY_CAST(r.date AS TIMESTAMPTZ), loaded_at, {", ".join(f"r.{c}" for c in _FIELD_COLUMNS.split(", "))}
FROM ocds_batch INNER JOIN ocds_new USING (batch_order)
"""

# Parsed releases from Python go to DuckDB as one bound JSON parameter: one statement per page, and no
# value from a feed is ever spliced into SQL text.
_FROM_PYTHON = """
CREATE OR REPLACE TEMP TABLE ocds_batch AS
SELECT
    $source AS source, release_json ->> 'ocid' AS ocid, release_json ->> 'id' AS release_id, release_json,
    from_json(release_json, '{release}') AS r, $landing_file AS landing_file, batch_order
FROM (SELECT unnest(releases) AS release_json, unnest(range(len(releases))) AS batch_order
      FROM (SELECT from_json($page::JSON, '["JSON"]') AS releases))
""".replace("{release}", _KEYED_RELEASE)

# Where DuckDB's JSON reader accepts what Python's refuses or repairs: NaN/Infinity/inf in any case,
# exponents of three digits or more and 300-digit numbers (Python turns overflows into null), and
# trailing commas, each after a `:`, `,` or `[`. It runs over the whole text, strings included: a false
# alarm only costs the Python path. One pattern per leading character: RE2 then skips to that character
# instead of stepping its automaton through every byte (a third of the time of one pattern for all three).
_ODD_VALUE = r"\s*(?:[-+]?(?i:nan|inf)|-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{3}|-?[0-9]{300})"
_NOT_PLAIN_JSON = (":" + _ODD_VALUE, r"\[" + _ODD_VALUE, "," + _ODD_VALUE[:-1] + r"|[\]}])")

# The landed files of a batch, read in one statement into ocds_batch: one row per release of each file
# that DuckDB reads exactly as the Python path would (`is_plain`), and one row without a release for
# every other file (and for a plain file without releases), so that the screen sees every file. A file's
# text is parsed twice, for the releases as JSON values (stored as DuckDB's JSON writer prints them) and
# for the fields; both read the same values (a number's text is that of its double either way), so the
# fields are what the stored JSON says. try() makes bytes that are not UTF-8 and text that is not JSON
# null: nothing here can raise on a bad file, which matters because an error aborts the caller's whole
# transaction.
_READ_FILES = """
CREATE OR REPLACE TEMP TABLE ocds_batch AS
WITH files AS (
    SELECT f.file_order, f.source, f.landing_file, try(decode(b.content)) AS text
    FROM read_blob($paths) AS b
    INNER JOIN (
        SELECT unnest($paths) AS path, unnest($sources) AS source, unnest($landing_files) AS landing_file,
               unnest(range(len($paths))) AS file_order
    ) AS f ON f.path = b.filename
),
parsed AS (
    SELECT file_order, source, landing_file,
           CASE WHEN is_plain_text THEN try(from_json(text, '{"releases": ["JSON"]}')).releases END AS json_releases,
           CASE WHEN is_plain_text THEN try(from_json(text, '{"releases": [{release}]}')).releases END AS releases
    FROM (
        SELECT *, text IS NOT NULL AND NOT (regexp_matches(text, $not_plain[1]) OR regexp_matches(text, $not_plain[2])
                                            OR regexp_matches(text, $not_plain[3])) AS is_plain_text
        FROM files
    )
),
-- A plain key is a JSON string with a printable non-space ASCII character, so Python's strip() keeps it
-- non-blank; anything else (missing, blank, numeric ids Python turns into strings) takes the Python path.
screened AS (
    SELECT *,
        releases IS NOT NULL AND len(list_filter(releases, lambda k: NOT coalesce(
            json_type(k.ocid) = 'VARCHAR' AND regexp_matches(k.ocid ->> '$', '[!-~]')
            AND json_type(k.id) = 'VARCHAR' AND regexp_matches(k.id ->> '$', '[!-~]'), false))) = 0 AS is_plain
    FROM parsed
),
unnested AS (
    SELECT file_order, source, landing_file, is_plain,
           unnest(CASE WHEN is_plain AND len(releases) > 0 THEN json_releases ELSE [NULL] END) AS release_json,
           unnest(CASE WHEN is_plain AND len(releases) > 0 THEN releases ELSE [NULL] END) AS r,
           unnest(CASE WHEN is_plain AND len(releases) > 0 THEN range(len(releases)) ELSE [NULL] END) AS position
    FROM screened
)
SELECT source, r.ocid ->> '$' AS ocid, r.id ->> '$' AS release_id, release_json, r, landing_file,
       file_order * 1000000000 + position AS batch_order, file_order, is_plain
FROM unnested
""".replace("{release}", _KEYED_RELEASE)
_SCREENED = """
SELECT file_order, bool_and(is_plain), count(release_json) FROM ocds_batch GROUP BY file_order ORDER BY file_order
"""

# Fields of the stored releases that raw.ocds_release_fields lacks, and fields of releases no longer
# stored: ensure_table runs these, so a release that reached the table by any other way than this
# module's inserts is still read by the models.
_ADD_MISSING_FIELDS = f"""
INSERT INTO raw.ocds_release_fields
SELECT source, ocid, release_id, release_date, loaded_at, {", ".join(f"r.{c}" for c in _FIELD_COLUMNS.split(", "))}
FROM (
    SELECT source, ocid, release_id, release_date, loaded_at, from_json(release_json, '{_RELEASE}') AS r
    FROM raw.ocds_releases AS s
    WHERE NOT EXISTS (
        SELECT 1 FROM raw.ocds_release_fields AS f
        WHERE f.source = s.source AND f.ocid = s.ocid AND f.release_id = s.release_id
    )
)
"""
_DROP_STALE_FIELDS = """
DELETE FROM raw.ocds_release_fields AS f
WHERE NOT EXISTS (
    SELECT 1 FROM raw.ocds_releases AS s
    WHERE f.source = s.source AND f.ocid = s.ocid AND f.release_id = s.release_id
)
"""


# The tables hold the same keys: equal counts and sums of key hashes (up to a 64-bit hash collision, which a
# key typed by hand would have to hit). Checked before every build: one scan of each table's key columns,
# 0.15 CPU-s at 1M releases, where the two joins above cost 1.4 CPU-s though they find nothing to do
# unless a release reached one table without the other.
_IN_STEP = """
SELECT (SELECT (count(*), sum(hash(source, ocid, release_id))) FROM raw.ocds_releases)
     = (SELECT (count(*), sum(hash(source, ocid, release_id))) FROM raw.ocds_release_fields)
"""


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


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    # A batch of packages writes more than DuckDB's default 16 MB of WAL, and each automatic checkpoint
    # rewrote the tables' open row groups: 90% of the time of the fields' insert (as for spend's loader).
    con.execute("SET checkpoint_threshold = '256MB'")
    con.execute(DDL)
    con.execute(FIELDS_DDL)


def sync_release_fields(con: duckdb.DuckDBPyConnection) -> None:
    """Bring raw.ocds_release_fields in step with raw.ocds_releases (one hash join each way), unless the
    two tables hold the same keys already."""
    if con.execute(_IN_STEP).fetchone()[0]:
        return
    con.execute(_ADD_MISSING_FIELDS)
    con.execute(_DROP_STALE_FIELDS)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if missing and bring the fields in step with the releases; the pipeline runs it
    before every dbt build."""
    _create_tables(con)
    sync_release_fields(con)


def _insert_new_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Write the new rows of ocds_batch to both raw tables. Outside a transaction a crash between the two
    inserts leaves fields missing, which the next ensure_table adds."""
    con.execute(_NEW_ROWS)
    con.execute(_INSERT_RELEASES)
    con.execute(_INSERT_FIELDS)
    (inserted,) = con.execute("SELECT count(*) FROM ocds_new").fetchone()
    con.execute("DROP TABLE ocds_new")
    return inserted


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
    _create_tables(con)
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
    con.execute(_FROM_PYTHON, {
        "source": source, "landing_file": landing_file, "page": json.dumps(list(keyed.values()), allow_nan=False),
    })
    inserted = _insert_new_rows(con)
    con.execute("DROP TABLE ocds_batch")
    return LoadCount(seen=seen, new=inserted, rejected=rejected)


def load_releases(con: duckdb.DuckDBPyConnection, packages: Sequence[LandedPackage]) -> LoadCount:
    """Load landed release package files: DuckDB reads the plain ones itself, Python the rest.

    Raises UnreadablePackage (after loading every readable file) when a file is not a release package.
    """
    from flows.sources.ocds import UnreadableResponse, decode_body, parse_package

    _create_tables(con)
    packages = list({p.path: p for p in packages}.values())
    if not packages:
        return LoadCount(0, 0, 0)
    con.execute(_READ_FILES, {
        "paths": [str(p.path) for p in packages],
        "sources": [p.source for p in packages],
        "landing_files": [p.landing_file for p in packages],
        "not_plain": list(_NOT_PLAIN_JSON),
    })
    screened = con.execute(_SCREENED).fetchall()
    if len(screened) != len(packages):
        raise FileNotFoundError(f"{len(packages) - len(screened)} landed package files could not be read")
    total = LoadCount(seen=sum(n for _, is_plain, n in screened if is_plain), new=0, rejected=0)
    if total.seen:
        total += LoadCount(0, _insert_new_rows(con), 0)
    con.execute("DROP TABLE ocds_batch")
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
