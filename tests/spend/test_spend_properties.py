"""Property tests: whatever bytes arrive, the loader never crashes and every row read is accounted for."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from flows.config import load_settings
from flows.spend import ingest_feed
from flows.spend.layout import LayoutError, load_synonyms
from flows.spend.load import ensure_tables
from flows.spend.registry import Feed
from flows.spend.rows import parse_file

SYNONYMS = load_synonyms()
_counter = itertools.count()
PROPERTY_SETTINGS = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spend-properties")


def ingest_bytes(home: Path, body: bytes):
    """Ingest `body` as a local feed into a fresh in-memory database; return (result, connection)."""
    feeds = home / "feeds"
    feeds.mkdir(exist_ok=True)
    path = feeds / f"file{next(_counter)}.csv"
    path.write_bytes(body)
    feed = Feed("council", "Council", "E08000025", str(path), "", 2, path, (feeds,))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE SCHEMA ops")
    ensure_tables(con)
    result = ingest_feed(con, load_settings({"PROCUREMENT_HOME": str(home / "home")}), feed, synonyms=SYNONYMS)
    return result, con


def assert_reconciles(result, con) -> None:
    assert result.status in ("loaded", "rejected")
    assert result.rows_read == result.rows_loaded + result.rows_rejected + result.rows_skipped
    payments, rejects = con.execute(
        "SELECT (SELECT count(*) FROM raw.spend_payments), (SELECT count(*) FROM raw.spend_rejects)").fetchone()
    assert (payments, rejects) == (result.rows_loaded, result.rows_rejected)
    ledger = con.execute(
        "SELECT rows_read, rows_loaded + rows_rejected + skipped_blank + skipped_total + skipped_header "
        "FROM ops.spend_files").fetchall()
    assert ledger == [(result.rows_read, result.rows_read)]
    if result.status == "rejected":
        assert result.message and result.rows_read == 0


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=2000))
def test_random_bytes_never_crash_and_reconcile(home, body):
    assert_reconciles(*ingest_bytes(home, body))


HEADER = ["Supplier Name", "Payment Date", "Amount", "Expense Type"]
junk_cells = st.one_of(
    st.sampled_from(["", " ", "Acme Ltd", "REDACTED", "01/04/2025", "2025-13-45", "£1,200.00", "(640.00)", "abc",
                     "Total", "7956.420000000001", "45758", "-", "N/A", '"', ",", "\n", "Redactive Events Ltd"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)


def _not_a_header_word(cell: str) -> bool:
    return SYNONYMS.lookup(cell) is None


ragged_rows = st.lists(st.lists(junk_cells.filter(_not_a_header_word), max_size=7), max_size=40)


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@PROPERTY_SETTINGS
@given(rows=ragged_rows, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_ragged_rows_every_record_accounted_for(home, rows, encoding):
    body = csv_text([HEADER] + rows).encode(encoding)
    result, con = ingest_bytes(home, body)
    assert_reconciles(result, con)
    assert result.status == "loaded"
    assert result.rows_read == len(rows)
    reasons = [r[0] for r in con.execute("SELECT reason FROM raw.spend_rejects").fetchall()]
    assert all(reason for reason in reasons)


payee = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs"), max_codepoint=0xFF), min_size=1, max_size=20
).map(str.strip).filter(lambda s: s and not s.isdigit())
payment = st.tuples(payee, st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31)),
                    st.integers(min_value=-10**8, max_value=10**8).map(lambda p: Decimal(p).scaleb(-2)))
SPELLINGS = {
    "supplier_name": ["Supplier Name", "SupplierName", "BENEFICIARY", "Supplier(T)", "Payee", "benificiary name"],
    "payment_date": ["Payment Date", "Date Paid", "DatePaid", "pay date", "Date"],
    "amount": ["Amount", " Amount ", "Net Amount", "NetAmount", "Amount SUM", "amount excl vat"],
}


@PROPERTY_SETTINGS
@given(payments=st.lists(payment, min_size=1, max_size=15), order=st.permutations(list(SPELLINGS)),
       data=st.data(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_random_header_orders_spellings_and_encodings_give_the_same_payments(payments, order, data, encoding):
    names = [data.draw(st.sampled_from(SPELLINGS[field])) for field in order]
    rows = []
    for name, day, amount in payments:
        cell = {"supplier_name": name, "payment_date": day.strftime("%d/%m/%Y"), "amount": f"{amount:,.2f}"}
        rows.append([cell[field] for field in order])
    try:
        body = csv_text([names] + rows).encode(encoding)
    except UnicodeEncodeError:
        return  # a name this encoding cannot hold; councils using it cannot publish it either
    parsed = parse_file(body, "random.csv", SYNONYMS)
    got = [(p.supplier_name, p.payment_date, p.amount_gbp) for p in parsed.payments]
    redacted = [p.is_redacted for p in parsed.payments]
    expected = [(None if r else name, day, amount) for (name, day, amount), r in zip(payments, redacted)]
    assert got == expected
    assert parsed.rows_read == len(payments)


@PROPERTY_SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_is_parsed_or_rejected_whole(text):
    try:
        parsed = parse_file(text.encode("utf-8"), "text.csv", SYNONYMS)
    except LayoutError as exc:
        assert str(exc).startswith("text.csv: ")
    else:
        assert parsed.rows_read == len(parsed.payments) + len(parsed.rejects) + parsed.rows_skipped
