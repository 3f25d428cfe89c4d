"""Redacted payees stay redacted in what is published: the warehouse marts and their Parquet copies."""

from __future__ import annotations

import duckdb

from fault_world import MARTS

MARKER_PATTERN = r"(?i)\bredact(ed)?\b|personal (data|information)"


def test_redacted_payees_have_no_name_or_supplier_in_the_marts_or_parquet(world, baseline):
    with duckdb.connect(str(world.ingested / "work.duckdb"), read_only=True) as raw:
        redacted_raw = raw.execute("SELECT count(*) FROM raw.spend_payments WHERE is_redacted").fetchone()[0]
        assert raw.execute("SELECT count(*) FROM raw.spend_payments WHERE is_redacted "
                           "AND supplier_name IS NOT NULL").fetchone()[0] == 0
    assert redacted_raw > 0
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{baseline.warehouse}' AS wh (READ_ONLY)")
        for origin in ("warehouse", "parquet"):
            def table(mart: str) -> str:
                return (f"wh.marts.{mart}" if origin == "warehouse"
                        else f"read_parquet('{baseline.home / 'marts' / mart}.parquet')")

            redacted = con.execute(f"SELECT count(*), count(supplier_name), count(supplier_key) "
                                   f"FROM {table('fct_payments')} WHERE is_redacted").fetchone()
            assert redacted[0] > 0 and redacted[1:] == (0, 0), origin
            for mart in MARTS:
                # The council's own supplier reference stays in the working DB only: it is never published.
                columns = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {table(mart)}").fetchall()}
                assert "supplier_id" not in columns
                text_columns = [c for c in ("supplier_name", "supplier_key") if columns.get(c) == "VARCHAR"]
                for column in text_columns:
                    leaked = con.execute(f"SELECT count(*) FROM {table(mart)} "
                                         f"WHERE regexp_matches({column}, ?)", [MARKER_PATTERN]).fetchone()[0]
                    assert leaked == 0, f"{origin} {mart}.{column} shows a redaction marker as a name"
