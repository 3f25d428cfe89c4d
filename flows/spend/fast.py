"""The bulk path for CSV spend files: DuckDB reads and cleans the ordinary lines, Python the rest.

Row-by-row Python costs ~40 µs a line, so a national year (30M lines) would take hours. Here the
layout is still found in Python (first rows only), then DuckDB reads the data lines with `read_csv`.
Dates, payees, supplier references and identifiers are read by the Python parsers themselves, once per
distinct cell (a file holds few: a month's dates, a council's suppliers), and joined back in SQL, so
they are exactly what RowReader gives for any text. Amounts (nearly all distinct) are read in SQL by an
expression deliberately narrower than values.parse_amount: a line is taken by SQL only when its amount
is in a form the SQL reads exactly as Python would. Every other line - rejects, skips, odd amounts -
goes through the same RowReader as before, so each line still ends in exactly one place with the same
outcome (tests/spend/test_spend_fast.py checks the two paths agree).

The bulk path declines the file (returns None) whenever it cannot guarantee line numbers or cells
identical to Python's csv reader: XLSX, another delimiter, a quoted field spanning lines, a blank
line, or a line DuckDB's strict CSV reader refuses.

Files of one layout (layout_key) are read together: one `read_csv` over their files (`file`, DuckDB's
file_index, tells the lines apart), one value map, one insert. Each statement costs 5-15 ms to plan
whatever its size (the amount expression alone ~10 ms), which at a few thousand lines a file was most
of the cost.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterable

import duckdb
import numpy

from flows.spend.layout import Synonyms, Table, decode, find_layout, sniff_kind
from flows.spend import values
from flows.spend.rows import ParsedFile, RowReader, payee, supplier_ref

# Files smaller than this go through Python: below it the bulk path's fixed cost per file (a temp file,
# its share of a staging scan) outweighs what it saves. Measured with files staged in groups: 300 files of
# ~3.5 KB (33 lines) cost the same either way, of ~35 KB (333 lines) 7 CPU-s in bulk against 9.5.
MIN_BULK_BYTES = 4 * 1024
HEAD_RECORDS = 23  # MAX_TITLE_ROWS + 1 header candidates, + a possible second header row, + 1
# Python's str.strip() removes exactly the characters for which str.isspace() is true.
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_LINE_END = re.compile(r"\r\n|\r|\n")
# The staged groups' tables live in an in-memory database attached to the connection's database rather
# than in temp tables, which only their own connection sees: a batch is written from them on another
# connection while the next batch is staged (flows/spend/ingest.py).
STAGE_DB = "spend_stage"
_QUOTED = re.compile(rb'"[^"]*(?:""[^"]*)*"')  # a quote, text with "" escapes, the closing quote


@dataclass(frozen=True)
class BulkGroup:
    """Files of one layout whose data lines sit in the table `lines` (cells c0.., amount_gbp, file),
    their distinct cells' values in `maps`, both in STAGE_DB; drop_staged() drops them."""

    number: int
    reader: RowReader  # of the group's first file: the SQL depends only on what layout_key holds
    width: int
    exact_trim: bool

    @property
    def lines(self) -> str:
        return f"{STAGE_DB}.lines_{self.number}"

    @property
    def maps(self) -> str:
        return f"{STAGE_DB}.maps_{self.number}"


@dataclass
class BulkFile:
    """A file whose ordinary payment lines are staged in its group's table; `parsed` holds the rest."""

    parsed: ParsedFile
    loaded: int  # payment lines of this file in the group's table
    first_line: int  # line number in the file of the first data line
    group: BulkGroup
    file: int  # the `file` of its lines in the group's table: its position in the group's read
    start: int  # rowid there of its first data line


