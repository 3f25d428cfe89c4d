"""The bulk path for CSV spend files: DuckDB reads and cleans the ordinary lines, Python the rest.

Row-by-row Python costs ~40 µs a line, so a national year (30M lines) would take hours. Here the
layout is still found in Python (first rows only), then DuckDB reads the data lines with `read_csv`
and parses dates, amounts and identifiers in SQL. The SQL is deliberately narrower than the Python
parsers in flows/spend/values.py: a line is taken by SQL only when its date and amount are in a form
the SQL reads exactly as Python would, and its identifying cells are plain ASCII (so regex classes and
case rules cannot differ). Every other line - rejects, skips, odd formats, accented payees - goes
through the same RowReader as before, so each line still ends in exactly one place with the same
outcome (tests/spend/test_spend_fast.py checks the two paths agree).

The bulk path declines the file (returns None) whenever it cannot guarantee line numbers or cells
identical to Python's csv reader: XLSX, another delimiter, a quoted field spanning lines, a blank
line, or a line DuckDB's strict CSV reader refuses.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.spend.layout import Synonyms, Table, decode, find_layout, sniff_kind
from flows.spend.rows import ParsedFile, RowReader
from flows.spend.values import EARLIEST_YEAR, LATEST_YEAR

# Files smaller than this go through Python: the bulk path's fixed cost (temp file, DuckDB scan) is
# only worth paying for real files.
MIN_BULK_BYTES = 64 * 1024
HEAD_RECORDS = 23  # MAX_TITLE_ROWS + 1 header candidates, + a possible second header row, + 1
# Python's str.strip() removes exactly the characters for which str.isspace() is true.
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_LINE_END = re.compile(r"\r\n|\r|\n")
_STAGED = "spend_bulk_payments"


@dataclass
class BulkFile:
    """A file whose ordinary lines sit in the temp table `spend_bulk_payments`; `parsed` holds the rest."""

    parsed: ParsedFile
    loaded: int  # lines in the temp table


def _ct(column: str, exact_trim: bool) -> str:
    """clean_text: Python strip(), then None for empty. trim() alone strips only spaces, which is exact
    when the file holds no other whitespace character (checked per file); trim with the full set is
    20x slower, so it is used only when needed."""
    return f"nullif(trim({column}, $ws), '')" if exact_trim else f"nullif(trim({column}), '')"


def _ascii(expr: str) -> str:
    # Only tab/CR/LF and printable ASCII: Python's and RE2's \s, \b, \d and case rules agree there.
    return f"coalesce(regexp_matches({expr}, '^[\\t\\r\\n\\x20-\\x7e]*$'), true)"


def _in_range(day: str) -> str:
    return f"CASE WHEN year({day}) BETWEEN {EARLIEST_YEAR} AND {LATEST_YEAR} THEN {day} END"


# (guard, how DuckDB reads it): each guard admits only text that values.parse_date reads through one
# of its regexes to the same day. 2-digit years: Python maps 00-69 to 20xx, C's %y maps 69 to 1969, so
# only 00-68 are taken here. Anything else (serials, long month names, times with zones) goes to Python.
_DATE_FORMS = (
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "try_strptime({t}, '%d/%m/%Y')"),
    (r"^\d{4}-\d{2}-\d{2}$", "try_strptime({t}, '%Y-%m-%d')"),
    (r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$", "try_strptime(left({t}, 10), '%Y-%m-%d')"),
    (r"^\d{8}$", "try_strptime({t}, '%Y%m%d')"),
    (r"^\d{1,2}-[A-Za-z]{3}-\d{4}$", "try_strptime({t}, '%d-%b-%Y')"),
    (r"^\d{1,2}-[A-Za-z]{3}-(?:[0-5]\d|6[0-8])$", "try_strptime({t}, '%d-%b-%y')"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "try_strptime({t}, '%d.%m.%Y')"),
    (r"^\d{1,2}\.\d{1,2}\.(?:[0-5]\d|6[0-8])$", "try_strptime({t}, '%d.%m.%y')"),
    (r"^\d{1,2}-\d{1,2}-\d{4}$", "try_strptime({t}, '%d-%m-%Y')"),
    (r"^\d{1,2}/\d{1,2}/(?:[0-5]\d|6[0-8])$", "try_strptime({t}, '%d/%m/%y')"),
)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Exact shapes (digits as 9, letters as A) of the commonest dates, compared without regexes; each shape
# is one that _DATE_FORMS admits, read the same way. Other shapes go through the regex guards.
_DATE_SHAPES = (
    ("99/99/9999", "try_strptime({t}, '%d/%m/%Y')"),
    ("9999-99-99", "try_strptime({t}, '%Y-%m-%d')"),
    ("9999-99-99 99:99:99", "try_strptime(left({t}, 10), '%Y-%m-%d')"),
    ("99999999", "try_strptime({t}, '%Y%m%d')"),
    ("99-AAA-9999", "try_strptime({t}, '%d-%b-%Y')"),
)


def _date_sql(t: str) -> str:
    """values.parse_date for trimmed text `t`, for the common forms only (NULL = let Python read it)."""
    shape = f"translate(upper({t}), '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', '{'9' * 10}{'A' * 26}')"
    shapes = " ".join(f"WHEN {_sql_literal(form)} THEN CAST({read.format(t=t)} AS DATE)" for form, read in _DATE_SHAPES)
    fast_path = f"(CASE {shape} {shapes} END)"
    branches = " ".join(
        f"WHEN regexp_matches({t}, {_sql_literal(guard)}) THEN CAST({read.format(t=t)} AS DATE)"
        for guard, read in _DATE_FORMS
    )
    return _in_range(f"coalesce({fast_path}, CASE {branches} END)")


# A subset of what values.parse_amount accepts: an optional minus (before or after an optional £),
# digits with thousands commas, an optional point and decimals; or the same in brackets. At most 15
# whole digits and 18 decimals, so the DECIMAL(38,18) cast is exact and the result stays below 1e16.
_PLAIN_AMOUNT = r"^-?£?-?[0-9,]*[0-9][0-9,]*(?:\.[0-9]{0,18})?$"
_BRACKET_AMOUNT = r"^\(£?[0-9,]*[0-9][0-9,]*(?:\.[0-9]{0,18})?\)$"


def _amount_sql(t: str) -> str:
    """values.parse_amount for trimmed text `t` (spaces and no-break spaces inside are dropped, as there)."""
    s = f"replace(replace({t}, chr(160), ''), ' ', '')"
    number = f"replace(replace(replace(replace(replace({s}, '£', ''), '-', ''), ',', ''), '(', ''), ')', '')"
    magnitude = f"round(TRY_CAST({number} AS DECIMAL(38,18)), 2)"
    negative = f"(contains({s}, '-') OR starts_with({s}, '('))"
    return f"""CASE WHEN (regexp_matches({s}, {_sql_literal(_PLAIN_AMOUNT)})
                         AND length({s}) - length(replace({s}, '-', '')) <= 1
                       OR regexp_matches({s}, {_sql_literal(_BRACKET_AMOUNT)}))
                      AND length(split_part({number}, '.', 1)) <= 15
        THEN CAST(CASE WHEN {negative} THEN -{magnitude} ELSE {magnitude} END AS DECIMAL(18,2)) END"""


_REDACTED = (r"(?i)\bredact(?:ed)?\b|^\W*(?:personal\s+(?:data|information|details)|data\s+protection(?:\s+act)?"
             r"|name\s+withheld|withheld|not\s+disclosed|private\s+individual)\W*$")


def _redaction_sql(text: str) -> str:
    return f"coalesce(regexp_matches({text}, {_sql_literal(_REDACTED)}), false)"


def _company_sql(text: str) -> str:
    c = f"regexp_replace(upper({text}), '[\\s.\\-]', '', 'g')"
    pattern = _sql_literal(r"^([A-Z]{2})?([0-9]{1,8})$")
    prefix, digits = f"regexp_extract({c}, {pattern}, 1)", f"regexp_extract({c}, {pattern}, 2)"
    return f"""CASE
        WHEN regexp_matches({c}, {pattern}) THEN
            CASE WHEN ltrim({digits}, '0') = '' OR length({prefix}) + length({digits}) > 8 THEN NULL
                 ELSE {prefix} || lpad({digits}, CAST(8 - length({prefix}) AS INTEGER), '0') END
        WHEN regexp_matches({c}, '^[A-Z0-9]{{8}}$') AND ltrim({c}, '0') <> '' THEN {c}
    END"""


def _vat_sql(text: str) -> str:
    v = f"regexp_replace(upper({text}), '[^A-Z0-9]', '', 'g')"
    v = f"CASE WHEN starts_with({v}, 'GB') THEN {v}[3:] ELSE {v} END"
    return f"CASE WHEN regexp_matches({v}, '^([0-9]{{9}}|[0-9]{{12}})$') AND ltrim({v}, '0') <> '' THEN {v} END"


def _postcode_sql(text: str) -> str:
    p = f"regexp_replace(upper({text}), '\\s+', '', 'g')"
    pattern = _sql_literal(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
    return f"CASE WHEN regexp_matches({p}, {pattern}) THEN regexp_replace({p}, {pattern}, '\\1 \\2') END"


def _classify_sql(reader: RowReader, width: int, exact_trim: bool) -> str:
    """One row per data line: its 0-based index, the payment columns, and whether SQL may take it."""
    cols = reader.columns

    def col(index: int) -> str:
        return f"c{index}" if index < width else "NULL::VARCHAR"

    def first_text(name: str) -> str:
        options = [_ct(col(i), exact_trim) for i in cols.get(name, ())]
        return f"coalesce({', '.join(options)})" if options else "NULL::VARCHAR"

    def top(name: str) -> str:
        return _ct(col(cols[name][0]), exact_trim) if name in cols else "NULL::VARCHAR"

    checked = [col(reader.supplier_column), *(col(i) for i in cols.get("supplier_id", ()))]
    checked += [col(cols[name][0]) for name in ("company_number", "vat_number", "supplier_postcode") if name in cols]
    # Trimmed once in the inner query; the outer one parses.
    return f"""
        SELECT
            line_index,
            {_date_sql('date_text')} AS payment_date,
            {_amount_sql('amount_text')} AS amount_gbp,
            supplier_raw, supplier_id, transaction_number, expense_description, expense_area,
            {_company_sql('company_text')} AS company_number,
            {_vat_sql('vat_text')} AS vat_number,
            {_postcode_sql('postcode_text')} AS supplier_postcode,
            plain
        FROM (
            SELECT
                rowid AS line_index,
                {_ct(col(reader.date_column), exact_trim)} AS date_text,
                {_ct(col(reader.amount_column), exact_trim)} AS amount_text,
                {_ct(col(reader.supplier_column), exact_trim)} AS supplier_raw,
                {first_text('supplier_id')} AS supplier_id,
                {first_text('transaction_number')} AS transaction_number,
                {first_text('expense_description')} AS expense_description,
                {first_text('expense_area')} AS expense_area,
                {top('company_number')} AS company_text,
                {top('vat_number')} AS vat_text,
                {top('supplier_postcode')} AS postcode_text,
                {' AND '.join(_ascii(c) for c in checked)} AS plain
            FROM spend_bulk_lines
        )
    """


# Whitespace other than the space that Python's strip() removes (line breaks cannot occur inside a line).
_OTHER_WHITESPACE = re.compile("[" + re.escape(_WHITESPACE.replace(" ", "").replace("\r", "").replace("\n", "")) + "]")


def _head(text: str) -> tuple[Table, list[int]]:
    """The first records as Python's csv reader gives them, and the line count after each record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, ends = [], []
    line = 0
    for record in reader:
        rows.append((line + 1, record))
        line = reader.line_num
        ends.append(line)
        if len(rows) == HEAD_RECORDS:
            break
    return Table(rows=rows, kind="csv"), ends


