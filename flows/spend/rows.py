"""Every record below the header ends in exactly one place: a payment, a reject with a reason, or a skip.

Skips are structure only: blank rows, totals rows and repeated header rows. Anything else that cannot
become a payment is a reject carrying the raw cells and the reason, so nothing disappears silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flows.spend import values
from flows.spend.layout import (
    Layout, LayoutError, Synonyms, Table, describe_missing, find_layout, header_key, read_csv, read_tables,
)

OTHER_DELIMITERS = (";", "\t", "|")
_TOTAL_LABEL = re.compile(
    r"^\W*(grand\s*|sub\s*-?\s*)?totals?\b(\s+(for|of|spend|spent|paid|payments?|amount|value|expenditure)\b.*)?\W*$",
    re.IGNORECASE,
)


# Plain slotted classes: millions are built per national run, and frozen dataclasses construct slowly.
@dataclass(slots=True)
class Payment:
    source_row: int
    payment_date: date
    amount_gbp: Decimal
    supplier_name: str | None
    is_redacted: bool
    supplier_id: str | None
    transaction_number: str | None
    expense_description: str | None
    expense_area: str | None
    company_number: str | None
    vat_number: str | None
    supplier_postcode: str | None


@dataclass(slots=True)
class Reject:
    source_row: int
    reason: str
    raw_row: str  # JSON array of the cells as read


@dataclass
class ParsedFile:
    kind: str
    encoding: str | None
    sheet: str | None
    header_row: int  # line/row number of the (last) header row in the file
    payments: list[Payment] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped_blank: int = 0
    skipped_total: int = 0
    skipped_header: int = 0

    @property
    def rows_skipped(self) -> int:
        return self.skipped_blank + self.skipped_total + self.skipped_header

    @property
    def rows_read(self) -> int:
        return len(self.payments) + len(self.rejects) + self.rows_skipped


def _raw_json(cells: list[Any]) -> str:
    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value)

    return json.dumps([plain(cell) for cell in cells], ensure_ascii=False, allow_nan=False, default=str)


def _has_text(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def _cell(cells: list[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


def payee(supplier_text: str | None) -> tuple[str | None, bool]:
    """(supplier_name, is_redacted) for a payee cell's cleaned text: a redaction marker keeps no name."""
    redacted = values.is_redaction(supplier_text)
    return (None if redacted else supplier_text), redacted


def supplier_ref(text: str | None) -> str | None:
    """The council's supplier reference, or None when the cell is a redaction marker."""
    return None if values.is_redaction(text) else text


