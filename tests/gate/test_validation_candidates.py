"""The DuckDB conditions of `expectations/candidates.py` select every row GX's pandas engine counts as unexpected.

Each property builds a real DuckDB table from generated values, sends it to GX the way the validation
gate does (`pandas_value`, fetched as a DataFrame), lets GX evaluate the real expectation and compares the
rows GX reports unexpected with the rows the condition selects: never fewer, and exactly the same rows
where the translation is exact (no NaN; text without the characters where RE2 and Python differ).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
from great_expectations.data_context.types.base import ProgressBarsConfig
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from expectations.candidates import (
    ALL_ROWS,
    DATETIME_TYPES,
    NO_ROWS,
    candidate_condition,
    pandas_value,
    quote,
    re2_pattern,
)

GX_EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def batch_definition():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")


def table(data_type: str, values: list) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t (i INTEGER, v {data_type})")
    if values:
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    return con


def gx_unexpected(batch_definition, con, data_type: str, expectation) -> set[int]:
    """The row numbers GX's pandas engine counts as unexpected, on the frame the gate would send."""
    frame = con.execute(f"SELECT i, {pandas_value('v', data_type)} AS v FROM t ORDER BY i").fetchdf()
    if data_type in DATETIME_TYPES:
        frame["v"] = frame["v"].astype("datetime64[ns]")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(expectation, result_format="COMPLETE")
    assert not result.exception_info.get("raised_exception"), result.exception_info
    return {int(frame["i"][index]) for index in result.result["unexpected_index_list"]}


def selected(con, data_type: str, expectation, parameters=None) -> set[int]:
    condition = candidate_condition(expectation, {"v": data_type}, parameters or {})
    return {i for (i,) in con.execute(f"SELECT i FROM t WHERE {condition}").fetchall()}


def check(batch_definition, data_type, values, expectation, exact: bool) -> None:
    con = table(data_type, values)
    unexpected = gx_unexpected(batch_definition, con, data_type, expectation)
    chosen = selected(con, data_type, expectation)
    assert unexpected <= chosen
    if exact:
        assert unexpected == chosen


# ------------------------------------------------------------------------------------------- between

NUMERIC_TYPES = ["INTEGER", "BIGINT", "DOUBLE", "DECIMAL(18,2)"]


def numbers(data_type: str):
    if data_type in ("INTEGER", "BIGINT"):
        bits = 31 if data_type == "INTEGER" else 63
        return st.integers(-(2**bits), 2**bits - 1) | st.sampled_from([-1, 0, 1, 100])
    if data_type == "DOUBLE":
        return st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 1.0, 0.1, 1e9, float("nan")])
    return st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"), places=2)


def bound():
    return st.none() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0, 1, 0.1, 1e9, -1e9])


@GX_EXAMPLES
@given(data=st.data(), data_type=st.sampled_from(NUMERIC_TYPES), low=bound(), high=bound(),
       strict_min=st.booleans(), strict_max=st.booleans())
def test_between_numbers(batch_definition, data, data_type, low, high, strict_min, strict_max):
    assume(low is not None or high is not None)
    assume(low is None or high is None or low <= high)
    values = data.draw(st.lists(st.none() | numbers(data_type), max_size=30))
    # Values next to the bounds, where a rounding difference would show.
    for b in (low, high):
        if b is not None and data_type == "DECIMAL(18,2)" and abs(b) < 1e15:
            near = Decimal(str(b)).quantize(Decimal("0.01"))
            values += [near, near - Decimal("0.01"), near + Decimal("0.01")]
        elif b is not None and data_type in ("INTEGER", "BIGINT") and isinstance(b, int):
            values += [v for v in (b - 1, b, b + 1) if abs(v) < 2**31]
    expectation = gxe.ExpectColumnValuesToBeBetween(
        column="v", min_value=low, max_value=high, strict_min=strict_min, strict_max=strict_max
    )
    has_nan = any(isinstance(v, float) and math.isnan(v) for v in values)
    check(batch_definition, data_type, values, expectation, exact=not has_nan)


DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


