"""CSV that is safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a formula
(and a leading tab or carriage return can hide such a prefix). Supplier names and expense descriptions
come from published files anyone can write, so every text cell written for people is neutralised the
way OWASP recommends: prefixed with a single quote, which spreadsheets show as text. Numbers are
written as numbers, so a credit note of -640.00 stays a negative amount.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """One cell as text: numbers and dates as they are, text with a formula prefix quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole table as CSV text (RFC 4180: CRLF line ends), every cell through `safe_cell`."""
    out = io.StringIO()
    # The CRLF terminator also makes the writer quote cells holding a bare carriage return.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()
