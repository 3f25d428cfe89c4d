"""The bulk CSV path (flows/spend/fast.py) ends every line where the row-by-row Python path does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from spend_helpers import FIXTURES, write_registry

from flows.spend import fast, ingest_feed
from flows.spend.layout import load_synonyms
from flows.spend.rows import parse_file
from flows.spend.values import parse_amount, parse_date

SYNONYMS = load_synonyms()
SAMPLE_SPEND = Path(fast.__file__).resolve().parents[1] / "sample" / "feeds" / "spend"
CSV_FILES = sorted(FIXTURES.glob("*_first200.csv")) + sorted(SAMPLE_SPEND.glob("*.csv"))
COLUMNS = ("source_row", "payment_date", "amount_gbp", "supplier_name", "is_redacted", "supplier_id",
           "transaction_number", "expense_description", "expense_area", "company_number", "vat_number",
           "supplier_postcode")


@pytest.fixture
def bulk_always(monkeypatch):
    monkeypatch.setattr(fast, "MIN_BULK_BYTES", 0)


def _payment_tuples(payments) -> list[tuple]:
    return sorted(tuple(getattr(p, name) for name in COLUMNS) for p in payments)


def _bulk_result(body: bytes):
    con = duckdb.connect()
    bulk = fast.stage_bulk(con, body, SYNONYMS)
    staged = [] if bulk is None else con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {fast.STAGED_TABLE} WHERE bulk").fetchall()
    con.close()
    return bulk, staged


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda p: p.name)
def test_bulk_path_matches_python_on_real_and_sample_files(path, bulk_always):
    body = path.read_bytes()
    python = parse_file(body, path.name, SYNONYMS)
    bulk, staged = _bulk_result(body)
    if bulk is None:
        pytest.skip("declined by the bulk path (it falls back to Python)")
    both = sorted([tuple(row) for row in staged] + _payment_tuples(bulk.parsed.payments))
    assert both == _payment_tuples(python.payments)
    assert [(r.source_row, r.reason, r.raw_row) for r in bulk.parsed.rejects] == \
        [(r.source_row, r.reason, r.raw_row) for r in python.rejects]
    assert (bulk.parsed.skipped_blank, bulk.parsed.skipped_total, bulk.parsed.skipped_header,
            bulk.parsed.header_row, bulk.parsed.encoding) == \
        (python.skipped_blank, python.skipped_total, python.skipped_header, python.header_row, python.encoding)


def test_most_sample_files_take_the_bulk_path(bulk_always):
    taken = sum(_bulk_result(path.read_bytes())[0] is not None for path in CSV_FILES)
    assert taken >= len(CSV_FILES) - 4


def _sql_values(texts: list[str], expression: str) -> list:
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {expression} FROM (SELECT unnest($texts) AS t, generate_subscripts($texts, 1) AS i) ORDER BY i",
        {"texts": texts, "ws": fast._WHITESPACE},
    ).fetchall()
    con.close()
    return [row[0] for row in rows]


date_texts = st.one_of(
    st.dates(date(1900, 1, 1), date(2150, 12, 31)).flatmap(lambda d: st.sampled_from([
        d.strftime("%d/%m/%Y"), d.strftime("%-d/%-m/%Y"), d.isoformat(), d.strftime("%Y%m%d"),
        d.strftime("%d-%b-%Y"), d.strftime("%d-%b-%y").upper(), d.strftime("%d.%m.%y"), d.strftime("%d/%m/%y"),
        d.strftime("%Y-%m-%d 00:00:00"), d.strftime("%d-%m-%Y"), d.strftime("%d %B %Y"),
    ])),
    st.text(alphabet="0123456789/-.: TZadeJnFbAPRSpu", max_size=20),
)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(date_texts, min_size=1, max_size=40))
def test_sql_dates_are_python_dates_or_left_to_python(texts):
    sql = _sql_values(texts, fast._date_sql(fast._ct("t", True)))
    for text, value in zip(texts, sql):
        if value is not None:
            assert value == parse_date(text), text


amount_texts = st.one_of(
    st.decimals(min_value=-10**16, max_value=10**16, places=3, allow_nan=False).flatmap(lambda d: st.sampled_from([
        f"{d}", f"{d:,}", f"£{d:,}", f"({abs(d):,})", f" {d} ", f"-£{abs(d)}", f"£-{abs(d)}", f"{d}\u00a0",
    ])),
    st.text(alphabet="0123456789,.-£() GBP\u00a0", max_size=16),
)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(amount_texts, min_size=1, max_size=40))
def test_sql_amounts_are_python_amounts_or_left_to_python(texts):
    sql = _sql_values(texts, fast._amount_sql(fast._ct("t", True)))
    for text, value in zip(texts, sql):
        if value is not None:
            assert value == parse_amount(text), text


def test_large_file_is_loaded_in_bulk_and_reconciles(con, settings, feed_dir):
    """A file big enough for the bulk path, with lines only Python can read mixed in."""
    lines = ["Date,Supplier Name,Amount,Expense Type,Transaction Number,Company Number"]
    for n in range(4000):
        lines.append(f"{(n % 28) + 1:02d}/03/2025,Acme Widgets Ltd,\"{n},123.45\",Stationery,T{n},{n % 900 + 1}")
        if n % 500 == 0:
            lines += [f"31/02/2025,Bad Date Ltd,10.00,Misc,B{n},",  # reject: no such day
                      f"05/03/2025,Café Élan Ltd,£1.50,Catering,C{n},",  # accented payee: Python's regexes
                      f"06/03/2025,REDACTED PERSONAL DATA,(640.00),Care,R{n},",
                      f"2025-03-07T10:00:00+01:00,Tabbed\tName Ltd ,12.00,Misc,D{n},"]
    lines += [",,,,,", ",Total,123.00,,,"]
    path = feed_dir / "big.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    assert _bulk_result(path.read_bytes())[0] is not None
    (feed,) = write_registry(feed_dir, [("bigcouncil", "big.csv")])
    result = ingest_feed(con, settings, feed, synonyms=SYNONYMS)
    python = parse_file(path.read_bytes(), "big.csv", SYNONYMS)

    assert result.status == "loaded"
    assert result.rows_read == len(lines) - 1 == result.rows_loaded + result.rows_rejected + result.rows_skipped
    assert (result.rows_loaded, result.rows_rejected, result.rows_skipped) == \
        (len(python.payments), len(python.rejects), python.rows_skipped)
    loaded = con.execute(f"SELECT {', '.join(COLUMNS)} FROM raw.spend_payments").fetchall()
    assert sorted(tuple(row) for row in loaded) == _payment_tuples(python.payments)
    assert con.execute("SELECT count(*) FROM raw.spend_rejects").fetchone()[0] == len(python.rejects)
    assert con.execute("SELECT amount_gbp FROM raw.spend_payments WHERE transaction_number = 'R0'").fetchone()[0] \
        == Decimal("-640.00")