@GX_EXAMPLES
@given(data=st.data(), data_type=st.sampled_from(sorted(DATETIME_TYPES)),
       low=st.none() | st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2200, 1, 1)),
       high=st.none() | st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2200, 1, 1)))
def test_between_dates_and_times(batch_definition, data, data_type, low, high):
    assume(low is not None or high is not None)
    assume(low is None or high is None or low <= high)
    if data_type == "DATE":
        values = data.draw(st.lists(st.none() | DATES, max_size=20))
    elif data_type == "TIMESTAMP":
        values = data.draw(st.lists(st.none() | TIMES, max_size=20))
    else:
        values = [v.replace(tzinfo=timezone(timedelta(hours=h))) if v else v
                  for v, h in data.draw(st.lists(st.tuples(st.none() | TIMES, st.integers(-12, 12)), max_size=20))]
    for b in (low, high):
        if b is not None:
            values += [b, b - timedelta(microseconds=1), b + timedelta(microseconds=1)]
            if data_type == "DATE":
                values[-3:] = [b.date(), b.date() - timedelta(days=1), b.date() + timedelta(days=1)]
            elif data_type != "TIMESTAMP":
                values[-3:] = [v.replace(tzinfo=UTC) for v in values[-3:]]
    expectation = gxe.ExpectColumnValuesToBeBetween(column="v", min_value=low, max_value=high)
    check(batch_definition, data_type, values, expectation, exact=True)


# -------------------------------------------------------------------------------- in set, not null

TEXT = st.text(alphabet=st.sampled_from(list("abAB '\"é\n\t0-")), max_size=4)


@GX_EXAMPLES
@given(values=st.lists(st.none() | TEXT, max_size=30), value_set=st.lists(TEXT, max_size=5))
def test_in_set(batch_definition, values, value_set):
    check(batch_definition, "VARCHAR", values, gxe.ExpectColumnValuesToBeInSet(column="v", value_set=value_set), exact=True)


@GX_EXAMPLES
@given(data=st.data(), data_type=st.sampled_from(["VARCHAR", "DOUBLE", "DATE", "DECIMAL(18,2)"]))
def test_not_null(batch_definition, data, data_type):
    values = data.draw(st.lists(st.none() | {
        "VARCHAR": TEXT, "DOUBLE": st.floats(), "DATE": DATES, "DECIMAL(18,2)": numbers("DECIMAL(18,2)"),
    }[data_type], max_size=30))
    check(batch_definition, data_type, values, gxe.ExpectColumnValuesToNotBeNull(column="v"), exact=True)


# ------------------------------------------------------------------------------------------- regex

# Pieces of patterns, including the ones where RE2 and Python differ (which must not be translated
# into something selecting fewer rows) and some RE2 does not know at all.
ATOMS = ["a", "b", "A", "0", "é", "\\.", ".", "-", " ", "\\n", "[a-z]", "[A-Z0-9]", "[^0-9]", "[^a\\n]", "\\d",
         "\\w", "\\s", "\\D", "\\W", "\\S", "[\\d\\s]", "[^\\d]", "[[:alpha:]]", "\\b", "(?i)a", "(?=a)", "(a)\\1",
         "\\u00e9", "\\x41", "\\Z", "\\A", "[]a]", "[a-]"]
QUANTIFIERS = ["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?", "{2,1001}"]
REGEX_TEXT = st.text(alphabet=st.sampled_from(list("abAB0١ é.-\n_[]:")), max_size=6)


@st.composite
def patterns(draw):
    def piece():
        return draw(st.sampled_from(ATOMS)) + draw(st.sampled_from(QUANTIFIERS))

    branches = [
        "".join(piece() for _ in range(draw(st.integers(0, 3))))
        for _ in range(draw(st.integers(1, 2)))
    ]
    body = "|".join(branches)
    if draw(st.booleans()):
        body = f"(?:{body})" if draw(st.booleans()) else f"({body})"
    return draw(st.sampled_from(["", "^"])) + body + draw(st.sampled_from(["", "$"]))


