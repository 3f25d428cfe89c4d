"""raw.ocds_releases: every OCDS release ever harvested, once per (source, ocid, release id).

Services return a release again whenever its notice is edited, and overlapping windows return it
twice, so inserts ignore keys already present. Amendments and award updates are new releases with
the same ocid and are all kept; dbt compiles the latest state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

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
    loaded_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, ocid, release_id)
)
"""

# The whole page goes to DuckDB as one bound JSON parameter: one statement per page, and no value
# from a feed is ever spliced into SQL text.
_INSERT = """
INSERT INTO raw.ocds_releases (source, ocid, release_id, release_date, tags, release_json, landing_file)
SELECT
    $source,
    r ->> 'ocid',
    r ->> 'id',
    TRY_CAST(r ->> 'date' AS TIMESTAMPTZ),
    CASE WHEN json_type(r -> 'tag') = 'ARRAY' THEN from_json(r -> 'tag', '["VARCHAR"]') END,
    r,
    $landing_file
FROM (SELECT unnest(from_json($page::JSON, '["JSON"]')) AS r)
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class LoadCount:
    seen: int
    new: int
    rejected: int


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


def load_releases(
    con: duckdb.DuckDBPyConnection, source: str, releases: Iterable[Any], landing_file: str
) -> LoadCount:
    """Insert one page of releases; returns how many were seen, new, and rejected for lacking a key."""
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
        _INSERT,
        {"source": source, "landing_file": landing_file, "page": json.dumps(list(keyed.values()), allow_nan=False)},
    ).fetchone()
    return LoadCount(seen=seen, new=inserted, rejected=rejected)
