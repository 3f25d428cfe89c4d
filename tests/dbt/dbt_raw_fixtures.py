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


# Hand-made council payments used with the eight real Contracts Finder releases: payees written the way
# councils write them, matching (or not) the suppliers of those notices.
WMCA = {
    "birmingham": ("Birmingham City Council", "E08000025"),
    "coventry": ("Coventry City Council", "E08000026"),
    "dudley": ("Dudley Metropolitan Borough Council", "E08000027"),
    "sandwell": ("Sandwell Metropolitan Borough Council", "E08000028"),
    "solihull": ("Solihull Metropolitan Borough Council", "E08000029"),
    "walsall": ("Walsall Council", "E08000030"),
    "wolverhampton": ("City of Wolverhampton Council", "E08000031"),
}
FIRST = "landing/local_spend/birmingham/2025-04.csv"
REPUBLISHED = "landing/local_spend/birmingham/2025-04-and-05.csv"
OTHERS = "landing/local_spend/{}/2025-06.csv"
EARLY, LATE = "2026-01-01 00:00:00+00", "2026-02-01 00:00:00+00"


def hand_made_payments() -> list[dict]:
    d = date
    return [
        # Birmingham's April file.
        payment("birmingham", FIRST, 2, d(2025, 4, 3), "1000.00", "Hennessy Flooring Limited", transaction_number="T100",
                description="Floor repairs", loaded_at=EARLY),
        payment("birmingham", FIRST, 3, d(2025, 4, 3), "500.00", "Zuhlke Engineering Ltd", transaction_number="T101",
                company_number="04103211", loaded_at=EARLY),
        payment("birmingham", FIRST, 4, d(2025, 4, 4), "250.00", None, transaction_number="T102",
                description="Heat pump servicing", loaded_at=EARLY),
        payment("birmingham", FIRST, 5, d(2025, 4, 5), "-100.00", "Local Builders Ltd", transaction_number="T103",
                postcode="CV1 2GN", loaded_at=EARLY),
        payment("birmingham", FIRST, 6, d(2025, 4, 5), "-100.00", "Local Builders Ltd", transaction_number="T103",
                postcode="CV1 2GN", loaded_at=EARLY),
        # The same lines republished in a later file, plus one new May line without a transaction number.
        payment("birmingham", REPUBLISHED, 2, d(2025, 4, 3), "1000.00", "HENNESSY FLOORING LTD",
                transaction_number="T100", description="Floor repairs", loaded_at=LATE),
        payment("birmingham", REPUBLISHED, 3, d(2025, 4, 5), "-100.00", "Local Builders Limited",
                transaction_number="T103", postcode="CV1 2GN", loaded_at=LATE),
        payment("birmingham", REPUBLISHED, 4, d(2025, 4, 5), "-100.00", "Local Builders Ltd", transaction_number="T103",
                postcode="CV1 2GN", loaded_at=LATE),
        payment("birmingham", REPUBLISHED, 5, d(2025, 5, 2), "80.00", "Acme Recycling Ltd",
                description="Recycling credits", company_number="SC123456", loaded_at=LATE),
        # One line for each other WMCA council.
        payment("coventry", OTHERS.format("coventry"), 2, d(2025, 6, 1), "300.00", "Aker Systems Limited",
                transaction_number="C1"),
        payment("dudley", OTHERS.format("dudley"), 2, d(2025, 6, 1), "400.00", "McManus Flooring", transaction_number="D1"),
        payment("sandwell", OTHERS.format("sandwell"), 2, d(2025, 6, 1), "500.00", "LGM Ltd", transaction_number="S1"),
        payment("solihull", OTHERS.format("solihull"), 2, d(2025, 6, 1), "600.00", "Mystery Supplier",
                transaction_number="SO1", description="Electric vehicle lease"),
        payment("walsall", OTHERS.format("walsall"), 2, d(2025, 6, 1), "700.00", "Landmark International School",
                transaction_number="W1"),
        payment("wolverhampton", OTHERS.format("wolverhampton"), 2, d(2025, 6, 1), "800.00", "The Hennessy Flooring Ltd.",
                transaction_number="WO1"),
    ]