def valid_python(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


RE2 = duckdb.connect()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # "possible nested set": Python's reading is the one kept
@settings(max_examples=600, deadline=None)
@given(pattern=patterns(), texts=st.lists(REGEX_TEXT, min_size=1, max_size=20))
def test_an_re2_match_of_the_rewritten_pattern_is_a_python_match(pattern, texts):
    rewritten = re2_pattern(pattern)
    if rewritten is None or not valid_python(pattern):
        return
    [matches] = RE2.execute("SELECT list_transform($texts, lambda t: regexp_matches(t, $pattern))",
                            {"texts": texts, "pattern": rewritten}).fetchone()
    for text, re2_match in zip(texts, matches):
        if re2_match:
            assert re.search(pattern, text), (pattern, rewritten, text)
        elif "\n" not in text and not re.search(r"[١é]", text) and not re.search(r"\\[dws]", pattern):
            # Where neither dialect's differences apply, the two agree both ways.
            assert not re.search(pattern, text), (pattern, rewritten, text)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:This pattern is interpreted as a regular expression")
@GX_EXAMPLES
@given(pattern=patterns(), values=st.lists(st.none() | REGEX_TEXT, max_size=20))
def test_match_regex(batch_definition, pattern, values):
    if not valid_python(pattern):
        return
    expectation = gxe.ExpectColumnValuesToMatchRegex(column="v", regex=pattern)
    con = table("VARCHAR", values)
    unexpected = gx_unexpected(batch_definition, con, "VARCHAR", expectation)
    assert unexpected <= selected(con, "VARCHAR", expectation)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_the_suites_patterns_are_translated_exactly():
    for pattern in [r"^[EWSN][0-9]{8}$", r"^[A-Z0-9]{8}$", r"^[0-9]+$", r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$",
                    r"^(?:GB-COH-[A-Z0-9]{8}|NAME-.+)$"]:
        assert re2_pattern(pattern) is not None, pattern
    for pattern in [r"\bx", r"(?i)x", r"(?=x)", r"(x)\1", r"[^\d]", r"\D", "x{1001}", 12]:
        assert re2_pattern(pattern) is None, pattern
    # Text both dialects accept but read differently keeps Python's meaning: to RE2 this is the class
    # of letters, to Python a set of five characters followed by "]".
    posix = re2_pattern("[[:alpha:]]")
    con = duckdb.connect()
    assert con.execute("SELECT regexp_matches('a]', ?), regexp_matches('b', ?)", [posix, posix]).fetchone() == (True, False)


# ------------------------------------------------------------------------------------ what selects all

def test_what_cannot_be_translated_selects_every_row_or_none():
    columns = {"v": "VARCHAR", "n": "DOUBLE", "d": "DATE"}
    every_row = [
        gxe.ExpectColumnValuesToNotBeNull(column="v", mostly=0.9),  # success depends on all rows
        gxe.ExpectColumnValueLengthsToBeBetween(column="v", min_value=1),  # no translation
        gxe.ExpectColumnValuesToBeInSet(column="n", value_set=[1.0]),  # only text sets are translated
        gxe.ExpectColumnValuesToMatchRegex(column="v", regex=r"\bx"),
        gxe.ExpectColumnValuesToBeBetween(column="d", min_value=datetime(2000, 1, 1, tzinfo=UTC)),
        gxe.ExpectColumnValuesToBeBetween(column="n", min_value={"$PARAMETER": "not_given"}),
    ]
    for expectation in every_row:
        assert candidate_condition(expectation, columns, {}) == ALL_ROWS, expectation
    # GX reports a missing column whatever rows it sees.
    assert candidate_condition(gxe.ExpectColumnValuesToNotBeNull(column="gone"), columns, {}) == NO_ROWS
    # Parameters are resolved as GX resolves them.
    window = gxe.ExpectColumnValuesToBeBetween(column="d", min_value={"$PARAMETER": "earliest"})
    assert "TIMESTAMP '2000-01-01 00:00:00'" in candidate_condition(window, columns, {"earliest": datetime(2000, 1, 1)})
    assert quote('a"b') == '"a""b"'