def _ct(column: str, exact_trim: bool) -> str:
    """clean_text: Python strip(), then None for empty. trim() alone strips only spaces, which is exact
    when the file holds no other whitespace character (checked per file); trim with the full set is
    20x slower, so it is used only when needed. Most cells have no space at either end: testing the ends
    first (no copy) rather than trimming every cell took a line's insert from ~1.2 to ~0.8 µs."""
    if exact_trim:
        return f"nullif(trim({column}, {_sql_literal(_WHITESPACE)}), '')"
    return (f"nullif(CASE WHEN starts_with({column}, ' ') OR ends_with({column}, ' ') THEN trim({column}) "
            f"ELSE {column} END, '')")


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A subset of what values.parse_amount accepts: an optional minus (before or after an optional £),
# digits with thousands commas, an optional point and decimals; or the same in brackets. At most 15
# whole digits and 18 decimals, so the DECIMAL(38,18) cast is exact and the result stays below 1e16.
_PLAIN_AMOUNT = r"^-?£?-?[0-9,]*[0-9][0-9,]*(?:\.[0-9]{0,18})?$"
_BRACKET_AMOUNT = r"^\(£?[0-9,]*[0-9][0-9,]*(?:\.[0-9]{0,18})?\)$"


# The commonest forms, read with one cast: at most one minus (before or after an optional £), digits
# (with commas) and at most 2 decimals, so the cast is exact; beyond 16 whole digits it fails, as in Python.
_SIMPLE_AMOUNT = r"^(?:-£?|£-?)?[0-9][0-9,]*(?:\.[0-9]{1,2})?$"


def _amount_sql(t: str) -> str:
    """values.parse_amount for trimmed text `t` (spaces and no-break spaces inside are dropped, as there)."""
    simple = f"TRY_CAST(replace(replace(replace({t}, ',', ''), '£', ''), '-', '') AS DECIMAL(18,2))"
    return f"""CASE WHEN regexp_matches({t}, {_sql_literal(_SIMPLE_AMOUNT)})
        THEN CASE WHEN contains({t}, '-') THEN -{simple} ELSE {simple} END
        ELSE {_other_amount_sql(t)} END"""


def _other_amount_sql(t: str) -> str:
    s = f"replace(replace({t}, chr(160), ''), ' ', '')"
    number = f"replace(replace(replace(replace(replace({s}, '£', ''), '-', ''), ',', ''), '(', ''), ')', '')"
    magnitude = f"round(TRY_CAST({number} AS DECIMAL(38,18)), 2)"
    negative = f"(contains({s}, '-') OR starts_with({s}, '('))"
    return f"""CASE WHEN (regexp_matches({s}, {_sql_literal(_PLAIN_AMOUNT)})
                         AND length({s}) - length(replace({s}, '-', '')) <= 1
                       OR regexp_matches({s}, {_sql_literal(_BRACKET_AMOUNT)}))
                      AND length(split_part({number}, '.', 1)) <= 15
        THEN CAST(CASE WHEN {negative} THEN -{magnitude} ELSE {magnitude} END AS DECIMAL(18,2)) END"""


@dataclass(frozen=True)
class ValueMap:
    """Payment columns computed in Python from the distinct raw cells of `columns`, joined back in SQL.

    A file holds few distinct dates, payees and identifiers (a month's dates, a council's suppliers), so
    reading each distinct cell with the Python parsers themselves gives exactly their results - for any
    text, accents and odd formats included - at a fraction of the cost of reading every line.
    """

    columns: tuple[int, ...]  # cell columns the outputs depend on; () when the file has none of them
    outputs: tuple[tuple[str, str], ...]  # (payment column, column of the maps table holding it)
    read: Callable[..., tuple]  # cells (str or None) -> outputs


# A group's maps table holds every map's rows; one typed column per kind of output.
_MAP_COLUMNS = {"day": "DATE", "text": "VARCHAR", "flag": "BOOLEAN"}


