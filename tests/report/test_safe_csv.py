"""CSV for spreadsheets: text that would run as a formula is quoted, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given, strategies as st

from flows.safe_csv import FORMULA_PREFIXES, safe_cell, write_csv


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_formula_cells_are_quoted_and_plain_cells_kept():
    text = write_csv(
        ["supplier", "amount", "date", "redacted"],
        [["=HYPERLINK(\"http://x\")", Decimal("-640.00"), date(2025, 4, 1), False],
         ["+44 121 000", -3, None, True],
         ["@SUM(A1:A2)", 1.5, None, None],
         ["-minus in text", 0, None, None],
         ["Acme, \"Ltd\"", Decimal("2310.00"), None, None]],
    )
    assert read_back(text) == [
        ["supplier", "amount", "date", "redacted"],
        ["'=HYPERLINK(\"http://x\")", "-640.00", "2025-04-01", "false"],
        ["'+44 121 000", "-3", "", "true"],
        ["'@SUM(A1:A2)", "1.5", "", ""],
        ["'-minus in text", "0", "", ""],
        ["Acme, \"Ltd\"", "2310.00", "", ""],
    ]


def test_hidden_prefixes_tab_and_carriage_return_are_quoted():
    assert safe_cell("\t=1+1") == "'\t=1+1"
    assert safe_cell("\r=1+1") == "'\r=1+1"


@given(st.text())
def test_no_text_cell_reads_back_starting_with_a_formula_prefix(value):
    cell = read_back(write_csv(["c"], [[value]]))[1:]
    read = cell[0][0] if cell else ""
    assert not read.startswith(FORMULA_PREFIXES)
    # Nothing else is changed: the original text is the cell without the added quote.
    assert read.removeprefix("'") == value or read == value
