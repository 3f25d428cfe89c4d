"""Cell value parsing: every date, amount and marker form the contract lists, plus property tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from flows.spend import values


@pytest.mark.parametrize(
    "text, expected",
    [
        ("02/03/2026", date(2026, 3, 2)),  # UK order: 2 March
        ("19-Feb-2013", date(2013, 2, 19)),
        ("10-Apr-24", date(2024, 4, 10)),
        ("14-APR-2023", date(2023, 4, 14)),
        ("2019-05-01 00:00:00", date(2019, 5, 1)),
        ("2026-07-23", date(2026, 7, 23)),
        ("20250313", date(2025, 3, 13)),
        ("30.09.23", date(2023, 9, 30)),
        (" 01-Apr-2023 ", date(2023, 4, 1)),
        ("1 September 2025", date(2025, 9, 1)),
        ("45658", date(2025, 1, 1)),  # Excel serial as text
        (45658, date(2025, 1, 1)),  # Excel serial from an XLSX cell
        (45658.0, date(2025, 1, 1)),
        (datetime(2025, 4, 3, 0, 0), date(2025, 4, 3)),
        (date(2025, 4, 3), date(2025, 4, 3)),
    ],
)
def test_dates_in_every_published_form(text, expected):
    assert values.parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None, "31/02/2025", "13/13/2025", "yesterday", "12345", "2025-13-01",
                                  "01/01/1850", "Total", True])
def test_not_dates(text):
    assert values.parse_date(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ('2,310.00', "2310.00"),
        (" 519.89 ", "519.89"),
        ("£1,200.00", "1200.00"),
        ("-£640.00", "-640.00"),
        ("£-640.00", "-640.00"),
        ("(640.00)", "-640.00"),
        ("(£1,640.5)", "-1640.50"),
        ("640.00-", "-640.00"),
        ("7956.420000000001", "7956.42"),
        (7956.420000000001, "7956.42"),
        (448, "448.00"),
        ("1616.23 ", "1616.23"),
        (" 13,131.97 ", "13131.97"),
        ("0.005", "0.01"),  # half-up to the penny
        ("-0.00", "0.00"),
        (".5", "0.50"),
    ],
)
def test_amounts_in_every_published_form(text, expected):
    assert values.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", None, "N/A", "£", "1.2.3", "12,34,5x", "--5", "nan", "inf", float("nan"),
                                  "1e5", "12345678901234567.00", True])
def test_not_amounts(text):
    assert values.parse_amount(text) is None


@pytest.mark.parametrize(
    "marker",
    ["REDACTED PERSONAL DATA", "REDACTED - PERSONAL DATA", "REDACTED UNDER DP ACT", "Redacted",
     "*Redact - Personal Information", "Personal Data", "REDACTED COMMERCIAL CONFIDENTIALITY",
     "*** COMPANY NAME REDACTED ***", "redacted", " Personal data ", "Name withheld"],
)
def test_redaction_markers(marker):
    assert values.is_redaction(marker)


@pytest.mark.parametrize(
    "name", ["Redactive Events Ltd", "REDACTIVE PUBLISHING", "Personal Data Solutions Ltd", "Data Protection People Ltd",
             "A & L TAXIS", "", None],
)
def test_real_names_are_not_redactions(name):
    assert not values.is_redaction(name)


@pytest.mark.parametrize(
    "raw, expected",
    [("4103211", "04103211"), ("04103211", "04103211"), ("SC123456", "SC123456"), ("sc123456", "SC123456"),
     ("OC398765", "OC398765"), ("SC 12345", "SC012345"), (4103211, "04103211"), (4103211.0, "04103211"),
     ("", None), ("0", None), ("N/A", None), ("123456789", None)],
)
def test_company_numbers(raw, expected):
    assert values.normalise_company_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("GB 122 0348 65", "122034865"), ("122034865", "122034865"), ("gb123456789012", "123456789012"),
     (754992187, "754992187"), ("", None), ("12345", None), ("GB-ABC", None)],
)
def test_vat_numbers(raw, expected):
    assert values.normalise_vat_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("b11aa", "B1 1AA"), ("B1 1AA", "B1 1AA"), (" wv14  6nz ", "WV14 6NZ"), ("EC2A3JL", "EC2A 3JL"),
     ("not a postcode", None), ("", None)],
)
def test_postcodes(raw, expected):
    assert values.normalise_postcode(raw) == expected


# ------------------------------------------------------------------------------------------ properties

pennies = st.integers(min_value=-10**12, max_value=10**12).map(lambda p: Decimal(p).scaleb(-2))


def _styles(amount: Decimal) -> list[str]:
    magnitude = abs(amount)
    sign = "-" if amount < 0 else ""
    styles = [f"{amount:.2f}", f"{sign}{magnitude:,.2f}", f" {amount:.2f} ", f"{sign}£{magnitude:,.2f}"]
    if amount < 0:
        styles.append(f"({magnitude:,.2f})")
    return styles


@given(pennies)
def test_amount_styles_round_trip(amount):
    for text in _styles(amount):
        assert values.parse_amount(text) == amount, text


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


@given(dates)
def test_date_styles_round_trip(day):
    styles = [day.strftime("%d/%m/%Y"), day.strftime("%d-%b-%Y"), day.strftime("%d-%b-%Y").upper(),
              day.isoformat(), f"{day.isoformat()} 00:00:00", day.strftime("%Y%m%d"), day.strftime("%d.%m.%Y")]
    if 2000 <= day.year < 2070:
        styles += [day.strftime("%d.%m.%y"), day.strftime("%d-%b-%y")]
    for text in styles:
        assert values.parse_date(text) == day, text
    assert values.parse_date((day - date(1899, 12, 30)).days) == day


@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), st.floats(), st.integers(),
                 st.none(), st.datetimes()))
def test_parsers_never_raise(value):
    parsed = values.parse_amount(value)
    assert parsed is None or abs(parsed) < Decimal("1e16")
    day = values.parse_date(value)
    assert day is None or date(1990, 1, 1) <= day <= date(2100, 12, 31)
    for normalise in (values.normalise_company_number, values.normalise_vat_number, values.normalise_postcode):
        result = normalise(value)
        assert result is None or isinstance(result, str)
    values.is_redaction(value)


@given(st.integers(min_value=1, max_value=99_999_999))
def test_company_number_padding(number):
    assert values.normalise_company_number(str(number)) == f"{number:08d}"


def test_serial_epoch_matches_excel():
    # Excel shows serial 45658 as 01/01/2025; 1900-based serials count the fictitious 29 Feb 1900.
    assert date(1899, 12, 30) + timedelta(days=45658) == date(2025, 1, 1)