def value_maps(reader: RowReader) -> list[ValueMap]:
    """The payment columns read through Python per distinct cell, as RowReader.read reads them."""
    cols = reader.columns

    def top(name: str) -> tuple[int, ...]:
        return cols[name][:1] if name in cols else ()

    def first_text(*cells: str | None) -> str | None:
        return next((text for cell in cells if (text := values.clean_text(cell)) is not None), None)

    maps = [
        ValueMap((reader.date_column,), (("payment_date", "day"),), lambda cell: (values.parse_date(cell),)),
        ValueMap((reader.supplier_column,), (("supplier_name", "text"), ("is_redacted", "flag")),
                 lambda cell: payee(values.clean_text(cell))),
        ValueMap(cols.get("supplier_id", ()), (("supplier_id", "text"),),
                 lambda *cells: (supplier_ref(first_text(*cells)),)),
    ]
    for name, normalise in (("company_number", values.normalise_company_number),
                            ("vat_number", values.normalise_vat_number),
                            ("supplier_postcode", values.normalise_postcode)):
        maps.append(ValueMap(top(name), ((name, "text"),), lambda cell, f=normalise: (f(cell),)))
    return maps


def _key(columns: tuple[int, ...], width: int) -> str:
    """A map's key for one line: its cells joined by NUL (removed from the text before reading).
    NULL (an empty or missing cell) and '' read the same in every parser, so both are keyed ''."""
    return " || chr(0) || ".join(f"coalesce(c{c}, '')" if c < width else "''" for c in columns)


def _stage_maps(con: duckdb.DuckDBPyConnection, group: BulkGroup) -> list[str]:
    """Fill the group's maps table (map, key, day, text, flag) from the distinct keys of each map; returns
    the date map's keys that read as no date."""
    maps, width = value_maps(group.reader), group.width
    keyed = [(number, value_map) for number, value_map in enumerate(maps) if value_map.columns]
    distinct = " UNION ALL ".join(
        f"SELECT DISTINCT {number} AS map, {_key(value_map.columns, width)} AS key FROM {group.lines}"
        for number, value_map in keyed
    )
    rows: dict[str, list] = {"map": [], "key": [], "day": [], "text": [], "flag": []}
    for number, key in con.execute(distinct).fetchall():
        value_map = maps[number]
        outputs = dict(zip((column for _, column in value_map.outputs), value_map.read(*key.split("\x00"))))
        rows["map"].append(number)
        rows["key"].append(key)
        for column in _MAP_COLUMNS:
            rows[column].append(outputs.get(column))
    con.execute(
        f"CREATE OR REPLACE TABLE {group.maps} AS SELECT unnest($map) AS map, unnest($key) AS key, "
        "CAST(unnest($day) AS DATE) AS day, CAST(unnest($text) AS VARCHAR) AS text, "
        "CAST(unnest($flag) AS BOOLEAN) AS flag",
        rows,
    )
    return [key for number, key, day in zip(rows["map"], rows["key"], rows["day"]) if number == 0 and day is None]


def _col(index: int, width: int) -> str:
    return f"c{index}" if index < width else "NULL::VARCHAR"


def _lines_sql(group: BulkGroup) -> str:
    """The data lines of the files (bound $paths, in order) as read by DuckDB's strict CSV reader, one
    VARCHAR per cell, with the amount read once here (both the leftover scan and the payments insert use
    it) and the file each line came from (its index in $paths)."""
    width, reader = group.width, group.reader
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    amount = _amount_sql(_ct(_col(reader.amount_column, width), group.exact_trim))
    # Only the cells a payment is read from are kept: storing the others cost time for nothing.
    kept = sorted({reader.amount_column, *(i for indexes in reader.columns.values() for i in indexes)})
    cells = "".join(f"c{i}, " for i in kept if i < width)
    return (
        f"CREATE OR REPLACE TABLE {group.lines} AS SELECT {cells}{amount} AS amount_gbp, "
        f"file_index AS file FROM read_csv($paths, header = false, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', null_padding = true, columns = {columns}, parallel = false)"
    )


