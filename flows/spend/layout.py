"""Finding the table in a spend file: decoding, CSV or XLSX, the header row(s) and which column is which.

Header names are matched to canonical fields through `seeds/spend_header_synonyms.csv`
(`canonical_field,header`), compared case-, space- and punctuation-insensitively, so users teach the
loader a new council's layout by adding seed rows, not code. When several columns match one field, the
one whose synonym comes first in the seed wins (e.g. `Payment Date` before `Effective Date`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable, Iterable

SYNONYMS_PATH = Path(__file__).resolve().parents[2] / "seeds" / "spend_header_synonyms.csv"
MAX_TITLE_ROWS = 20
CANONICAL_FIELDS = (
    "supplier_name", "amount", "net_amount", "gross_amount", "vat_amount", "payment_date",
    "transaction_number", "expense_description", "expense_area", "supplier_id", "vat_number",
    "company_number", "supplier_postcode",
)
# Net of VAT when the file distinguishes (contract 5.2): net wins over a plain amount, which wins over gross.
AMOUNT_FIELDS = ("net_amount", "amount", "gross_amount")
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A yearly file of a large council inflates to a few hundred MB of sheet XML at most.
MAX_XLSX_INFLATED_BYTES = 2 * 1024**3
MAX_XLSX_MEMBERS = 10_000

csv.field_size_limit(1 << 24)


class LayoutError(ValueError):
    """The file's table cannot be found or mapped; the message names the file and what is missing."""


_NOT_KEY = re.compile(r"[^0-9a-z]+")


def header_key(text: Any) -> str:
    """A header compared without case, spaces or punctuation: ' Amount ' and 'AMOUNT' are one key."""
    return _NOT_KEY.sub("", str(text or "").lower())


@dataclass(frozen=True)
class Synonyms:
    """header key → (canonical field, rank); lower rank means listed earlier in the seed, preferred."""

    by_key: dict[str, tuple[str, int]]

    def lookup(self, header: Any) -> tuple[str, int] | None:
        return self.by_key.get(header_key(header))


def load_synonyms(path: Path | str = SYNONYMS_PATH) -> Synonyms:
    """Read the synonyms seed; raises ValueError naming the row for an unknown canonical field."""
    path = Path(path)
    by_key: dict[str, tuple[str, int]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"canonical_field", "header"} <= set(reader.fieldnames or []):
            raise ValueError(f"{path}: the header must be canonical_field,header")
        for rank, row in enumerate(reader):
            canonical = (row["canonical_field"] or "").strip()
            if canonical not in CANONICAL_FIELDS:
                raise ValueError(
                    f"{path} line {reader.line_num}: unknown canonical_field {canonical!r}; "
                    f"use one of {', '.join(CANONICAL_FIELDS)}"
                )
            key = header_key(row["header"])
            if key:
                by_key.setdefault(key, (canonical, rank))
    return Synonyms(by_key)


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Table:
    """Every record of one sheet: (1-based line or row number in the file as received, cells)."""

    rows: list[tuple[int, list[Any]]]
    kind: str  # 'csv' or 'xlsx'
    encoding: str | None = None
    sheet: str | None = None


def sniff_kind(body: bytes) -> str:
    """'xlsx', 'xls' or 'csv' from the bytes, whatever the file is called."""
    if body.startswith(ZIP_MAGIC):
        return "xlsx"
    if body.startswith(OLE2_MAGIC):
        return "xls"
    return "csv"


