"""Layout detection: title rows, synonyms, net-over-gross, XLSX (incl. '.csv' XLSX and merged two-row headers),
structure rows, unmappable files, and the shipped sample feeds."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from spend_helpers import write_registry

from flows.sample.make_spend_feeds import COUNCILS, generate
from flows.spend import ingest_feed, read_registry, record_publishers
from flows.spend.layout import LayoutError, load_synonyms
from flows.spend.rows import parse_file

SYNONYMS = load_synonyms()
REPO = Path(__file__).resolve().parents[2]


def parse_text(text: str, encoding: str = "utf-8"):
    return parse_file(text.encode(encoding), "test.csv", SYNONYMS)


def xlsx_bytes(rows: list[list], merges: list[str] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_header_found_below_title_rows():
    titles = "".join(f"Title line {i},,\n" for i in range(20))
    parsed = parse_text(titles + "Supplier Name,Date Paid,Amount\nAcme Ltd,01/04/2025,100.00\n")
    assert parsed.header_row == 21
    assert [(p.source_row, p.supplier_name) for p in parsed.payments] == [(22, "Acme Ltd")]


def test_header_more_than_twenty_title_rows_down_is_not_searched():
    titles = "".join(f"Title line {i}\n" for i in range(21))
    with pytest.raises(LayoutError, match="test.csv"):
        parse_text(titles + "Supplier Name,Date Paid,Amount\nAcme Ltd,01/04/2025,100.00\n")


@pytest.mark.parametrize(
    "header",
    ["Supplier(T),Pay Date,Amount SUM", "Benificiary Name,DatePaid,NetAmount", " SUPPLIER  NAME ,payment_date, Amount ",
     "Payee,Transaction Date,Total", "Supplier ID(T),Effective Date,Amount excl vat", '"Supplier\nName","Payment\nDate",Value'],
)
def test_header_synonyms_are_case_space_and_punctuation_insensitive(header):
    parsed = parse_text(header + "\nAcme Ltd,01/04/2025,100.00\n")
    assert [(p.supplier_name, p.payment_date, p.amount_gbp) for p in parsed.payments] == [
        ("Acme Ltd", date(2025, 4, 1), Decimal("100.00"))]


def test_net_amount_wins_over_gross_and_vat_is_ignored():
    parsed = parse_text("Gross Amount,VAT,Supplier Name,Net Amount,Payment Date\n120.00,20.00,Acme Ltd,100.00,2025-04-01\n")
    assert parsed.payments[0].amount_gbp == Decimal("100.00")


def test_payment_date_preferred_over_effective_date_whatever_the_column_order():
    parsed = parse_text("Effective Date,Payment Date,Supplier Name,Amount\n30/04/2025,03/04/2025,Acme Ltd,5\n")
    assert parsed.payments[0].payment_date == date(2025, 4, 3)


def test_description_falls_back_to_the_next_descriptive_column():
    parsed = parse_text("Supplier Name,Date,Amount,Expense Type,Account Description\nA,01/04/2025,5,,Stationery\n")
    assert parsed.payments[0].expense_description == "Stationery"


def test_structure_rows_are_skipped_and_counted():
    text = (
        "Supplier Name,Date,Amount,Expense Type\n"
        "Acme Ltd,01/04/2025,100.00,Paper\n"
        ",,,\n"
        "\n"
        "Supplier Name,Date,Amount,Expense Type\n"  # repeated header
        "Total Gas & Power Ltd,02/04/2025,50.00,Gas supply\n"  # a company, not a totals row
        "Acme Ltd,01/04/2025,100.00,Paper\n"  # identical line: a genuine repeat payment, kept
        "Total,,250.00,\n"
        ",,250.00,\n"  # a bare sum under the amount column
        ",Grand Total,250.00,\n"  # the label in the date column
    )
    parsed = parse_text(text)
    assert [p.supplier_name for p in parsed.payments] == ["Acme Ltd", "Total Gas & Power Ltd", "Acme Ltd"]
    assert (parsed.skipped_blank, parsed.skipped_header, parsed.skipped_total, len(parsed.rejects)) == (2, 1, 3, 0)
    assert parsed.rows_read == 9


def test_rejects_carry_reason_and_raw_row():
    text = (
        "Supplier Name,Date,Amount\n"
        "Acme Ltd,31/02/2025,100.00\n"
        "Acme Ltd,01/04/2025,ten pounds\n"
        ",01/04/2025,\n"
        "Acme Ltd,,100\n"
        "Acme Ltd,01/04/2025,\n"
        ",01/04/2025,7.00\n"  # no payee but a real amount: loaded with an unknown payee
    )
    parsed = parse_text(text)
    assert [(r.source_row, r.reason) for r in parsed.rejects] == [
        (2, "unparseable date '31/02/2025'"),
        (3, "unparseable amount 'ten pounds'"),
        (4, "missing supplier and amount"),
        (5, "missing date"),
        (6, "missing amount"),
    ]
    assert parsed.rejects[1].raw_row == '["Acme Ltd", "01/04/2025", "ten pounds"]'
    assert [(p.source_row, p.supplier_name, p.is_redacted) for p in parsed.payments] == [(7, None, False)]


def test_source_row_is_the_line_where_a_record_starts():
    parsed = parse_text('Supplier Name,Date,Amount,Description\nA,01/04/2025,1,"two\nlines"\nB,01/04/2025,2,x\n')
    assert [p.source_row for p in parsed.payments] == [2, 4]


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")])
def test_encodings(encoding, bom):
    text = "Supplier Name,Date,Amount,Description\nCafé Élan Catering Ltd,01/04/2025,£1.00,Naïve – test\n"
    parsed = parse_file(bom + text.encode(encoding), "x.csv", SYNONYMS)
    assert parsed.payments[0].supplier_name == "Café Élan Catering Ltd"
    assert parsed.payments[0].expense_description == "Naïve – test"
    assert parsed.payments[0].amount_gbp == Decimal("1.00")


def test_xlsx_with_merged_two_row_header_serials_and_float_noise():
    body = xlsx_bytes(
        [["Expenditure over £500"], [], ["Payment", None, "Supplier", None, "Amount", None, None],
         ["Date", "Reference", "Name", "ID", "Net", "VAT", "Gross"],
         [datetime(2025, 4, 3), "R1", "Acme Ltd", "S1", 7956.420000000001, 1591.28, 9547.70],
         [45758, "R2", "Redactive Events Ltd", "S2", 600, 120, 720],
         [None, None, None, None, None, None, None],
         [None, None, "Total", None, 8556.42, None, None]],
        merges=["A3:B3", "C3:D3", "E3:G3"],
    )
    parsed = parse_file(body, "wmca.xlsx", SYNONYMS)
    assert parsed.kind == "xlsx" and parsed.header_row == 4
    assert [(p.source_row, p.payment_date, p.amount_gbp, p.supplier_name, p.supplier_id, p.transaction_number)
            for p in parsed.payments] == [
        (5, date(2025, 4, 3), Decimal("7956.42"), "Acme Ltd", "S1", "R1"),
        (6, date(2025, 4, 11), Decimal("600.00"), "Redactive Events Ltd", "S2", "R2")]
    assert (parsed.skipped_blank, parsed.skipped_total) == (1, 1)


def test_csv_named_file_that_is_really_xlsx(con, settings, feed_dir):
    (feed_dir / "spend.csv").write_bytes(xlsx_bytes([["Supplier Name", "Date", "Amount"], ["Acme Ltd", "01/04/2025", 5]]))
    [feed] = write_registry(feed_dir, [("council", "spend.csv")])
    result = ingest_feed(con, settings, feed)
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    assert result.source_file.endswith(".xlsx")
    assert con.execute("SELECT file_kind FROM ops.spend_files").fetchone()[0] == "xlsx"


def test_damaged_xlsx_and_legacy_xls_are_rejected_whole():
    with pytest.raises(LayoutError, match="bad.xlsx: XLSX cannot be opened"):
        parse_file(b"PK\x03\x04 not really a zip", "bad.xlsx", SYNONYMS)
    with pytest.raises(LayoutError, match="old.xls: legacy Excel"):
        parse_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", SYNONYMS)


def test_unmappable_layout_rejected_whole_while_other_files_load(con, settings, feed_dir):
    (feed_dir / "good.csv").write_text("Supplier Name,Date,Amount\nAcme Ltd,01/04/2025,5\n")
    (feed_dir / "odd.csv").write_text("Who,When,Amount\nAcme Ltd,01/04/2025,5\n")
    feeds = write_registry(feed_dir, [("good", "good.csv"), ("odd", "odd.csv")])
    results = {feed.publisher_id: ingest_feed(con, settings, feed) for feed in feeds}
    assert results["good"].status == "loaded" and results["good"].rows_loaded == 1
    odd = results["odd"]
    assert odd.status == "rejected" and odd.rows_read == 0
    assert odd.message.startswith("odd.csv: cannot map the layout; no column found for supplier name, payment date")
    assert "'Who', 'When', 'Amount'" in odd.message
    assert con.execute("SELECT publisher_id, count(*) FROM raw.spend_payments GROUP BY ALL").fetchall() == [("good", 1)]
    assert con.execute("SELECT message FROM ops.spend_files WHERE publisher_id = 'odd'").fetchone()[0] == odd.message


def test_users_extend_synonyms_without_code(con, settings, feed_dir, tmp_path):
    (feed_dir / "odd.csv").write_text("Who,When,Amount\nAcme Ltd,01/04/2025,5\n")
    [feed] = write_registry(feed_dir, [("odd", "odd.csv")])
    assert ingest_feed(con, settings, feed).status == "rejected"
    seed = tmp_path / "synonyms.csv"
    seed.write_text((REPO / "seeds" / "spend_header_synonyms.csv").read_text() + "supplier_name,WHO\npayment_date,when\n")
    # The same unchanged file is read again after a rejection, so the new synonyms apply without a new version.
    result = ingest_feed(con, settings, feed, synonyms=load_synonyms(seed))
    assert (result.status, result.rows_loaded) == ("loaded", 1)


def test_synonyms_seed_rejects_unknown_fields(tmp_path):
    seed = tmp_path / "bad.csv"
    seed.write_text("canonical_field,header\nsuplier_name,Payee\n")
    with pytest.raises(ValueError, match="line 2: unknown canonical_field 'suplier_name'"):
        load_synonyms(seed)


def test_shipped_sample_feeds_are_what_the_generator_writes(tmp_path):
    for council, path in generate(tmp_path):
        shipped = REPO / "flows" / "sample" / "feeds" / "spend" / path.name
        assert shipped.read_bytes() == path.read_bytes(), f"re-run python -m flows.sample.make_spend_feeds ({path.name})"
    assert {c.publisher_id for c in COUNCILS} == {
        "birmingham", "coventry", "dudley", "sandwell", "solihull", "walsall", "wolverhampton", "wmca"}


def test_default_registry_loads_every_sample_feed_cleanly(con, settings):
    feeds = read_registry(REPO / "seeds" / "spend_feeds.csv")
    record_publishers(con, feeds)
    results = [ingest_feed(con, settings, feed) for feed in feeds]
    assert all(r.status == "loaded" and r.rows_rejected == 0 for r in results), results
    by_publisher = dict(con.execute(
        "SELECT publisher_id, count(*) FROM raw.spend_payments GROUP BY ALL").fetchall())
    assert set(by_publisher) == {"birmingham", "coventry", "dudley", "sandwell", "solihull", "walsall",
                                 "wolverhampton", "wmca"}
    assert min(by_publisher.values()) > 250
    span = con.execute("SELECT min(payment_date), max(payment_date) FROM raw.spend_payments").fetchone()
    assert span == (date(2025, 4, 1), date(2025, 9, 30))
    assert con.execute("SELECT count(*) FILTER (is_redacted), count(*) FILTER (amount_gbp < 0), "
                       "count(*) FILTER (supplier_name = 'Redactive Events Ltd') FROM raw.spend_payments"
                       ).fetchone() >= (40, 40, 1)
    # Sandwell republishes July in its August-September file: the same lines appear in two files.
    republished = con.execute(
        """SELECT count(*) FROM (
             SELECT transaction_number, payment_date, amount_gbp, supplier_name FROM raw.spend_payments
             WHERE publisher_id = 'sandwell' GROUP BY ALL HAVING count(DISTINCT source_file) = 2)"""
    ).fetchone()[0]
    assert republished > 20
    kinds = dict(con.execute("SELECT publisher_id, string_agg(DISTINCT file_kind) FROM ops.spend_files GROUP BY ALL").fetchall())
    assert kinds["wmca"] == "xlsx"
    # Layout features the samples imitate: titles above Wolverhampton's header, Walsall's totals row.
    assert con.execute("SELECT DISTINCT header_row FROM ops.spend_files WHERE publisher_id = 'wolverhampton'").fetchall() == [(4,)]
    assert con.execute("SELECT sum(skipped_total) FROM ops.spend_files WHERE publisher_id = 'walsall'").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM raw.spend_payments WHERE company_number = '04103211'").fetchone()[0] >= 1


def test_xlsx_data_on_a_later_sheet_than_the_notes():
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["This workbook lists payments over £500."])
    data = workbook.create_sheet("Payments")
    data.append(["Beneficiary", "Pay Date", "Amount"])
    data.append(["Acme Ltd", date(2025, 4, 3), 12.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_file(buffer.getvalue(), "two-sheets.xlsx", SYNONYMS)
    assert parsed.sheet == "Payments"
    assert [(p.source_row, p.supplier_name, p.amount_gbp) for p in parsed.payments] == [(2, "Acme Ltd", Decimal("12.50"))]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_separated_files(delimiter):
    text = delimiter.join(["Supplier Name", "Date", "Amount"]) + "\n" + delimiter.join(["Acme, Ltd", "01/04/2025", "1,500.00"])
    parsed = parse_text(text + "\n")
    assert [(p.supplier_name, p.amount_gbp) for p in parsed.payments] == [("Acme, Ltd", Decimal("1500.00"))]