def _map_join(group: BulkGroup, number: int, value_map: ValueMap) -> str:
    return (f"JOIN {group.maps} AS m{number} ON m{number}.map = {number} "
            f"AND m{number}.key = {_key(value_map.columns, group.width)}")


def _leftovers_sql(group: BulkGroup, undated: list[str]) -> str:
    """Per file: how many lines DuckDB read, the rowids of its first and last, and the rowids of those SQL
    does not take as payments (no date, i.e. a key in `undated` (bound as $undated when there are any),
    or no amount in a form read exactly here): Python's RowReader reads those. The few undated keys are
    looked up in a list rather than joining every line to the date map."""
    date_key = _key(value_maps(group.reader)[0].columns, group.width)
    undated_sql = f" OR list_contains($undated, {date_key})" if undated else ""
    return f"""
        SELECT file, count(*), min(rowid), max(rowid),
               coalesce(list(rowid) FILTER (amount_gbp IS NULL{undated_sql}), [])
        FROM {group.lines}
        GROUP BY file
    """


def payments_sql(group: BulkGroup) -> str:
    """The payment lines SQL reads, from the group's tables: file, line_id (its rowid there; the
    file's source_row is its BulkFile's first_line + line_id - start) and the payment columns from
    payment_date to supplier_postcode, in the contract's order."""
    reader, width, exact_trim = group.reader, group.width, group.exact_trim
    cols = reader.columns

    def first_text(name: str) -> str:
        options = [_ct(_col(i, width), exact_trim) for i in cols.get(name, ())]
        return f"coalesce({', '.join(options)})" if options else "NULL::VARCHAR"

    outputs, joins = [], []
    for number, value_map in enumerate(value_maps(reader)):
        if not value_map.columns:
            # An optional column the file lacks: Python reads None there, which every parser maps to None.
            outputs += [f"NULL::{_MAP_COLUMNS[column]} AS {name}" for name, column in value_map.outputs]
            continue
        joins.append(_map_join(group, number, value_map))
        outputs += [f"m{number}.{column} AS {name}" for name, column in value_map.outputs]
    return f"""
        SELECT
            file, line_id, payment_date, amount_gbp, supplier_name, is_redacted, supplier_id, transaction_number,
            expense_description, expense_area, company_number, vat_number, supplier_postcode
        FROM (
            SELECT
                lines.file,
                lines.rowid AS line_id,
                lines.amount_gbp,
                {first_text('transaction_number')} AS transaction_number,
                {first_text('expense_description')} AS expense_description,
                {first_text('expense_area')} AS expense_area,
                {', '.join(outputs)}
            FROM {group.lines} AS lines
            {' '.join(joins)}
        ) AS lines
        WHERE payment_date IS NOT NULL AND amount_gbp IS NOT NULL
    """


# Whitespace other than the space that Python's strip() removes (line breaks cannot occur inside a line);
# one `in` test per character is a fast scan, quicker than a regex class over the whole file.
_OTHER_WHITESPACE = _WHITESPACE.replace(" ", "").replace("\r", "").replace("\n", "")


def _head(text: str) -> tuple[Table, list[int]]:
    """The first records as Python's csv reader gives them, and the line count after each record.

    Read from a prefix of the text (a StringIO copies all it is given), grown until it holds one record
    more than needed: every record before the last one read is then complete.
    """
    size = 64 * 1024
    while True:
        reader = csv.reader(io.StringIO(text[:size], newline=""))
        rows, ends = [], []
        line = 0
        for record in reader:
            rows.append((line + 1, record))
            line = reader.line_num
            ends.append(line)
            if len(rows) > HEAD_RECORDS:
                break
        if len(rows) > HEAD_RECORDS or size >= len(text):
            return Table(rows=rows[:HEAD_RECORDS], kind="csv"), ends[:HEAD_RECORDS]
        size *= 4


def _offset_after_lines(text: str, lines: int) -> int:
    if lines == 0:
        return 0
    for count, match in enumerate(_LINE_END.finditer(text), start=1):
        if count == lines:
            return match.end()
    return len(text)


