"""read_xlsx_calamine reads a workbook exactly as openpyxl does, or declines it (openpyxl reads it then)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import example, given, settings as hypothesis_settings, strategies as st
from spend_helpers import FIXTURES

from flows.spend.layout import _serial_out_of_range, read_xlsx_calamine, read_xlsx_openpyxl
from flows.spend.registry import SAMPLE_FEEDS_DIR

XLSX_FILES = sorted(SAMPLE_FEEDS_DIR.glob("spend/*.xlsx")) + sorted(FIXTURES.glob("*.xlsx"))


def _workbook(sheets: dict[str, list[list]], number_format: str | None = None, merges: tuple[str, ...] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for merge in merges:
            sheet.merge_cells(merge)
        if number_format:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, (int, float)):
                        cell.number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("path", XLSX_FILES, ids=lambda p: p.name)
def test_sample_workbooks_are_read_by_calamine_as_openpyxl_reads_them(path: Path):
    body = path.read_bytes()
    fast = read_xlsx_calamine(body)
    assert fast is not None  # ordinary exports take the fast reader
    assert fast == read_xlsx_openpyxl(body)


plain_cells = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.integers(-10**8, 10**8).map(lambda n: n / 100),
    st.text("abc XYZ&<>'\"£é0123", min_size=1, max_size=8).filter(lambda t: t.strip() == t and t),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2100, 1, 1)),
)
odd_cells = st.one_of(
    st.booleans(), st.integers(-10**17, 10**17), st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8),
    st.sampled_from(["", " ", " Acme ", "Café\u00a0", "a\nb", "#N/A", "=1+1", "_x000D_", "45044"]),
    st.dates(min_value=date(1899, 12, 31), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.times(), st.just(timedelta(hours=30)), st.just(Decimal("12.50")),
)
# Mostly ordinary cells, so that many workbooks are taken by calamine and compared.
cells = st.one_of(plain_cells, plain_cells, plain_cells, plain_cells, plain_cells, odd_cells)


@hypothesis_settings(max_examples=80, deadline=None)
# Found in CI: a date-formatted number past 9999-12-31 is the error '#VALUE!' to openpyxl.
@example(sheets={"Spend": [[2958466]]}, number_format="yyyy-mm-dd", merged=False)
@given(st.dictionaries(st.sampled_from(["Spend", "Sheet 2", "A&B <x>"]),
                       st.lists(st.lists(cells, max_size=6), max_size=6), min_size=1, max_size=2),
       st.sampled_from([None, "0.00", "#,##0.00", "yyyy-mm-dd", "dd/mm/yyyy", "£#,##0.00", "h:mm", "[$-409]d-mmm-yy"]),
       st.booleans())
def test_calamine_reads_any_workbook_as_openpyxl_or_declines(sheets, number_format, merged):
    body = _workbook(sheets, number_format, ("A1:B1",) if merged else ())
    fast = read_xlsx_calamine(body)
    if fast is not None:
        assert fast == read_xlsx_openpyxl(body)


def test_cells_openpyxl_reads_otherwise_are_declined():
    plain = [["Date", "Supplier", "Amount"], [datetime(2025, 4, 1), "Acme Ltd", 12.5]]
    assert read_xlsx_calamine(_workbook({"Spend": plain})) == read_xlsx_openpyxl(_workbook({"Spend": plain}))
    for odd in ("#N/A", "  ", 1e20, 2.0 ** 60, datetime(2025, 4, 1, 10, 30), time(10, 30)):
        assert read_xlsx_calamine(_workbook({"Spend": [*plain, [odd, "x", 1]]})) is None, odd


@pytest.mark.parametrize("cell, out_of_range", [
    ('<c r="A1" s="3"><v>-1</v></c>', True),
    ('<c r="A1" s="3" t="n"><v>2958466</v></c>', True),
    ('<c r="A1" t="n"\ts="3"><f>A2</f><v>1e9</v></c>', True),  # t first, a tab, a formula
    ('<c r="A1" s="3"><v>45017</v></c>', False),
    ('<c r="A1" s="13"><v>-1</v></c>', False),  # another style, not a date's
    ('<c r="A1" xs="3" s="2"><v>-1</v></c>', False),  # an attribute whose name ends in s
    ('<c r="A1" s="3" t="s"><v>7</v></c>', False),  # a shared string's index
    ('<c r="A1" t="inlineStr"><is><t>s="3"</t></is></c><c r="B1"><v>-1</v></c>', False),  # text, not a tag
])
def test_date_styled_serials_outside_excel_days_are_found(cell, out_of_range):
    sheet = f'<sheetData><row r="1">{cell}</row></sheetData>'.encode()
    assert _serial_out_of_range(sheet, {b"3"}) is out_of_range