class RowReader:
    """Turns the records of one mapped table into payments, rejects and skips."""

    def __init__(self, table: Table, layout: Layout):
        self.layout = layout
        self.columns = layout.columns
        self.amount_column = layout.amount_column
        self.date_column = layout.columns["payment_date"][0]
        self.supplier_column = layout.columns["supplier_name"][0]
        header_cells = [table.rows[index][1] for index in layout.header_rows]
        mapped = sorted({column for columns in layout.columns.values() for column in columns})
        self.header_keys = {
            column: {header_key(layout.labels[column])} | {header_key(_cell(cells, column)) for cells in header_cells}
            for column in mapped
        }

    def first_text(self, cells: list[Any], name: str) -> str | None:
        for column in self.columns.get(name, ()):
            text = values.clean_text(_cell(cells, column))
            if text is not None:
                return text
        return None

    def top_value(self, cells: list[Any], name: str) -> Any:
        columns = self.columns.get(name)
        return _cell(cells, columns[0]) if columns else None

    def is_repeated_header(self, cells: list[Any]) -> bool:
        hits = sum(
            1 for column, keys in self.header_keys.items()
            if (key := header_key(_cell(cells, column))) and key in keys
        )
        return hits >= min(2, len(self.header_keys))

    def is_totals(self, cells: list[Any], supplier: str | None) -> bool:
        """Called only for rows without a readable date: a 'Total' label anywhere, or a bare sum."""
        if any(_TOTAL_LABEL.match(text) for cell in cells if (text := values.clean_text(cell))):
            return True
        others = [values.clean_text(cell) for index, cell in enumerate(cells) if index != self.amount_column]
        amount = values.parse_amount(_cell(cells, self.amount_column))
        return supplier is None and not any(others) and amount is not None

    def read(self, row_number: int, cells: list[Any], parsed: ParsedFile) -> None:
        if not any(_has_text(cell) for cell in cells):
            parsed.skipped_blank += 1
            return
        payment_date = values.parse_date(_cell(cells, self.date_column))
        # A row with a real date is never a header, so the costlier header comparison only runs on the rest.
        if payment_date is None and self.is_repeated_header(cells):
            parsed.skipped_header += 1
            return
        supplier_raw = values.clean_text(_cell(cells, self.supplier_column))
        raw_date = values.clean_text(_cell(cells, self.date_column))
        raw_amount = _cell(cells, self.amount_column)
        if payment_date is None and self.is_totals(cells, supplier_raw):
            parsed.skipped_total += 1
            return
        amount_text = values.clean_text(raw_amount)
        reasons = []
        if supplier_raw is None and amount_text is None:
            reasons.append("missing supplier and amount")
        if raw_date is None:
            reasons.append("missing date")
        elif payment_date is None:
            reasons.append(f"unparseable date {raw_date[:60]!r}")
        amount = values.parse_amount(raw_amount)
        if amount_text is not None and amount is None:
            reasons.append(f"unparseable amount {amount_text[:60]!r}")
        elif amount_text is None and supplier_raw is not None:
            reasons.append("missing amount")
        if reasons:
            parsed.rejects.append(Reject(row_number, "; ".join(reasons), _raw_json(cells)))
            return
        supplier_name, redacted = payee(supplier_raw)
        parsed.payments.append(
            Payment(
                source_row=row_number,
                payment_date=payment_date,
                amount_gbp=amount,
                supplier_name=supplier_name,
                is_redacted=redacted,
                supplier_id=supplier_ref(self.first_text(cells, "supplier_id")),
                transaction_number=self.first_text(cells, "transaction_number"),
                expense_description=self.first_text(cells, "expense_description"),
                expense_area=self.first_text(cells, "expense_area"),
                company_number=values.normalise_company_number(self.top_value(cells, "company_number")),
                vat_number=values.normalise_vat_number(self.top_value(cells, "vat_number")),
                supplier_postcode=values.normalise_postcode(self.top_value(cells, "supplier_postcode")),
            )
        )


def parse_file(body: bytes, file_name: str, synonyms: Synonyms) -> ParsedFile:
    """Parse one spend file. Raises LayoutError (naming `file_name`) when it cannot be read or mapped."""
    try:
        tables = read_tables(body)
    except LayoutError as exc:
        raise LayoutError(f"{file_name}: {exc}") from None
    candidates = [(find_layout(table, synonyms), table) for table in tables]
    if not candidates:
        raise LayoutError(f"{file_name}: the workbook has no sheets")
    layout, table = max(candidates, key=lambda pair: pair[0].score)
    if layout.missing() and table.kind == "csv":
        # A few councils export with semicolons, tabs or pipes; only tried when commas find no header.
        for delimiter in OTHER_DELIMITERS:
            try:
                other = read_csv(body, delimiter)
            except LayoutError:
                continue
            other_layout = find_layout(other, synonyms)
            if other_layout.score > layout.score:
                layout, table = other_layout, other
    if layout.missing():
        raise LayoutError(describe_missing(layout, file_name))
    parsed = ParsedFile(
        kind=table.kind,
        encoding=table.encoding,
        sheet=table.sheet,
        header_row=table.rows[layout.header_rows[-1]][0],
    )
    reader = RowReader(table, layout)
    for row_number, cells in table.rows[layout.first_data_index:]:
        reader.read(row_number, cells, parsed)
    return parsed
