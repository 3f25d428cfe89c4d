"""The validation gate: run the GX checkpoints of `expectations/suites.py` over the working DB.

GX 1.x cannot run expectations on DuckDB through SQLAlchemy (every expectation fails with
IndexError upstream), so the data reaches GX as pandas DataFrames through one pandas data source
with whole-dataframe batch definitions:

- schema suites see the table's zero-row frame;
- row suites see the table streamed out of DuckDB in chunks of `chunk_rows` rows, holding only the
  columns the expectations use, so peak memory is bounded by the chunk, not the table (3.7 GB peak
  validating 10M payments and 10M fact rows in full, in chunks of 250k);
- check suites see one row of violation counts that DuckDB computed (under its own memory limit)
  for every whole-table check, plus the table's row count for the drift check.

Row expectations are facts about single rows, so after a passing validation the next one evaluates them
only on the rows each suite's `changed_since` condition selects - the rows loaded or rebuilt since that
validation started - which is what keeps a nightly validation proportional to the night's new data.
Every row is evaluated again when there is no earlier passing validation under the same suites
(`expectations/suites.py` changed); a full dbt rebuild marks every fct_payments row as attributed anew.
Whole-table checks that a changed row alone can break (keys unique, a release's JSON matching its keys)
look at the changed rows the same way (`SqlCheck.changed_sql`); the others, the schema and the drift
check always read the whole table.

Each (table, suite) pair is a GX Checkpoint, because a checkpoint run takes one set of batch
parameters (one DataFrame) for all its validation definitions. All checkpoints of one validation
share a GX run name, every result is stored by GX under `$PROCUREMENT_HOME/gx/uncommitted/validations/`,
and Data Docs are rebuilt once at the end. Row counts of a passing validation go to
`ops.validation_row_counts`, the baseline of the next run's drift check.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
import great_expectations.expectations as gxe

from expectations.suites import SUITES, SqlCheck, TableSuite
from flows.config import Settings

DATA_SOURCE = "procurement_duckdb"
# 10M payments and 10M facts validated in full: 158 s and 3.7 GB peak RSS with these, 227 s and 5.1 GB
# with chunks of 500k and 2 GB (benchmarks/README.md).
DEFAULT_CHUNK_ROWS = 250_000
DUCKDB_MEMORY_LIMIT = "1GB"
EARLIEST_PLAUSIBLE_DATE = datetime(2000, 1, 1)
_DUCKDB_VECTOR = 2048  # rows per DuckDB vector; fetch_df_chunk counts in vectors
_SAMPLE_ROWS = 5
KEEP_RUNS = 30  # validation runs whose GX results and Data Docs pages are kept

SUITES_FILE = Path(__file__).resolve().parent.parent / "expectations" / "suites.py"
STATE_DDL = """
CREATE TABLE IF NOT EXISTS ops.validation_state (
    run_id       VARCHAR NOT NULL,
    suites_hash  VARCHAR NOT NULL,
    validated_at TIMESTAMPTZ NOT NULL
)
"""
COUNTS_DDL = """
CREATE TABLE IF NOT EXISTS ops.validation_row_counts (
    run_id       VARCHAR NOT NULL,
    table_name   VARCHAR NOT NULL,
    row_count    BIGINT NOT NULL,
    validated_at TIMESTAMPTZ NOT NULL
)
"""


class ValidationError(RuntimeError):
    """Validation could not run at all (as opposed to running and failing)."""


@dataclass(frozen=True)
class FailedExpectation:
    table: str
    suite: str  # GX suite name, e.g. marts.sme_spend.checks
    expectation: str  # e.g. sme_large_unknown_sum_to_total or expect_column_values_to_not_be_null(ocid)
    details: str

    def __str__(self) -> str:
        return f"{self.table}: {self.expectation}: {self.details}"


@dataclass(frozen=True)
class ValidationReport:
    passed: bool
    run_id: str
    failures: list[FailedExpectation]
    expectations_evaluated: int
    row_counts: dict[str, int]
    result_path: Path  # this validation's summary JSON
    data_docs_index: Path
    gx_result_ids: list[str] = field(default_factory=list)
    skipped_tables: list[str] = field(default_factory=list)  # optional tables that do not exist
    # Row expectations saw only rows changed since this time (the last passing validation); None: all rows.
    rows_changed_since: datetime | None = None
    rows_checked: dict[str, int] = field(default_factory=dict)  # table -> rows the row expectations saw

    @property
    def failed_expectations(self) -> list[str]:
        return [f"{f.table}: {f.expectation}" for f in self.failures]


def gx_root(settings: Settings) -> Path:
    return settings.home / "gx"


def data_docs_index(settings: Settings) -> Path:
    return gx_root(settings) / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _context(settings: Settings):
    settings.home.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(settings.home))
    # The nightly job runs unattended and offline: no usage analytics, no progress bars in logs.
    if context.variables.analytics_enabled is not False or context.variables.progress_bars is None:
        context.variables.analytics_enabled = False
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    # GX re-reads and re-parses this YAML on every configuration lookup (over a thousand times a
    # validation); the pipeline defines no config variables, and without the file GX uses none.
    (gx_root(settings) / "uncommitted" / "config_variables.yml").unlink(missing_ok=True)
    return context


def _expectation_name(expectation: gxe.Expectation) -> str:
    column = getattr(expectation, "column", None)
    name = f"{expectation.expectation_type}({column})" if column else expectation.expectation_type
    condition = getattr(expectation, "row_condition", None)
    return f"{name} where {condition!r}" if condition else name


def _min_rows_parameter(table: str) -> str:
    return "min_rows__" + table.replace(".", "__")


def _named(expectation: gxe.Expectation, name: str) -> gxe.Expectation:
    # A fresh copy: GX gives expectations ids when they join a suite, and the declarations are shared.
    copy = expectation.copy(deep=True, update={"id": None})
    copy.meta = {**(copy.meta or {}), "name": name}
    return copy


def _check_expectation(check: SqlCheck) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=check.name,
        min_value=0,
        max_value=0,
        description=check.description,
        meta={"name": check.name, "sql": check.sql},
    )


def _suite_expectations(suite: TableSuite) -> dict[str, list[gxe.Expectation]]:
    schema = [
        _named(gxe.ExpectTableColumnsToMatchSet(column_set=suite.columns, exact_match=False), "contract_columns_present")
    ]
    rows = [_named(e, _expectation_name(e)) for e in suite.rows]
    checks = [_check_expectation(c) for c in suite.checks]
    if suite.max_shrink is not None:
        checks.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="row_count",
                min_value={"$PARAMETER": _min_rows_parameter(suite.table)},
                description=f"the table has not shrunk by more than {suite.max_shrink:.0%} since the last passing validation",
                meta={"name": "row_count_drift"},
            )
        )
    return {"schema": schema, "rows": rows, "checks": checks}


def _register(context, suites: Sequence[TableSuite]) -> dict[tuple[str, str], Any]:
    """Add or update data assets, suites, validation definitions and checkpoints; return the checkpoints."""
    source = context.data_sources.add_or_update_pandas(DATA_SOURCE)
    existing_assets = {a.name: a for a in source.assets}
    checkpoints = {}
    for suite in suites:
        asset = existing_assets.get(suite.table) or source.add_dataframe_asset(suite.table)
        existing_batches = {b.name: b for b in asset.batch_definitions}
        for kind, expectations in _suite_expectations(suite).items():
            if not expectations:
                continue
            name = f"{suite.table}.{kind}"
            batch = existing_batches.get(kind) or asset.add_batch_definition_whole_dataframe(kind)
            gx_suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=name, data=batch, suite=gx_suite)
            )
            checkpoints[(suite.table, kind)] = context.checkpoints.add_or_update(
                gx.Checkpoint(name=name, validation_definitions=[definition], result_format="SUMMARY")
            )
    return checkpoints


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return dict(rows)


def _condition_columns(condition: Any) -> set[str]:
    if condition is None:
        return set()
    if hasattr(condition, "conditions"):
        return set().union(*(_condition_columns(c) for c in condition.conditions))
    return {condition.column.name}


def _needed_columns(suite: TableSuite, present: dict[str, str]) -> list[str]:
    """Only the columns the row expectations read (or filter on) leave DuckDB."""
    needed = set()
    for e in suite.rows:
        if getattr(e, "column", None):
            needed.add(e.column)
        needed |= _condition_columns(getattr(e, "row_condition", None))
    return [c for c in present if c in needed]


_DATETIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"}


def _select_item(column: str, data_type: str) -> str:
    """Dates and times leave DuckDB as naive UTC timestamps inside pandas' nanosecond range.

    GX compares a datetime64[ns] column with the date window vectorised, but any other datetime
    column one Python call per row (a minute per few million rows). A value outside 1678-2261
    cannot be a datetime64[ns]; it is clamped to that edge, which still fails the window check.
    """
    quoted = '"' + column.replace('"', '""') + '"'
    if data_type not in _DATETIME_TYPES:
        return quoted
    utc = f"timezone('UTC', {quoted})" if data_type == "TIMESTAMP WITH TIME ZONE" else f"CAST({quoted} AS TIMESTAMP)"
    return f"least(greatest({utc}, TIMESTAMP '1678-01-01'), TIMESTAMP '2261-12-31') AS {quoted}"


def _changed_rows(con: duckdb.DuckDBPyConnection, suite: TableSuite, since: datetime | None) -> str | None:
    """A query of the suite's rows changed since `since` (with `$since` to bind), or None when all rows
    must be checked: no earlier pass, no condition, or a condition reading a table this working DB lacks
    (one not built by dbt)."""
    if since is None or suite.changed_since is None:
        return None
    changed = f"(SELECT * FROM {suite.table} WHERE {suite.changed_since})"
    try:
        con.execute(f"SELECT 1 FROM {changed} LIMIT 0", {"since": since}).fetchall()
    except duckdb.CatalogException:
        return None
    return changed


def _chunks(
    con: duckdb.DuckDBPyConnection, rows: str, columns: dict[str, str], chunk_rows: int, params: dict[str, Any]
) -> Iterator[pd.DataFrame]:
    """`rows` (a table or a query binding `params`) as DataFrames of at most about chunk_rows rows; at
    least one frame, even if empty."""
    select = ", ".join(_select_item(c, t) for c, t in columns.items())
    datetimes = [c for c, t in columns.items() if t in _DATETIME_TYPES]
    con.execute(f"SELECT {select} FROM {rows}", params)
    vectors = max(1, math.ceil(chunk_rows / _DUCKDB_VECTOR))
    first = True
    while True:
        frame = con.fetch_df_chunk(vectors)
        for column in datetimes:
            frame[column] = frame[column].astype("datetime64[ns]")
        if len(frame) == 0 and not first:
            return
        yield frame
        if len(frame) == 0:
            return
        first = False


def _prune_history(settings: Settings, keep: int) -> list[str]:
    """Drop GX results, Data Docs pages and summaries of all but the newest `keep` validation runs.

    Without this every nightly run adds ~40 result files forever, and the Data Docs index, which
    GX rebuilds from every stored result, grows slower each night. Returns the run ids removed.
    """
    summaries = sorted((gx_root(settings) / "uncommitted" / "run_summaries").glob("*.json"), key=lambda p: p.stat().st_mtime)
    old = summaries[: max(0, len(summaries) - keep)]
    stores = [gx_root(settings) / "uncommitted" / "validations", data_docs_index(settings).parent / "validations"]
    for summary in old:
        run_name = glob.escape(summary.stem)
        for store in stores:
            # results are stored as <schema>/<table>/<suite kind>/<run name>/...
            for run_dir in store.glob(f"*/*/*/{run_name}"):
                shutil.rmtree(run_dir)
        summary.unlink()
    return [p.stem for p in old]


def _count_violations(
    con: duckdb.DuckDBPyConnection, check: SqlCheck, changed: str | None, since: datetime | None
) -> tuple[int, str]:
    """(violating rows, details); -1 when the check's query itself fails, which fails the check.
    `changed`: the query of the rows changed since `since`, the last pass (see `_changed_rows`), or None."""
    sql, params = check.sql, {}
    if changed is not None and check.changed_sql is not None:
        sql, params = check.changed_sql.replace("{changed}", changed), {"since": since}
    try:
        n = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
        if n == 0:
            return 0, ""
        cursor = con.execute(f"SELECT * FROM ({sql}) LIMIT {_SAMPLE_ROWS}", params)
        names = [d[0] for d in cursor.description]
        sample = [dict(zip(names, (str(v) if v is not None else None for v in row))) for row in cursor.fetchall()]
        return n, f"{n} violating row(s), e.g. {json.dumps(sample)}"
    except duckdb.Error as exc:
        return -1, f"check query failed: {exc}"


def _previous_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(COUNTS_DDL)
    rows = con.execute(
        "SELECT table_name, row_count FROM ops.validation_row_counts "
        "QUALIFY row_number() OVER (PARTITION BY table_name ORDER BY validated_at DESC) = 1"
    ).fetchall()
    return dict(rows)


def suites_hash() -> str:
    return hashlib.sha256(SUITES_FILE.read_bytes()).hexdigest()


def rows_changed_since(con: duckdb.DuckDBPyConnection, suites_digest: str) -> datetime | None:
    """When the last passing validation under these suites started; None when every row must be validated."""
    con.execute(STATE_DDL)
    return con.execute(
        "SELECT max(validated_at) FROM ops.validation_state WHERE suites_hash = ?", [suites_digest]
    ).fetchone()[0]


def _find_exception(info: Any) -> str | None:
    if isinstance(info, dict):
        if info.get("raised_exception") and info.get("exception_message"):
            return str(info["exception_message"])
        for value in info.values():
            found = _find_exception(value)
            if found:
                return found
    return None


class _Tally:
    """Collects expectation outcomes across checkpoints and chunks, one entry per expectation."""

    def __init__(self) -> None:
        self.evaluated: dict[tuple[str, str, str], bool] = {}
        self.unexpected: dict[tuple[str, str, str], int] = {}
        self.details: dict[tuple[str, str, str], str] = {}
        self.result_ids: list[Any] = []  # GX ValidationResultIdentifiers

    def add(self, table: str, suite: str, checkpoint_result, check_details: dict[str, str]) -> None:
        for result_id, suite_result in checkpoint_result.run_results.items():
            self.result_ids.append(result_id)
            for r in suite_result.results:
                name = (r.expectation_config.meta or {}).get("name") or r.expectation_config.type
                key = (table, suite, name)
                self.evaluated[key] = self.evaluated.get(key, True) and bool(r.success)
                if r.success:
                    continue
                result = r.result or {}
                self.unexpected[key] = self.unexpected.get(key, 0) + int(result.get("unexpected_count") or 0)
                if key in self.details and "unexpected_count" in result:
                    continue
                self.details[key] = check_details.get(name) or self._describe(r, result)

    @staticmethod
    def _describe(r, result: dict) -> str:
        exception = _find_exception(r.exception_info)
        if exception:
            return f"could not be evaluated: {exception}"
        if "partial_unexpected_list" in result:
            sample = [str(v) for v in result["partial_unexpected_list"][:_SAMPLE_ROWS]]
            return f"unexpected values, e.g. {sample}"
        if "details" in result:
            return f"observed {result.get('observed_value')}; {json.dumps(result['details'], default=str)}"
        return f"observed {result.get('observed_value')}" if "observed_value" in result else "failed"

    def failures(self) -> list[FailedExpectation]:
        out = []
        for key, ok in self.evaluated.items():
            if ok:
                continue
            table, suite, name = key
            details = self.details.get(key, "failed")
            if self.unexpected.get(key):
                details = f"{self.unexpected[key]} unexpected row(s); {details}"
            out.append(FailedExpectation(table=table, suite=suite, expectation=name, details=details))
        return out


def validate(
    settings: Settings,
    run_id: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    suites: Sequence[TableSuite] = SUITES,
    keep_runs: int = KEEP_RUNS,
) -> ValidationReport:
    """Run every suite over the working DB; save GX results and Data Docs; never raises on bad data."""
    if not settings.work_db.exists():
        raise ValidationError(f"no working database at {settings.work_db}; run ingest and transform first")
    started = datetime.now(timezone.utc)
    run_id = run_id or f"validate-{started:%Y%m%dT%H%M%SZ}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_id):
        # It names files and folders of GX results and of the run summary.
        raise ValueError(f"run id must be letters, digits, '.', '_' or '-', got {run_id!r}")
    context = _context(settings)
    checkpoints = _register(context, suites)
    tally = _Tally()
    row_counts: dict[str, int] = {}

    # Shares the DuckDB instance of any connection the caller holds on the working DB (a process can
    # open a file through one instance only), so the caller's memory limit is given back afterwards:
    # RESET when it was DuckDB's default (exact), else the value as DuckDB reports it (0.1 GiB steps).
    con = duckdb.connect(str(settings.work_db))
    memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("RESET memory_limit")
    restore_memory_limit = (
        "RESET memory_limit"
        if con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == memory_limit
        else f"SET memory_limit = '{memory_limit}'"
    )
    try:
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        previous = _previous_counts(con)
        digest = suites_hash()
        since = rows_changed_since(con, digest)
        rows_checked: dict[str, int] = {}
        parameters: dict[str, Any] = {
            "earliest_plausible_date": EARLIEST_PLAUSIBLE_DATE,
            "latest_plausible_date": datetime.combine(date.today() + timedelta(days=366), datetime.min.time()),
        }
        for suite in suites:
            if suite.max_shrink is not None:
                baseline = previous.get(suite.table, 0)
                parameters[_min_rows_parameter(suite.table)] = math.floor(baseline * (1 - suite.max_shrink))

        def run(
            suite: TableSuite, kind: str, frame: pd.DataFrame, check_details: dict[str, str] | None = None, chunk: int = 0
        ):
            checkpoint = checkpoints.get((suite.table, kind))
            if checkpoint is None:
                return
            # GX keys a stored result by (suite, run name, run time, batch); every chunk of a table is
            # the same batch, so each chunk gets its own run time (1 µs apart) to be stored, not overwritten.
            gx_run = RunIdentifier(run_name=run_id, run_time=started + timedelta(microseconds=chunk))
            result = checkpoint.run(
                batch_parameters={"dataframe": frame}, expectation_parameters=parameters, run_id=gx_run
            )
            tally.add(suite.table, f"{suite.table}.{kind}", result, check_details or {})

        skipped: list[str] = []
        for suite in suites:
            present = _columns(con, suite.table)
            if not present and not suite.required:
                skipped.append(suite.table)
                continue
            run(suite, "schema", pd.DataFrame(columns=list(present)))
            if not present:
                continue  # the schema failure names the missing table; nothing else can run on it
            changed = _changed_rows(con, suite, since)
            row_columns = {c: present[c] for c in _needed_columns(suite, present)}
            if row_columns:
                rows, params = (suite.table, {}) if changed is None else (changed, {"since": since})
                rows_checked[suite.table] = 0
                for chunk, frame in enumerate(_chunks(con, rows, row_columns, chunk_rows, params)):
                    run(suite, "rows", frame, chunk=chunk)
                    rows_checked[suite.table] += len(frame)
            row_counts[suite.table] = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
            counts: dict[str, int] = {}
            details: dict[str, str] = {}
            for check in suite.checks:
                counts[check.name], details[check.name] = _count_violations(con, check, changed, since)
            if suite.max_shrink is not None:
                counts["row_count"] = row_counts[suite.table]
                details["row_count_drift"] = (
                    f"{row_counts[suite.table]} rows now, {previous.get(suite.table)} at the last passing validation "
                    f"(at most {suite.max_shrink:.0%} shrink allowed)"
                )
            if counts:
                run(suite, "checks", pd.DataFrame([counts]), details)

        failures = tally.failures()
        passed = not failures
        if passed:
            con.executemany(
                "INSERT INTO ops.validation_row_counts VALUES (?, ?, ?, ?)",
                [[run_id, t, n, started] for t, n in row_counts.items()],
            )
            con.execute("INSERT INTO ops.validation_state VALUES (?, ?, ?)", [run_id, digest, started]).fetchall()
    finally:
        con.execute(restore_memory_limit)
        con.close()

    summary_path = gx_root(settings) / "uncommitted" / "run_summaries" / f"{run_id}.json"
    report = ValidationReport(
        passed=passed,
        run_id=run_id,
        failures=failures,
        expectations_evaluated=len(tally.evaluated),
        row_counts=row_counts,
        result_path=summary_path,
        data_docs_index=data_docs_index(settings),
        gx_result_ids=[str(r) for r in tally.result_ids],
        skipped_tables=skipped,
        rows_changed_since=since,
        rows_checked=rows_checked,
    )
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = summary_path.with_name(summary_path.name + ".part")
    tmp.write_text(json.dumps({**asdict(report), "started_at": started.isoformat()}, indent=2, default=str))
    tmp.replace(summary_path)

    _prune_history(settings, keep_runs)
    # Render only this run's pages (and the index): re-rendering every stored result would make each
    # nightly run slower than the last.
    context.build_data_docs(
        resource_identifiers=[
            *tally.result_ids,
            *(ExpectationSuiteIdentifier(name=cp.validation_definitions[0].suite.name) for cp in checkpoints.values()),
        ]
    )
    return report