@dataclass(frozen=True)
class PreparedCsv:
    """A CSV file's layout and data lines, found in Python (no database needed), ready for DuckDB."""

    reader: RowReader
    encoding: str
    header_row: int
    first_line: int  # line number in the file of the first data line
    utf8: bytes  # the data lines, UTF-8
    lines: int
    width: int
    exact_trim: bool


def prepare_bulk(body: bytes, synonyms: Synonyms) -> PreparedCsv | None:
    """The part of the bulk path that reads only the bytes; None when the file must go through parse_file."""
    if len(body) < MIN_BULK_BYTES or sniff_kind(body) != "csv":
        return None
    text, encoding = decode(body)
    as_received = "\x00" not in text
    if not as_received:
        text = text.replace("\x00", "")
    head, ends = _head(text)
    layout = find_layout(head, synonyms)
    if layout.missing() or layout.first_data_index >= len(head.rows):
        return None
    data_start_line = ends[layout.first_data_index - 1]  # lines before the first data line
    offset = _offset_after_lines(text, data_start_line)
    data = text[offset:]
    if not data:
        return None
    if as_received and encoding in ("utf-8", "utf-8-sig"):
        # Already UTF-8: a slice of the body, not an encoding of the text.
        utf8 = body[len(text[:offset].encode("utf-8")) + (3 if encoding == "utf-8-sig" else 0):]
    else:
        utf8 = data.encode("utf-8")

    # One record per line makes source_row = first data line + index. With consistent line endings and
    # no blank line, DuckDB returns as many records as there are lines only if no quoted field spans
    # lines (checked after reading). Rows wider than the first rows make DuckDB's strict reader fail.
    # Line breaks and quotes are single bytes in UTF-8, so these scans run over the bytes, as NumPy arrays
    # (one pass per byte value; 6x faster than bytes.count). An odd number of quotes means a quoted field
    # that never closes: Python's reader runs it to the end of the file (line breaks included), DuckDB's
    # does not. A quote inside an unquoted field is read differently too.
    octets = numpy.frombuffer(utf8, dtype=numpy.uint8)
    newlines, returns = numpy.flatnonzero(octets == 10), numpy.flatnonzero(octets == 13)
    quotes = numpy.flatnonzero(octets == 34)
    line_ends = len(newlines)
    # Every \r is the start of a \r\n (then a blank line is \n\r\n), or there is none (a blank line is \n\n).
    crlf = len(returns) > 0
    if (utf8[:1] in (b"\r", b"\n") or (crlf and not numpy.array_equal(returns + 1, newlines))
            or bool((numpy.diff(newlines) == (2 if crlf else 1)).any()) or len(quotes) % 2
            or (len(quotes) and _quote_inside_a_field(utf8, octets, quotes))):
        return None
    width = max(len(cells) for _, cells in head.rows)
    if width == 0:
        return None
    return PreparedCsv(
        reader=RowReader(head, layout), encoding=encoding, header_row=head.rows[layout.header_rows[-1]][0],
        first_line=data_start_line + 1, utf8=utf8, lines=line_ends + (not utf8.endswith(b"\n")), width=width,
        exact_trim=any(char in data for char in _OTHER_WHITESPACE),
    )


# Bytes after which a quoted field may open, or before which it may close (a file's start and end too).
_FIELD_EDGE = numpy.zeros(256, dtype=bool)
_FIELD_EDGE[list(b",\r\n")] = True