def _offset_after_lines(text: str, lines: int) -> int:
    if lines == 0:
        return 0
    for count, match in enumerate(_LINE_END.finditer(text), start=1):
        if count == lines:
            return match.end()
    return len(text)


def stage_bulk(con: duckdb.DuckDBPyConnection, body: bytes, synonyms: Synonyms) -> BulkFile | None:
    """Read one CSV file's ordinary lines into the temp table spend_bulk_payments; None to use parse_file.

    The temp table's rows with `bulk` true are payments, with source_row, payment_date, amount_gbp,
    supplier_name, is_redacted, supplier_id, transaction_number, expense_description, expense_area, company_number, vat_number, supplier_postcode;
    the returned ParsedFile holds the lines Python read (rejects, skips and payments SQL left alone).
    """
    if len(body) < MIN_BULK_BYTES or sniff_kind(body) != "csv":
        return None
    text, encoding = decode(body)
    text = text.replace("\x00", "")
    head, ends = _head(text)
    layout = find_layout(head, synonyms)
    if layout.missing() or layout.first_data_index >= len(head.rows):
        return None
    reader = RowReader(head, layout)
    data_start_line = ends[layout.first_data_index - 1]  # lines before the first data line
    data = text[_offset_after_lines(text, data_start_line):]
    if not data:
        return None

    # One record per line makes source_row = first data line + index. With consistent line endings and
    # no blank line, DuckDB returns as many records as there are lines only if no quoted field spans
    # lines (checked after reading). Rows wider than the first rows make DuckDB's strict reader fail.
    if "\n\n" in data or "\n\r\n" in data or data[0] in "\r\n" or data.count("\r") not in (0, data.count("\n")):
        return None
    lines = data.count("\n") + (not data.endswith("\n"))
    width = max(len(cells) for _, cells in head.rows)
    if width == 0:
        return None

    with tempfile.TemporaryDirectory(prefix="spend-bulk-") as folder:
        path = Path(folder) / "data.csv"
        path.write_text(data, encoding="utf-8")
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE spend_bulk_lines AS SELECT * FROM read_csv($path, header = false, "
                f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', null_padding = true, "
                f"columns = {columns}, parallel = false)",
                {"path": str(path)},
            )
        except duckdb.Error:
            return None
    exact_trim = _OTHER_WHITESPACE.search(data) is not None
    first_line = data_start_line + 1
    # Every line, flagged `bulk` when SQL reads it; inserts take only those (insert_staged_payments).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_STAGED} AS
        SELECT
            line_index,
            plain AND payment_date IS NOT NULL AND amount_gbp IS NOT NULL AS bulk,
            CAST($first + line_index AS INTEGER) AS source_row, payment_date, amount_gbp,
            CASE WHEN {_redaction_sql('supplier_raw')} THEN NULL ELSE supplier_raw END AS supplier_name,
            {_redaction_sql('supplier_raw')} AS is_redacted,
            CASE WHEN {_redaction_sql('supplier_id')} THEN NULL ELSE supplier_id END AS supplier_id,
            transaction_number, expense_description, expense_area, company_number, vat_number, supplier_postcode
        FROM ({_classify_sql(reader, width, exact_trim)})
        """,
        {"first": first_line, **({"ws": _WHITESPACE} if exact_trim else {})},
    )
    con.execute("DROP TABLE spend_bulk_lines")
    total, loaded, leftover_list = con.execute(
        f"SELECT count(*), count(*) FILTER (bulk), coalesce(list(line_index) FILTER (NOT bulk), []) FROM {_STAGED}"
    ).fetchone()
    if total != lines:
        drop_staged(con)
        return None
    leftover = set(leftover_list)

    parsed = ParsedFile(kind="csv", encoding=encoding, sheet=None, header_row=head.rows[layout.header_rows[-1]][0])
    if leftover:
        texts = data.split("\n")
        for index in sorted(leftover):
            cells = next(csv.reader([texts[index].removesuffix("\r")]), [])
            reader.read(first_line + index, cells, parsed)
    if loaded + parsed.rows_read != lines:
        raise AssertionError(f"bulk spend path lost lines: {loaded} + {parsed.rows_read} != {lines}")
    return BulkFile(parsed=parsed, loaded=loaded)


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_STAGED}")


STAGED_TABLE = _STAGED
