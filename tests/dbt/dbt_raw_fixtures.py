"""Helpers for the dbt tests: raw tables filled with plain DuckDB inserts (the loaders have their own
tests), so that these tests exercise only the models."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from flows.config import load_settings
from flows.database import working_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CONTRACTS_FINDER = FIXTURES / "contracts_finder"


def make_settings(home: Path):
    return load_settings({"PROCUREMENT_HOME": str(home)})


def insert_releases(con, source: str, releases: list[dict], landing_file: str) -> None:
    for release in releases:
        con.execute(
            "INSERT INTO raw.ocds_releases (source, ocid, release_id, release_date, tags, release_json, landing_file) "
            "VALUES (?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, CAST(? AS JSON), ?)",
            [source, release["ocid"], str(release["id"]), release.get("date"), release.get("tag"),
             json.dumps(release), landing_file],
        )


def contracts_finder_releases() -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(CONTRACTS_FINDER.glob("*.json"))]


PAYMENT_COLUMNS = (
    "publisher_id", "source_file", "source_row", "file_sha256", "payment_date", "amount_gbp", "supplier_name",
    "is_redacted", "supplier_id", "transaction_number", "expense_description", "expense_area", "company_number",
    "vat_number", "supplier_postcode", "loaded_at",
)


def payment(publisher_id: str, source_file: str, source_row: int, payment_date: date, amount: str,
            supplier_name: str | None, *, transaction_number: str | None = None, description: str | None = None,
            company_number: str | None = None, vat_number: str | None = None, postcode: str | None = None,
            loaded_at: str = "2026-01-01 00:00:00+00") -> dict:
    return {
        "publisher_id": publisher_id, "source_file": source_file, "source_row": source_row,
        "file_sha256": f"sha-{source_file}", "payment_date": payment_date, "amount_gbp": Decimal(amount),
        "supplier_name": supplier_name, "is_redacted": supplier_name is None, "supplier_id": None,
        "transaction_number": transaction_number, "expense_description": description, "expense_area": None,
        "company_number": company_number, "vat_number": vat_number, "supplier_postcode": postcode,
        "loaded_at": loaded_at,
    }


def insert_payments(con, rows: list[dict]) -> None:
    placeholders = ", ".join("?" for _ in PAYMENT_COLUMNS)
    con.executemany(
        f"INSERT INTO raw.spend_payments ({', '.join(PAYMENT_COLUMNS)}) VALUES ({placeholders})",
        [[r[c] for c in PAYMENT_COLUMNS] for r in rows],
    )


def insert_publishers(con, rows: list[tuple[str, str, str]]) -> None:
    con.executemany(
        "INSERT INTO raw.spend_publishers (publisher_id, publisher_name, lad_code, url, format) VALUES (?, ?, ?, ?, ?)",
        [[pid, name, lad, f"http://127.0.0.1/{pid}/{i}.csv", "csv"] for i, (pid, name, lad) in enumerate(rows)],
    )


def query(settings, sql: str, params: list | None = None) -> list[tuple]:
    with working_db(settings) as con:
        return con.execute(sql, params or []).fetchall()


def load_raw(settings, fill) -> None:
    with working_db(settings) as con:
        fill(con)