def _quote_inside_a_field(utf8: bytes, octets: numpy.ndarray, quotes: numpy.ndarray) -> bool:
    """True when quotes, paired from the left as a reader pairs them, do not all enclose whole fields: a
    quote inside an unquoted field is a letter to Python's reader and not to DuckDB's, and the fields after
    it are then read differently. (An odd count of quotes is checked separately.) `octets` are the bytes,
    `quotes` the positions of their quotes.

    Without two quotes in a row (an escaped quote) the pairs are simply the 1st and 2nd quote, the 3rd and
    4th...: checked on the arrays at once. Otherwise a scan for the pairs (10x faster than a pattern that
    anchors each quote to a field boundary)."""
    end = len(utf8)
    if not (numpy.diff(quotes) == 1).any():
        opening, closing = quotes[0::2], quotes[1::2]
        return not (_FIELD_EDGE[octets[opening[opening > 0] - 1]].all()
                    and _FIELD_EDGE[octets[closing[closing < end - 1] + 1]].all())
    for match in _QUOTED.finditer(utf8):
        start, stop = match.span()
        if (start and utf8[start - 1] not in b",\r\n") or (stop < end and utf8[stop] not in b",\r\n"):
            return True
    return False


def layout_key(prepared: PreparedCsv) -> tuple:
    """Files with equal keys are read by the same SQL (stage_group): the same width, the same columns for
    every field, the same trim."""
    reader = prepared.reader
    return (prepared.width, prepared.exact_trim, reader.amount_column, reader.date_column,
            reader.supplier_column, tuple(sorted(reader.columns.items())))


def stage_group(con: duckdb.DuckDBPyConnection, number: int, files: list[PreparedCsv]) -> list[BulkFile | None]:
    """Stage the ordinary payment lines of prepared files of one layout_key in tables of STAGE_DB
    (BulkGroup `number`, which must be new on this database); per file its BulkFile, or None to use
    parse_file.

    Each BulkFile's `parsed` holds the lines Python read (rejects, skips and payments whose amount SQL
    left alone). When DuckDB refuses one file the others are read again on their own, under group
    numbers `number` * 1000 + 1, 2, ...
    """
    first = files[0]
    group = BulkGroup(number, first.reader, first.width, first.exact_trim)
    con.execute("ATTACH IF NOT EXISTS ':memory:' AS spend_stage")  # STAGE_DB
    paths = []
    try:
        for prepared in files:
            handle, path = tempfile.mkstemp(prefix="spend-bulk-", suffix=".csv")
            paths.append(path)
            with os.fdopen(handle, "wb") as out:
                out.write(prepared.utf8)
        con.execute(_lines_sql(group), {"paths": paths})
    except duckdb.Error:
        if len(files) == 1:
            return [None]
        return [stage_group(con, number * 1000 + index, [prepared])[0] for index, prepared in enumerate(files, 1)]
    finally:
        for path in paths:
            os.unlink(path)
    undated = _stage_maps(con, group)
    counts = {row[0]: row[1:] for row in con.execute(_leftovers_sql(group, undated),
                                                      {"undated": undated} if undated else None).fetchall()}
    staged = []
    for file, prepared in enumerate(files):
        total, start, end, leftovers = counts.get(file, (0, 0, -1, []))
        # One record per line, in order: the file's lines must be exactly its rowids start..end.
        if total != prepared.lines or end - start + 1 != total:
            staged.append(None)
            continue
        first_line = prepared.first_line
        parsed = ParsedFile(kind="csv", encoding=prepared.encoding, sheet=None, header_row=prepared.header_row)
        if leftovers:
            texts = prepared.utf8.split(b"\n")
            for rowid in sorted(leftovers):
                index = rowid - start
                cells = next(csv.reader([texts[index].decode("utf-8").removesuffix("\r")]), [])
                prepared.reader.read(first_line + index, cells, parsed)
        staged.append(BulkFile(parsed=parsed, loaded=total - len(leftovers), first_line=first_line, group=group,
                               file=file, start=start))
    return staged


def drop_staged(con: duckdb.DuckDBPyConnection, groups: Iterable[BulkGroup] | None = None) -> None:
    """Drop these staged groups' tables, or every staged group's."""
    if groups is None:
        names = [f"{STAGE_DB}.{name}" for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [STAGE_DB]).fetchall()]
    else:
        names = [name for group in groups for name in (group.lines, group.maps)]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")
