"""Every real council file in tests/fixtures/local_spend loads with the right rows, dates, amounts, redactions.

Expected values were read from the files by eye (first and last data lines; redaction counts with grep on
the payee column). The `_first200` files are 200 lines: one header (or three lines of titles + header for
Warwickshire 2010) and the rest payments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from spend_helpers import FIXTURES, copy_fixture, write_registry

from flows.spend import ingest_feed
from flows.spend.layout import load_synonyms
from flows.spend.rows import parse_file

SYNONYMS = load_synonyms()

# file, rows loaded, header line, redacted payees,
# (first source_row, date, amount, payee), (last source_row, date, amount, payee)
CASES = [
    ("leeds_raw_2010-12_first200.csv", 199, 1, 0,
     (2, date(2010, 12, 24), "1616.23", "A & A ELECTRICAL DISTRIBUTORS LTD"),
     (200, date(2010, 12, 9), "560.80", "Affinity Trust North Divisional Office")),
    ("leeds_raw_2013-02_first200.csv", 199, 1, 13,  # 12 'REDACTED PERSONAL DATA' + 1 'REDACTED COMMERCIAL CONFIDENTIALITY'
     (2, date(2013, 2, 19), "1000.00", None),
     (200, date(2013, 2, 28), "23010.24", "Affinity Trust")),
    ("leeds_raw_2020-06_first200.csv", 199, 1, 31,  # 30 personal + 1 commercial confidentiality
     (2, date(2020, 6, 24), "5400.00", "A & V TRANSITIONAL HOMES"),  # Payment Date, not Effective Date 30/06
     (200, date(2020, 6, 10), "1434.86", "Access Hire Nationwide Ltd")),
    ("devon_DCCSpendingOver500_201202_first200.csv", 199, 1, 7,
     (2, date(2012, 2, 1), "448.00", "A & L TAXIS"),
     (200, date(2012, 2, 1), "1916.60", "R M EDUCATION PLC")),
    ("devon_DCCSpendingOver500_201905_first200.csv", 199, 1, 1,  # 195 lines say REDACTED, all but one in Invoice Number
     (2, date(2019, 5, 1), "676.00", "MAN WITH A VAN SERVICES"),
     (200, date(2019, 5, 1), "549.44", "EMPOWERING LIVES LIMITED")),
    ("devon_DCCSpendingOver500_202603_first200.csv", 199, 1, 0,
     (2, date(2026, 3, 2), "519.89", "TRIP COMMUNITY TRANSPORT ASSOCIATION"),
     (200, date(2026, 3, 3), "13131.97", "M Group Highways Limited")),
    ("warwickshire_all-december-2010_first200.csv", 197, 3, 0,
     (4, date(2010, 12, 20), "2310.00", "007 STRATFORD TAXIS LIMITED"),
     (200, date(2010, 12, 13), "1975.14", "ALLIED HEALTHCARE GROUP LTD")),
    ("warwickshire_all-april-2015_first200.csv", 199, 1, 0,
     (2, date(2015, 4, 21), "1566.00", "3P Learning Ltd"),
     (200, date(2015, 4, 10), "1081.79", "Atkins Ltd  t/a Faithful Gould")),
    ("warwickshire_all-february-2022_first200.csv", 199, 1, 0,
     (2, date(2022, 2, 25), "14294.40", "31ten Consulting Ltd"),
     (200, date(2022, 2, 11), "2671.53", "Airwave Solutions Ltd")),
    ("nwod_gmca_bolton_2019_enriched_first200.csv", 199, 1, 13,
     (2, date(2019, 1, 3), "500.00", "Best Asian Media Ltd"),
     (200, date(2019, 1, 7), "657.07", "APETITO LTD")),
]


@pytest.mark.parametrize("name, loaded, header_line, redacted, first, last", CASES, ids=[c[0] for c in CASES])
def test_real_file_loads(name, loaded, header_line, redacted, first, last, con, settings, feed_dir):
    copy_fixture(name, feed_dir)
    [feed] = write_registry(feed_dir, [("council", name)])
    result = ingest_feed(con, settings, feed)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_skipped) == (
        "loaded", loaded, loaded, 0, 0)
    assert con.execute("SELECT header_row FROM ops.spend_files").fetchone()[0] == header_line
    rows = con.execute(
        "SELECT source_row, payment_date, amount_gbp, supplier_name FROM raw.spend_payments ORDER BY source_row"
    ).fetchall()
    assert len(rows) == loaded
    for expected, got in ((first, rows[0]), (last, rows[-1])):
        assert got == (expected[0], expected[1], Decimal(expected[2]), expected[3])
    n_redacted, n_null_names = con.execute(
        "SELECT count(*) FILTER (is_redacted), count(*) FILTER (supplier_name IS NULL) FROM raw.spend_payments"
    ).fetchone()
    assert n_redacted == n_null_names == redacted
    source_file, sha = con.execute("SELECT DISTINCT source_file, file_sha256 FROM raw.spend_payments").fetchone()
    landed = settings.home / source_file
    assert landed.read_bytes() == (FIXTURES / name).read_bytes()  # landed exactly as received
    assert sha == result.file_sha256


def test_devon_vat_numbers_and_redacted_payee_row(con, settings, feed_dir):
    name = "devon_DCCSpendingOver500_201202_first200.csv"
    copy_fixture(name, feed_dir)
    [feed] = write_registry(feed_dir, [("devon", name)])
    ingest_feed(con, settings, feed)
    assert con.execute(
        "SELECT supplier_id, vat_number, transaction_number, expense_area, expense_description "
        "FROM raw.spend_payments WHERE source_row = 2"
    ).fetchone() == ("264303", "122034865", "FINNDAD20229663", "Adult & Community Services",
                     "Pub Trans Development & Contributions (3")
    # 'REDACTED UNDER DP ACT' in the Invoice Number column does not redact the payee
    assert con.execute("SELECT supplier_name, is_redacted FROM raw.spend_payments WHERE source_row = 5").fetchone() == (
        "AGENCY ASSISTANCE", False)


def test_negative_amounts_are_kept(con, settings, feed_dir):
    for name in ("warwickshire_all-april-2015_first200.csv", "devon_DCCSpendingOver500_201905_first200.csv"):
        copy_fixture(name, feed_dir)
    feeds = write_registry(feed_dir, [("warwickshire", "warwickshire_all-april-2015_first200.csv"),
                                      ("devon", "devon_DCCSpendingOver500_201905_first200.csv")])
    for feed in feeds:
        ingest_feed(con, settings, feed)
    got = con.execute(
        "SELECT publisher_id, source_row, amount_gbp, supplier_name, is_redacted FROM raw.spend_payments "
        "WHERE (publisher_id = 'warwickshire' AND source_row = 42) OR (publisher_id = 'devon' AND source_row = 7) "
        "ORDER BY publisher_id"
    ).fetchall()
    assert got == [("devon", 7, Decimal("-959.84"), "THE WHEEL HOUSE", False),
                   ("warwickshire", 42, Decimal("-1948.52"), "Action For Children (****6746)", False)]


def test_leeds_2020_irrecoverable_vat_is_not_the_amount():
    parsed = parse_file((FIXTURES / "leeds_raw_2020-06_first200.csv").read_bytes(), "leeds", SYNONYMS)
    # Every line has 'Irrecoverable VAT Amount' 0.00 and the real amount after it.
    assert all(p.amount_gbp != 0 for p in parsed.payments)
    assert parsed.payments[0].expense_area == "Services For Older People Under 65 P/Dis"
    assert parsed.payments[0].transaction_number == "2006-00001"


def test_bolton_company_numbers_and_marker_variants():
    parsed = parse_file((FIXTURES / "nwod_gmca_bolton_2019_enriched_first200.csv").read_bytes(), "bolton", SYNONYMS)
    first = parsed.payments[0]
    assert (first.company_number, first.amount_gbp) == ("04166647", Decimal("500.00"))
    assert sum(p.company_number is not None for p in parsed.payments) == sum(
        1 for line in (FIXTURES / "nwod_gmca_bolton_2019_enriched_first200.csv").read_text().splitlines()[1:]
        if line.split(",")[9].strip()
    )


@pytest.mark.parametrize(
    "first200, last5, payments, blank",
    [("warwickshire_all-december-2010_first200.csv", "warwickshire_all-december-2010_last5.csv", 197 + 4, 1),
     ("warwickshire_all-april-2015_first200.csv", "warwickshire_all-april-2015_last5.csv", 199, 5)],
)
def test_warwickshire_head_and_tail_of_one_file(first200, last5, payments, blank):
    """The head and the tail slices joined: trailing all-comma rows are skipped as blank, never rejected."""
    body = (FIXTURES / first200).read_bytes() + (FIXTURES / last5).read_bytes()
    parsed = parse_file(body, first200, SYNONYMS)
    assert (len(parsed.payments), len(parsed.rejects), parsed.skipped_blank) == (payments, 0, blank)
    assert parsed.rows_read == payments + blank
    if "december" in first200:
        assert parsed.payments[-1].supplier_name == "YOUTH JUSTICE BOARD"
        assert parsed.payments[-1].amount_gbp == Decimal("4066.00")
        assert parsed.encoding == "cp1252"


def test_tail_slice_alone_is_rejected_whole(con, settings, feed_dir):
    copy_fixture("warwickshire_all-april-2015_last5.csv", feed_dir)
    [feed] = write_registry(feed_dir, [("warwickshire", "warwickshire_all-april-2015_last5.csv")])
    result = ingest_feed(con, settings, feed)
    assert result.status == "rejected"
    assert "warwickshire_all-april-2015_last5.csv" in result.message
    assert "supplier name, amount, payment date" in result.message
