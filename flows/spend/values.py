"""Cell values as councils publish them → typed values (section 3 of the warehouse contract).

Every parser takes what a CSV or XLSX cell holds (str, number, date/datetime or None) and returns the
typed value or None. None means "not there / not readable"; callers decide whether that rejects a row.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PENNY = Decimal("0.01")
# DECIMAL(18,2) holds at most 16 digits before the point.
LARGEST_AMOUNT = Decimal("1e16")
# Spend files exist from 2010; anything far outside this window is a misread, not a date.
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
EXCEL_EPOCH = date(1899, 12, 30)
# Serials for 1990-01-01 .. 2100-12-31; a bare number outside this is not an Excel date.
EXCEL_SERIAL_RANGE = (32874, 73415)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# UK order only: day first. Councils never publish month-first dates.
_NUMERIC_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_NAMED_DMY = re.compile(r"^(\d{1,2})[\s\-/]+([A-Za-z]{3,9})[\s\-/,]+(\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _make_date(year: int, month: int, day: int) -> date | None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _from_serial(serial: float) -> date | None:
    if not EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]:
        return None
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: Any) -> date | None:
    """A payment date from any form councils use; None when empty or not a real date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _make_date(value.year, value.month, value.day)
    if isinstance(value, date):
        return _make_date(value.year, value.month, value.day)
    if isinstance(value, (int, float, Decimal)):
        return _from_serial(float(value))
    text = str(value).strip()
    if not text:
        return None
    if m := _ISO.match(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC_DMY.match(text):
        return _make_date(_year(m[3]), int(m[2]), int(m[1]))
    if m := _NAMED_DMY.match(text):
        month = _MONTHS.get(m[2].lower())
        return _make_date(_year(m[3]), month, int(m[1])) if month else None
    if _SERIAL.match(text):
        return _from_serial(float(text))
    return None


_AMOUNT = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")


def parse_amount(value: Any) -> Decimal | None:
    """An amount in pounds rounded to pennies; None when empty or not a number.

    Accepts thousands separators, £, surrounding spaces, a leading or trailing minus (before or after £)
    and accounting brackets for negatives. Float noise such as 7956.420000000001 rounds away.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        return _pennies(amount)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    # One sign at most, written as brackets, a leading or trailing minus, or a minus after the £.
    signs = 0
    if text.startswith("(") and text.endswith(")"):
        signs, text = signs + 1, text[1:-1]
    if text.startswith("-"):
        signs, text = signs + 1, text[1:]
    elif text.endswith("-"):
        signs, text = signs + 1, text[:-1]
    text = text.removeprefix("£").removeprefix("GBP")
    if text.startswith("-"):
        signs, text = signs + 1, text[1:]
    if signs > 1:
        return None
    negative = signs == 1
    text = text.replace(",", "")
    if not _AMOUNT.match(text):
        return None
    amount = Decimal(text)
    return _pennies(-amount if negative else amount)


def _pennies(amount: Decimal) -> Decimal | None:
    if not amount.is_finite():
        return None
    rounded = amount.quantize(PENNY, rounding=ROUND_HALF_UP) if abs(amount) < LARGEST_AMOUNT else None
    if rounded is None or abs(rounded) >= LARGEST_AMOUNT:
        return None
    return rounded + 0  # normalises -0.00 to 0.00


# "Redactive Events Ltd" is a real company, so only the whole word redact/redacted counts.
_REDACTED = re.compile(
    r"\bredact(?:ed)?\b"
    r"|^\W*(?:personal\s+(?:data|information|details)|data\s+protection(?:\s+act)?|name\s+withheld|withheld"
    r"|not\s+disclosed|private\s+individual)\W*$",
    re.IGNORECASE,
)


def is_redaction(value: Any) -> bool:
    """True when a payee cell is a redaction marker rather than a name."""
    return value is not None and bool(_REDACTED.search(str(value)))


def clean_text(value: Any) -> str | None:
    """Cell text trimmed, with None for empty cells; numbers from XLSX keep their plain form."""
    if value.__class__ is str:  # nearly every cell: the checks below would keep it as it is
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = str(value).strip()
    return text or None


_COMPANY = re.compile(r"^([A-Z]{2})?(\d{1,8})$")
_COMPANY_OTHER = re.compile(r"^[A-Z0-9]{8}$")


def normalise_company_number(value: Any) -> str | None:
    """Companies House number upper-cased and zero-padded to 8 (`4103211` → `04103211`, `SC123456` stays)."""
    text = clean_text(value)
    if text is None:
        return None
    text = re.sub(r"[\s.\-]", "", text.upper())
    if m := _COMPANY.match(text):
        prefix, digits = m[1] or "", m[2]
        if not digits.strip("0"):
            return None
        number = prefix + digits.zfill(8 - len(prefix))
        return number if len(number) == 8 else None
    return text if _COMPANY_OTHER.match(text) and text.strip("0") else None


def normalise_vat_number(value: Any) -> str | None:
    """UK VAT number as digits only, `GB` prefix stripped; None unless 9 or 12 digits remain."""
    text = clean_text(value)
    if text is None:
        return None
    text = re.sub(r"[^A-Z0-9]", "", text.upper()).removeprefix("GB")
    return text if text.isdigit() and len(text) in (9, 12) and text.strip("0") else None


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(value: Any) -> str | None:
    """UK postcode upper-cased with one space before the inward code (`b11aa` → `B1 1AA`)."""
    text = clean_text(value)
    if text is None:
        return None
    m = _POSTCODE.match(re.sub(r"\s+", "", text.upper()))
    return f"{m[1]} {m[2]}" if m else None
