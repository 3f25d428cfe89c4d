"""Which rows could fail a row expectation: DuckDB conditions that pick them out before GX sees any row.

The validation gate (`flows/validate.py`) hands GX, for each table, only the rows DuckDB selects with
`candidates(...)`: the OR of one condition per row expectation, each true for every row GX's pandas
engine could count as unexpected. GX then evaluates the real expectations on those rows, so the
unexpected counts and sample values in its results are GX's own. A condition may select more rows than
fail (GX passes them), never fewer; where no exact superset is known it is TRUE and every row goes to GX.

What each translation relies on (GX 1.x pandas engine, checked by tests/gate/test_validation_candidates.py):

- Values are compared as pandas receives them (`pandas_value`): DECIMAL arrives as float64, so bounds
  are compared on DOUBLE; dates and times arrive as naive UTC timestamps clamped to pandas' range, and
  are compared as stored instants with the bound read as UTC (the clamp never moves a value across a
  bound inside that range).
- Between, in-set and regex ignore nulls (NaN and NaT included); not-null counts them. A NaN compares
  above every number in DuckDB, so a bound check selects it (GX then ignores it): a harmless extra row.
- Regex: GX runs Python `re.search` on `str(value)`; DuckDB's `regexp_matches` is RE2, also a search.
  The pattern is not passed through as text (the two dialects read some text differently, e.g.
  `[[:alpha:]]`); it is parsed by Python's own regex parser and re-written for RE2 from the parse tree,
  using only constructs where an RE2 match implies a Python match (`\\d`, `\\w`, `\\s` are ASCII in RE2
  but Unicode in Python, so they may only widen a non-negated class; RE2's `$` matches only at the very
  end, Python's also before a final newline). Anything else - flags, look-arounds, back-references,
  word boundaries, negated categories - gives no translation and the condition is TRUE.
- `row_condition` is not translated: a row breaking the expectation is selected whatever the condition,
  and GX applies the condition itself. That over-selects only rows outside the condition that break the
  rule (in these suites, a few mart rows of net payments shares).
- `mostly` below 1 makes success depend on the share of all rows, so such an expectation selects every row.
- A column the table lacks selects nothing: GX reports the expectation as not evaluable on any frame.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from re import _constants as sre
from re import (
    _parser as sre_parse,  # Python's own regex parser: the meaning `re.search` gives a pattern
)
from typing import Any

import great_expectations.expectations as gxe

ALL_ROWS = "TRUE"
NO_ROWS = "FALSE"
DATETIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_RE2_MAX_REPEAT = 1000  # RE2 rejects counted repetitions above this


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pandas_value(column: str, data_type: str) -> str:
    """The SQL expression of the value GX receives for `column`.

    Dates and times leave DuckDB as naive UTC timestamps inside pandas' nanosecond range: GX compares a
    datetime64[ns] column with the date window vectorised, any other datetime column one Python call
    per row. A value outside 1678-2261 cannot be a datetime64[ns]; it is clamped to that edge, which
    still fails the window check.
    """
    quoted = quote(column)
    if data_type not in DATETIME_TYPES:
        return quoted
    utc = f"timezone('UTC', {quoted})" if data_type == "TIMESTAMP WITH TIME ZONE" else f"CAST({quoted} AS TIMESTAMP)"
    # Not least/greatest: they skip NULLs, which would turn a missing date into 1678-01-01.
    return (f"CASE WHEN {utc} < TIMESTAMP '1678-01-01' THEN TIMESTAMP '1678-01-01' "
            f"WHEN {utc} > TIMESTAMP '2261-12-31' THEN TIMESTAMP '2261-12-31' ELSE {utc} END")


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters.get(value["$PARAMETER"], value)
    return value


def _bound(value: Any, data_type: str) -> str | None:
    """A bound as SQL comparable with the value pandas sees, or None when not translatable."""
    if data_type in DATETIME_TYPES:
        if not isinstance(value, datetime) or value.tzinfo is not None:
            return None
        if data_type == "TIMESTAMP WITH TIME ZONE":  # GX's naive values are UTC
            return f"TIMESTAMPTZ '{value.isoformat(sep=' ')}+00'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    if isinstance(value, int) and data_type in INTEGER_TYPES:
        return str(value)
    if data_type in INTEGER_TYPES | FLOAT_TYPES or data_type.startswith("DECIMAL"):
        return f"CAST('{float(value)!r}' AS DOUBLE)"
    return None


def _between(e: gxe.ExpectColumnValuesToBeBetween, data_type: str, parameters: dict[str, Any]) -> str:
    low, high = _resolve(e.min_value, parameters), _resolve(e.max_value, parameters)
    if low is None and high is None:
        return ALL_ROWS  # GX reports the missing bounds itself
    # Dates and times are compared as stored: pandas' clamping is the identity inside its range and
    # never moves a value across a bound inside it, so this selects the same rows (more for a bound
    # outside that range), and DuckDB can filter the stored column without converting every value.
    value = quote(e.column)
    if data_type not in DATETIME_TYPES and data_type not in INTEGER_TYPES:
        value = f"CAST({value} AS DOUBLE)"
    outside = []
    for bound, strict, below in ((low, e.strict_min, "<"), (high, e.strict_max, ">")):
        if bound is None:
            continue
        sql = _bound(bound, data_type)
        if sql is None:
            return ALL_ROWS
        outside.append(f"{value} {below}{'=' if strict else ''} {sql}")
    return "(" + " OR ".join(outside) + ")"


def _in_set(e: gxe.ExpectColumnValuesToBeInSet, data_type: str, parameters: dict[str, Any]) -> str:
    values = _resolve(e.value_set, parameters)
    if data_type != "VARCHAR" or not isinstance(values, (list, set, tuple)) or not all(isinstance(v, str) for v in values):
        return ALL_ROWS
    if not values:
        return f"{quote(e.column)} IS NOT NULL"
    return f"{quote(e.column)} NOT IN ({', '.join(_literal(v) for v in sorted(values))})"


def _match_regex(e: gxe.ExpectColumnValuesToMatchRegex, data_type: str, parameters: dict[str, Any]) -> str:
    pattern = re2_pattern(_resolve(e.regex, parameters))
    if data_type != "VARCHAR" or pattern is None:
        return ALL_ROWS
    return f"NOT regexp_matches({quote(e.column)}, {_literal(pattern)})"


def _not_null(e: gxe.ExpectColumnValuesToNotBeNull, data_type: str, parameters: dict[str, Any]) -> str:
    if data_type in FLOAT_TYPES:  # pandas counts NaN as null
        return f"({quote(e.column)} IS NULL OR isnan({quote(e.column)}))"
    return f"{quote(e.column)} IS NULL"


_TRANSLATIONS = {
    gxe.ExpectColumnValuesToBeBetween: _between,
    gxe.ExpectColumnValuesToBeInSet: _in_set,
    gxe.ExpectColumnValuesToMatchRegex: _match_regex,
    gxe.ExpectColumnValuesToNotBeNull: _not_null,
}


def candidate_condition(expectation: gxe.Expectation, column_types: dict[str, str], parameters: dict[str, Any]) -> str:
    """A DuckDB condition true for every row of a table (columns `column_types`) that GX could count as
    unexpected for `expectation`; `parameters` resolve `$PARAMETER` values as GX will."""
    translate = _TRANSLATIONS.get(type(expectation))
    mostly = getattr(expectation, "mostly", None)
    if translate is None or (mostly is not None and mostly < 1):
        return ALL_ROWS
    if expectation.column not in column_types:
        return NO_ROWS
    return translate(expectation, column_types[expectation.column], parameters)


def candidates(expectations: list[gxe.Expectation], column_types: dict[str, str], parameters: dict[str, Any]) -> str:
    """One condition selecting every row that could fail any of `expectations`."""
    conditions = list(dict.fromkeys(candidate_condition(e, column_types, parameters) for e in expectations))
    if ALL_ROWS in conditions:
        return ALL_ROWS
    conditions = [c for c in conditions if c != NO_ROWS]
    return " OR ".join(conditions) if conditions else NO_ROWS


class _Untranslatable(Exception):
    pass


def re2_pattern(regex: Any) -> str | None:
    """`regex` rewritten for RE2 such that every RE2 match is also a Python `re.search` match; None when
    the pattern uses anything outside that safe subset (or is not a valid Python pattern)."""
    if not isinstance(regex, str):
        return None
    try:
        parsed = sre_parse.parse(regex)
    except re.error:
        return None
    if parsed.state.flags & ~(sre.SRE_FLAG_UNICODE | sre.SRE_FLAG_VERBOSE):
        return None  # IGNORECASE, MULTILINE, DOTALL, ASCII: case folding and anchors differ
    try:
        return _sequence(parsed)
    except _Untranslatable:
        return None


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


# Inside a non-negated class: RE2's ASCII sets are subsets of Python's Unicode \d, \w, \s.
_CATEGORIES = {
    sre.CATEGORY_DIGIT: "0-9",
    sre.CATEGORY_WORD: "0-9A-Za-z_",
    sre.CATEGORY_SPACE: "".join(_char(ord(c)) for c in " \t\n\r\f\v"),
}


def _class(items: list) -> str:
    negate = bool(items) and items[0][0] == sre.NEGATE
    parts = []
    for op, av in items[1:] if negate else items:
        if op == sre.LITERAL:
            parts.append(_char(av))
        elif op == sre.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op == sre.CATEGORY and not negate and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
        else:
            raise _Untranslatable(op)
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _sequence(items) -> str:
    return "".join(_item(op, av) for op, av in items)


def _item(op, av) -> str:
    if op == sre.LITERAL:
        return _char(av)
    if op == sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op == sre.ANY:
        return "."  # both exclude only \n without DOTALL
    if op == sre.IN:
        return _class(av)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):  # greediness does not change whether a match exists
        low, high, sub = av
        if low > _RE2_MAX_REPEAT or (high != sre.MAXREPEAT and high > _RE2_MAX_REPEAT):
            raise _Untranslatable(op)
        count = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
        return f"(?:{_sequence(sub)}){count}"
    if op == sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _Untranslatable(op)
        return f"(?:{_sequence(sub)})"
    if op == sre.BRANCH:
        return "(?:" + "|".join(_sequence(branch) for branch in av[1]) + ")"
    if op == sre.AT and av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
        return "^"
    if op == sre.AT and av == sre.AT_END:
        return "$"  # RE2: end of text only; Python also before a final newline - RE2 matches less
    if op == sre.AT and av == sre.AT_END_STRING:
        return "\\z"
    raise _Untranslatable(op)