def decode(body: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252."""
    if body.startswith(b"\xef\xbb\xbf"):
        try:
            return body[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return body.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Bytes cp1252 leaves undefined (0x81, 0x8D, ...): latin-1 maps every byte, so nothing is lost.
        return body.decode("latin-1"), "latin-1"


def read_csv(body: bytes, delimiter: str = ",") -> Table:
    text, encoding = decode(body)
    # NUL bytes stop the csv module; they never belong in a spend file's text.
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Any]]] = []
    line = 0
    try:
        for record in reader:
            rows.append((line + 1, record))
            line = reader.line_num
    except csv.Error as exc:
        raise LayoutError(f"CSV cannot be read near line {line + 1}: {exc}") from None
    return Table(rows=rows, kind="csv", encoding=encoding)


def check_inflated_size(body: bytes, limit: int | None = None) -> int:
    """The bytes an XLSX inflates to, from its zip directory; LayoutError above `limit` (a zip bomb).

    Python's zipfile never inflates a member beyond the size its directory declares (and checks the
    CRC at the end), so bounding the declared sizes bounds the memory and time openpyxl can spend.
    """
    limit = MAX_XLSX_INFLATED_BYTES if limit is None else limit
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LayoutError(f"XLSX cannot be opened ({type(exc).__name__}: {exc})") from None
    total = sum(member.file_size for member in members)
    if total > limit or len(members) > MAX_XLSX_MEMBERS:
        raise LayoutError(
            f"XLSX of {len(body):,} bytes would inflate to {total:,} bytes in {len(members):,} parts, more than "
            f"the {limit:,}-byte / {MAX_XLSX_MEMBERS:,}-part limit; not opened (a zip bomb?)"
        )
    return total


def read_xlsx(body: bytes) -> list[Table]:
    check_inflated_size(body)
    fast = read_xlsx_calamine(body)
    return fast if fast is not None else read_xlsx_openpyxl(body)


def read_xlsx_openpyxl(body: bytes) -> list[Table]:
    import openpyxl  # only XLSX feeds pay for the import

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise LayoutError(f"XLSX cannot be opened ({type(exc).__name__}: {exc})") from None
    tables = []
    try:
        for sheet in workbook.worksheets:
            start = sheet.min_row or 1
            rows = [(start + offset, list(values)) for offset, values in enumerate(sheet.iter_rows(values_only=True))]
            tables.append(Table(rows=rows, kind="xlsx", sheet=sheet.title))
    except Exception as exc:  # openpyxl raises many types for damaged sheets; the file is then rejected whole
        raise LayoutError(f"XLSX sheet cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()
    return tables


# What openpyxl and calamine could read differently (read_xlsx_calamine declines the workbook): error and
# ISO-date cells, numbers openpyxl reads as floats although whole (a point or an exponent) or beyond a
# float's exact integers, empty or blank values and texts (openpyxl keeps them, calamine gives '' or trims),
# escaped characters, phonetic runs, attributes on values and namespace prefixes (which the patterns would
# miss). Each pattern starts with a literal (one alternation of them all took 50 ms over a megabyte of XML).
_UNSURE_PATTERNS = (
    re.compile(rb"<v(?:\s|/>|>(?:\s*</v>|-?[0-9]+\.0*</v>|[-+]?[0-9.]*[eE]|-?[0-9]{16}))"),
    re.compile(rb"<t(?:\s[^>]*)?(?:/>|></t>|>\s|>[^<]*\s</t>)"),
    re.compile(rb" t=[\"'][ed][\"']"),
    re.compile(rb":(?:c|t|v|is|si|row)[ >]"),
    re.compile(rb"_x[0-9A-Fa-f]{4}_"),
)


def _unsure(xml: bytes) -> bool:
    return b"<rPh" in xml or any(pattern.search(xml) for pattern in _UNSURE_PATTERNS)


_DIMENSION = re.compile(rb'<dimension ref="A1:([A-Z]{1,3})([0-9]+)"')
_LAST_ROW = re.compile(rb'<row r="([0-9]+)"')
_SHEET = re.compile(rb'<sheet [^>]*?r:id="([^"]+)"')
_RELATIONSHIP = re.compile(rb'<Relationship [^>]*>')
_NUMBER_FORMAT = re.compile(rb'<numFmt [^>]*?formatCode="([^"]*)"')
_FORMAT_ID = re.compile(rb'numFmtId="([0-9]+)"')
_DATE_FORMAT = re.compile(rb"(?i)[dmyhs]+(?:[-/.: ]+[dmyhs]+)*")  # a custom format plainly a date or time
# Number formats both read alike: built-in ones except 27-36 (dates to calamine, numbers to openpyxl) and
# custom formats that are plainly a date or time (whose values are checked: only whole days are taken) or
# plainly a number.
_PLAIN_FORMAT = re.compile(_DATE_FORMAT.pattern + rb"|[#0,.%]*|General|@")


def _attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\s" + name + rb'="([^"]*)"', tag)
    return found[1] if found else None


def _sheet_parts(archive: zipfile.ZipFile) -> list[str] | None:
    """The worksheet part of every sheet in workbook order; None if a sheet is no worksheet."""
    workbook = archive.read("xl/workbook.xml")
    if re.search(rb'date1904="(?:1|true)"', workbook):
        return None
    targets = {}
    for tag in _RELATIONSHIP.findall(archive.read("xl/_rels/workbook.xml.rels")):
        identifier, target = _attribute(tag, b"Id"), _attribute(tag, b"Target")
        if identifier is not None and target is not None:
            targets[identifier] = target.decode("utf-8")
    parts = []
    for identifier in _SHEET.findall(workbook):
        target = targets.get(identifier, "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if "worksheets/" not in part:
            return None
        parts.append(part)
    return parts


_CELL_XFS = re.compile(rb"<cellXfs.*?</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b[^>]*>")
_NUMBER_FORMAT_ENTRY = re.compile(rb'<numFmt [^>]*?numFmtId="([0-9]+)"[^>]*?formatCode="([^"]*)"')
_VALUE_CELL = re.compile(rb"<c\b([^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]*)</v>")
_LAST_EXCEL_DAY = 2958465  # 9999-12-31


def _date_styles(styles: bytes) -> set[bytes]:
    """The cell style indexes (the s attribute of a cell) whose number format shows a date or time."""
    custom = {int(n): code for n, code in _NUMBER_FORMAT_ENTRY.findall(styles)}
    cell_formats = _CELL_XFS.search(styles)
    dated = set()
    for index, xf in enumerate(_XF.findall(cell_formats[0]) if cell_formats else []):
        number = int(_attribute(xf, b"numFmtId") or 0)
        if 14 <= number <= 22 or 45 <= number <= 47 or _DATE_FORMAT.fullmatch(custom.get(number, b"")):
            dated.add(str(index).encode())
    return dated


def _serial_out_of_range(sheet: bytes, date_styles: set[bytes]) -> bool:
    """A date-formatted number that is no Excel day: openpyxl reads it as the error '#VALUE!', calamine as
    the number. The value cells of a date style are found from their style attribute, a literal the
    pattern engine finds 7x faster than it finds every cell (`<` is not allowed inside an attribute, so
    the last `<` before the attribute opens its cell)."""
    styled = re.compile(rb's="(?:' + b"|".join(re.escape(style) for style in sorted(date_styles)) + rb')"')
    for found in styled.finditer(sheet):
        at, start = found.start(), sheet.rfind(b"<", 0, found.start())
        cell = _VALUE_CELL.match(sheet, start) if start >= 0 and sheet[at - 1:at].isspace() else None
        if cell is None or cell.end(1) < at:
            continue  # another attribute's name ends in s, or the text is no value cell's tag
        attributes, value = cell.groups()
        if _attribute(attributes, b"s") in date_styles and _attribute(attributes, b"t") in (None, b"n"):
            try:
                if not 0 <= float(value) <= _LAST_EXCEL_DAY:
                    return True
            except ValueError:
                return True
    return False


def _formats_agree(styles: bytes) -> bool:
    custom = set(_NUMBER_FORMAT.findall(styles))
    cell_formats = _CELL_XFS.search(styles)
    used = {int(n) for n in _FORMAT_ID.findall(cell_formats[0])} if cell_formats else set()
    return (all(_PLAIN_FORMAT.fullmatch(code) for code in custom)
            and not any(27 <= n <= 36 or 50 <= n < 164 for n in used))


class _Unsure(Exception):
    """A calamine cell that openpyxl might read otherwise: read_xlsx_calamine declines the workbook."""


def _as_openpyxl(value: Any) -> Any:
    """A calamine cell as openpyxl reads it; raises _Unsure when it cannot tell."""
    if value == "":
        return None  # an empty cell (the XML checks ruled out empty texts)
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        # Times of day: the two may round fractions of a second differently; 1900: Excel's leap-year bug.
        if value.time() == time() and value.year > 1900:
            return value
        raise _Unsure
    if isinstance(value, date) and value.year > 1900:
        return datetime(value.year, value.month, value.day)
    raise _Unsure


def _row_as_openpyxl(row: list[Any]) -> list[Any]:
    # Most cells are non-empty texts, kept as they are without a call.
    return [cell if cell.__class__ is str and cell else _as_openpyxl(cell) for cell in row]


def read_xlsx_calamine(body: bytes) -> list[Table] | None:
    """The sheets as read_xlsx_openpyxl reads them, by calamine (Rust: ~10x faster), or None when the
    workbook holds anything the two could read differently (_unsure XML, number formats, sizes that are
    not the declared dimension, times of day) or that calamine cannot read: openpyxl reads it then."""
    try:
        import python_calamine
    except ImportError:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts = _sheet_parts(archive)
            if parts is None:
                return None
            names = set(archive.namelist())
            texts = [archive.read(part) for part in parts]
            shared = archive.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
            styles = archive.read("xl/styles.xml") if "xl/styles.xml" in names else b""
        if _unsure(shared) or not _formats_agree(styles):
            return None
        date_styles = _date_styles(styles)
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(body))
        if len(workbook.sheet_names) != len(parts):
            return None
        tables = []
        for name, text in zip(workbook.sheet_names, texts):
            dimension, rows = _DIMENSION.search(text), _LAST_ROW.findall(text)
            if (dimension is None or _unsure(text) or b"<sheetData" not in text
                    or (date_styles and _serial_out_of_range(text, date_styles))):
                return None
            width, height = column_index(dimension[1].decode()), int(dimension[2])
            if not rows or int(rows[-1]) != height:
                return None
            values = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if len(values) != height or any(len(row) != width for row in values):
                return None
            try:
                table = [(number, _row_as_openpyxl(row)) for number, row in enumerate(values, 1)]
            except _Unsure:
                return None
            tables.append(Table(rows=table, kind="xlsx", sheet=name))
        return tables
    except Exception:  # calamine and zipfile raise many types for damaged files; openpyxl decides then
        return None


def column_index(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def read_tables(body: bytes) -> list[Table]:
    kind = sniff_kind(body)
    if kind == "xls":
        raise LayoutError("legacy Excel .xls files are not supported; ask for CSV or XLSX")
    return read_xlsx(body) if kind == "xlsx" else [read_csv(body)]


# ---------------------------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Layout:
    header_rows: tuple[int, ...]  # indexes into Table.rows (one, or two for a merged header)
    labels: tuple[str, ...]  # header text per column as used for matching
    columns: dict[str, tuple[int, ...]] = field(default_factory=dict)  # canonical → columns, preferred first

    @property
    def first_data_index(self) -> int:
        return self.header_rows[-1] + 1

    @property
    def amount_column(self) -> int:
        for name in AMOUNT_FIELDS:
            if name in self.columns:
                return self.columns[name][0]
        raise KeyError("amount")

    def missing(self) -> list[str]:
        lacks = [name for name in ("supplier_name", "payment_date") if name not in self.columns]
        if not any(name in self.columns for name in AMOUNT_FIELDS):
            lacks.insert(1, "amount")
        return lacks

    @property
    def score(self) -> tuple[bool, int]:
        return (not self.missing(), len(self.columns))


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def map_labels(labels: Iterable[str], lookup: Callable[[str], tuple[str, int] | None]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for index, label in enumerate(labels):
        hit = lookup(label)
        if hit:
            canonical, rank = hit
            found.setdefault(canonical, []).append((rank, index))
    return {name: tuple(index for _, index in sorted(hits)) for name, hits in found.items()}


def _two_row_labels(parent: tuple[str, ...], child: tuple[str, ...],
                    lookup: Callable[[str], tuple[str, int] | None]) -> tuple[str, ...]:
    """Labels for a two-row header whose top row is merged across its children (blank cells inherit)."""
    labels = []
    current_parent = ""
    for index in range(max(len(parent), len(child))):
        top = parent[index] if index < len(parent) else ""
        current_parent = top or current_parent
        bottom = child[index] if index < len(child) else ""
        candidates = [f"{current_parent} {bottom}".strip(), bottom, current_parent]
        labels.append(next((c for c in candidates if c and lookup(c)), candidates[0]))
    return tuple(labels)


def find_layout(table: Table, synonyms: Synonyms) -> Layout:
    """The best header among the first rows: the one mapping the required fields and the most others.

    A two-row header is chosen only when it maps strictly more than either of its rows alone, so a
    normal header followed by data (or preceded by a title) is never mistaken for one.
    """
    # Each row is tried alone, as the top and as the bottom of a two-row header: its cells' texts and
    # lookups are worked out once (~6 lookups a cell took 1.9 s for the first rows of the 100k
    # benchmark's 300 files, 0.56 s this way).
    lookup = functools.cache(synonyms.lookup)
    texts = [tuple(_cell_text(cell) for cell in cells) for _, cells in table.rows[:MAX_TITLE_ROWS + 2]]
    alone = [Layout((index,), labels, map_labels(labels, lookup)) for index, labels in enumerate(texts)]
    best: Layout | None = None
    for index in range(min(len(texts), MAX_TITLE_ROWS + 1)):
        candidate = alone[index]
        if index + 1 < len(texts):
            labels2 = _two_row_labels(texts[index], texts[index + 1], lookup)
            merged = Layout((index, index + 1), labels2, map_labels(labels2, lookup))
            # The top row must add something: otherwise the lower row is a one-row header of its own.
            if merged.score > max(candidate.score, alone[index + 1].score):
                candidate = merged
        if best is None or candidate.score > best.score:
            best = candidate
    if best is None:
        return Layout((0,), (), {})
    return best


FIELD_WORDS = {"supplier_name": "supplier name", "amount": "amount", "payment_date": "payment date"}


def describe_missing(layout: Layout, file_name: str) -> str:
    wanted = ", ".join(FIELD_WORDS[name] for name in layout.missing())
    if not layout.labels:
        return f"{file_name}: no rows, so no header with {wanted} was found"
    seen = ", ".join(repr(label) for label in layout.labels if label)[:400]
    return (
        f"{file_name}: cannot map the layout; no column found for {wanted} in the first "
        f"{MAX_TITLE_ROWS + 1} rows (best header row has: {seen or 'nothing'}). "
        f"Add the council's header names to seeds/spend_header_synonyms.csv."
    )
