"""The validation gate: run the GX checkpoints of `expectations/suites.py` over the working DB.

GX 1.x cannot run expectations on DuckDB through SQLAlchemy (every expectation fails with
IndexError upstream), so the data reaches GX as pandas DataFrames through one pandas data source
with whole-dataframe batch definitions. Each table has two checkpoints:

- `<table>.rows` validates the suites `<table>.schema` (the contract's columns) and `<table>.rows`
  (row expectations) on the rows that could fail a row expectation, with all the table's columns.
  DuckDB picks those rows with one scan (`expectations/candidates.py`: for each declared expectation a
  condition true for every row GX would count as unexpected, e.g. `amount_gbp` outside its bounds, a
  `company_number` not matching its pattern) - usually none. GX then evaluates the real expectations on
  them, so its unexpected counts and sample values are exact: rows outside the selection pass every row
  expectation, and each row expectation counts rows one at a time. Counting the violations in SQL and
  letting GX check a one-row frame of counts (as the whole-table checks do) was the other way; it would
  show GX a stand-in expectation instead of the declared one, and GX would never see an unexpected value.
  The selection is streamed in frames of about `chunk_rows` rows, so a table broken everywhere is
  still validated in bounded memory.
- `<table>.checks` sees one row of violation counts that DuckDB computed (under its own memory limit)
  for every whole-table check, plus the table's row count for the drift check. DuckDB counts them on a
  cursor of its own, in a thread, while GX validates the rows.

Row expectations are facts about single rows, so after a passing validation the next one looks only at
the rows each suite's `changed_since` condition selects - the rows loaded or rebuilt since that
validation started - which is what keeps a nightly validation proportional to the night's new data.
Every row is looked at again when there is no earlier passing validation under the same suites
(`expectations/suites.py` or `expectations/candidates.py` changed); a full dbt rebuild marks every
fct_payments row as attributed anew. Whole-table checks that a changed row alone can break (keys unique,
and facts about single rows: a release's JSON matching its keys, a month matching its date) look at the
changed rows the same way (`SqlCheck.changed_sql`); the others, the schema and the drift check always
read the whole table. fct_payments is a view of the incremental model's columns: its changed rows are read
from that model's table (`TableSuite.changed_from`), where DuckDB skips the row groups attributed before.

GX objects (data assets, suites, validation definitions, checkpoints) are written only when the suites
changed (a digest of them is kept beside the GX project): re-registering them rewrote some hundred JSON
and YAML files on every run. All checkpoints of one validation share a GX run name, every result is
stored by GX under `$PROCUREMENT_HOME/gx/uncommitted/validations/`, and Data Docs are rendered once at
the end, for this run's results (and the suites' pages when they changed). Row counts of a passing
validation go to `ops.validation_row_counts`, the baseline of the next run's drift check.

GX is imported by `validate()`, not with this module (the pipeline and the CLI import it for every
command), and its import leaves `scipy.stats` and `altair` to load on first use: GX imports them whole
but uses them only in expectations the suites do not declare. GX's import is most of a small
validation's cost: ~5-6 CPU-s, ~1.5-2 of them those two.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import math
import re
import shutil
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from flows.config import Settings

if TYPE_CHECKING:  # imported when validating (see _import_great_expectations), not with this module
    import great_expectations.expectations as gxe
    import pandas as pd

    from expectations.suites import SqlCheck, TableSuite

DATA_SOURCE = "procurement_duckdb"
# Rows handed to GX at once when many rows could fail (a table broken everywhere); GX's pandas
# evaluation held ~3.7 GB for 250k rows of the needed columns, and these frames carry every column.
DEFAULT_CHUNK_ROWS = 100_000
DUCKDB_MEMORY_LIMIT = "1GB"
EARLIEST_PLAUSIBLE_DATE = datetime(2000, 1, 1)
_DUCKDB_VECTOR = 2048  # rows per DuckDB vector; fetch_df_chunk counts in vectors
_SAMPLE_ROWS = 5
KEEP_RUNS = 30  # validation runs whose GX results and Data Docs pages are kept
# Runs the Data Docs index lists. GX builds the index by reading every result it lists: all 30 kept runs
# (~1,000 results) took ~3.5 CPU-s a night, a week of runs ~0.8 s. Older pages stay until pruned.
DOCS_INDEX_RUNS = 7
# GX's BASIC results carry each expectation's unexpected count and up to 20 unexpected values, all the
# report quotes. SUMMARY added the unexpected rows' index in the frame GX saw, which is not their place
# in the table (GX sees only the rows that could fail), and cost a third more per expectation.
RESULT_FORMAT = "BASIC"

EXPECTATIONS = Path(__file__).resolve().parent.parent / "expectations"
# What a passing validation vouched for: the suites and the selection of rows that could fail them.
SUITES_FILES = (EXPECTATIONS / "suites.py", EXPECTATIONS / "candidates.py")
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


# Modules GX imports whole but uses only inside expectations the suites never declare (the KL-divergence
# and KS-test expectations and their charts): ~1.5-2 CPU-s of GX's ~5-6 CPU-s import, on every validation.
DEFERRED_MODULES = ("scipy.stats", "altair")
_DEFERRED_LOCK = threading.Lock()


class _LoadedOnFirstUse(types.ModuleType):
    """A module whose code runs when an attribute it lacks is first read (before its code ran, it
    lacks all but the import system's own: __spec__, __path__, ...). Unlike the standard library's
    LazyLoader, whose modules load on any attribute, `import altair as alt` does not load it: the
    import system reads __spec__ of a module already in sys.modules."""

    def __getattr__(self, name: str) -> Any:
        with _DEFERRED_LOCK:
            if type(self) is _LoadedOnFirstUse:
                self.__class__ = types.ModuleType
                try:
                    self.__spec__.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(self.__name__, None)  # as a failed import leaves it
                    raise
        return getattr(self, name)


def _defer_import(name: str) -> None:
    """Put `name` in sys.modules as a module that runs its code on first use; nothing if already imported."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return  # not installed: GX reports it if it needs it
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LoadedOnFirstUse
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def _import_great_expectations() -> None:
    """Import GX for a validation. Not at module import: the pipeline and the CLI import this module
    for every command, and GX's import alone is ~5 CPU-s."""
    for name in DEFERRED_MODULES:
        _defer_import(name)
    import great_expectations  # noqa: F401


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
    rows_checked: dict[str, int] = field(default_factory=dict)  # table -> rows the row expectations covered
    # table -> rows of those that DuckDB found could fail a row expectation, which GX evaluated
    rows_to_gx: dict[str, int] = field(default_factory=dict)

    @property
    def failed_expectations(self) -> list[str]:
        return [f"{f.table}: {f.expectation}" for f in self.failures]


def gx_root(settings: Settings) -> Path:
    return settings.home / "gx"


def data_docs_index(settings: Settings) -> Path:
    return gx_root(settings) / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

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
    import great_expectations.expectations as gxe

    # The frame has one row, so its maximum is the count itself (GX shows it as the observed value); a
    # column aggregate costs GX a third of a per-row expectation.
    return gxe.ExpectColumnMaxToBeBetween(
        column=check.name,
        min_value=0,
        max_value=0,
        description=check.description,
        meta={"name": check.name, "sql": check.sql},
    )


def _suite_expectations(suite: TableSuite) -> dict[str, list[gxe.Expectation]]:
    import great_expectations.expectations as gxe

    schema = [
        _named(gxe.ExpectTableColumnsToMatchSet(column_set=suite.columns, exact_match=False), "contract_columns_present")
    ]
    rows = [_named(e, _expectation_name(e)) for e in suite.rows]
    checks = [_check_expectation(c) for c in suite.checks]
    if suite.max_shrink is not None:
        checks.append(
            gxe.ExpectColumnMaxToBeBetween(
                column="row_count",
                min_value={"$PARAMETER": _min_rows_parameter(suite.table)},
                description=f"the table has not shrunk by more than {suite.max_shrink:.0%} since the last passing validation",
                meta={"name": "row_count_drift"},
            )
        )
    return {"schema": schema, "rows": rows, "checks": checks}


def _checkpoint_plan(suites: Sequence[TableSuite]) -> dict[tuple[str, str], list[tuple[str, list[gxe.Expectation]]]]:
    """(table, checkpoint kind) -> the (GX suite name, expectations) its checkpoint validates, in order.

    The schema and row suites share a checkpoint: both look at the same frame (the rows that could
    fail, with every column of the table)."""
    plan = {}
    for suite in suites:
        kinds = _suite_expectations(suite)
        plan[(suite.table, "rows")] = [(f"{suite.table}.{k}", kinds[k]) for k in ("schema", "rows") if kinds[k]]
        if kinds["checks"]:
            plan[(suite.table, "checks")] = [(f"{suite.table}.checks", kinds["checks"])]
    return plan


def _plan_digest(plan: dict[tuple[str, str], list[tuple[str, list[gxe.Expectation]]]]) -> str:
    import great_expectations as gx

    declared = [
        [list(key), [[name, [e.configuration.to_json_dict() for e in expectations]] for name, expectations in defs]]
        for key, defs in plan.items()
    ]
    return hashlib.sha256(
        json.dumps([gx.__version__, RESULT_FORMAT, declared], sort_keys=True, default=str).encode()
    ).hexdigest()


def _checkpoints(settings: Settings, context, suites: Sequence[TableSuite]) -> tuple[dict[tuple[str, str], Any], bool]:
    """The checkpoints of `suites`, keyed (table, kind), and whether they were (re-)registered now.

    Registering rewrites every suite, validation definition and checkpoint file and the project YAML
    once per data asset; it is done only when the declared suites differ from the last registration
    (or a stored object is missing)."""
    import great_expectations as gx

    plan = _checkpoint_plan(suites)
    digest = _plan_digest(plan)
    marker = gx_root(settings) / "uncommitted" / "registered_suites.sha256"
    if marker.exists() and marker.read_text() == digest:
        try:
            return {key: context.checkpoints.get(f"{key[0]}.{key[1]}") for key in plan}, False
        except gx.exceptions.GreatExpectationsError:
            pass  # a stored object is missing or unreadable: register again
    try:
        source = context.data_sources.get(DATA_SOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(DATA_SOURCE)
    checkpoints = {}
    for (table, kind), defs in plan.items():
        # get_asset binds the asset to this data source (and context); `source.assets` does not.
        asset = source.get_asset(table) if table in source.get_asset_names() else source.add_dataframe_asset(table)
        batch = (
            asset.get_batch_definition(kind)
            if kind in {b.name for b in asset.batch_definitions}
            else asset.add_batch_definition_whole_dataframe(kind)
        )
        # Adding the checkpoint adds or updates its validation definitions and their suites; adding
        # those first as well wrote each again (and the project YAML once more per definition).
        definitions = [
            gx.ValidationDefinition(name=name, data=batch, suite=gx.ExpectationSuite(name=name, expectations=expectations))
            for name, expectations in defs
        ]
        checkpoints[(table, kind)] = context.checkpoints.add_or_update(
            gx.Checkpoint(name=f"{table}.{kind}", validation_definitions=definitions, result_format=RESULT_FORMAT)
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest)
    return checkpoints, True


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return dict(rows)


def _changed_rows(
    con: duckdb.DuckDBPyConnection, suite: TableSuite, since: datetime | None, columns: dict[str, str]
) -> str | None:
    """A query of the suite's rows changed since `since` (with `$since` to bind), or None when all rows
    must be checked: no earlier pass, no condition, or a condition reading a table this working DB lacks
    (one not built by dbt). `columns`: the suite's table's columns and types; rows read from another
    table (`changed_from`) have those columns, and all rows are checked when it lacks one or has another type."""
    if since is None or suite.changed_since is None:
        return None
    if suite.changed_from is None:
        changed = f"(SELECT * FROM {suite.table} WHERE {suite.changed_since})"
    else:
        from expectations.candidates import quote

        source = _columns(con, suite.changed_from)
        if any(source.get(c) != t for c, t in columns.items()):
            return None
        changed = f"(SELECT {', '.join(map(quote, columns))} FROM {suite.changed_from} WHERE {suite.changed_since})"
    try:
        con.execute(f"SELECT 1 FROM {changed} LIMIT 0", {"since": since}).fetchall()
    except duckdb.CatalogException:
        return None
    return changed


def _chunks(
    con: duckdb.DuckDBPyConnection, rows: str, condition: str, columns: dict[str, str], chunk_rows: int,
    params: dict[str, Any],
) -> Iterator[pd.DataFrame]:
    """The rows of `rows` (a table or a query binding `params`) meeting `condition`, every column as
    GX receives it, as DataFrames of chunk_rows to chunk_rows + 2047 rows (the last one fewer); at least
    one frame, even if empty.

    A filtered scan returns a few rows per DuckDB vector, so vectors are gathered up to chunk_rows rows:
    each frame is one GX run."""
    import pandas as pd

    from expectations.candidates import DATETIME_TYPES, pandas_value, quote

    select = ", ".join(f"{pandas_value(c, t)} AS {quote(c)}" for c, t in columns.items())
    datetimes = [c for c, t in columns.items() if t in DATETIME_TYPES]
    con.execute(f"SELECT {select} FROM {rows} WHERE {condition}", params)
    pending: list[pd.DataFrame] = []
    yielded = False
    while True:
        missing = chunk_rows - sum(map(len, pending))
        frame = con.fetch_df_chunk(max(1, math.ceil(missing / _DUCKDB_VECTOR)))
        done = len(frame) == 0
        if not done:
            pending.append(frame)
            if len(frame) < missing:
                continue
        if pending:
            frame = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            pending = []
        elif yielded:
            return
        for column in datetimes:
            frame[column] = frame[column].astype("datetime64[ns]")
        yield frame
        yielded = True
        if done:
            return


def _limit_docs_index(context, results: int) -> None:
    """List only the newest `results` validation results in the Data Docs index (at least this run's).

    Set on the context for this build only, not saved: the limit follows the size of a run."""
    sites = context.variables.data_docs_sites
    sites["local_site"].setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    sites["local_site"]["site_index_builder"]["validation_results_limit"] = results
    context.variables.data_docs_sites = sites


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


def _all_violations(
    con: duckdb.DuckDBPyConnection, tables: list[tuple[TableSuite, dict[str, str], str | None]], since: datetime | None
) -> dict[str, dict[str, tuple[int, str]]]:
    """table -> check name -> (violating rows, details) of every whole-table check of `tables`' suites."""
    return {suite.table: {check.name: _count_violations(con, check, changed, since) for check in suite.checks}
            for suite, _, changed in tables}


def _previous_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(COUNTS_DDL)
    rows = con.execute(
        "SELECT table_name, row_count FROM ops.validation_row_counts "
        "QUALIFY row_number() OVER (PARTITION BY table_name ORDER BY validated_at DESC) = 1"
    ).fetchall()
    return dict(rows)


def suites_hash() -> str:
    digest = hashlib.sha256()
    for path in SUITES_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()


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

    def add(self, table: str, run_results: dict, check_details: dict[str, str]) -> None:
        for result_id, suite_result in run_results.items():
            self.result_ids.append(result_id)
            for r in suite_result.results:
                name = (r.expectation_config.meta or {}).get("name") or r.expectation_config.type
                key = (table, suite_result.suite_name, name)
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
    suites: Sequence[TableSuite] | None = None,
    keep_runs: int = KEEP_RUNS,
) -> ValidationReport:
    """Run every suite (default: `expectations.suites.SUITES`) over the working DB; save GX results and
    Data Docs; never raises on bad data."""
    if not settings.work_db.exists():
        raise ValidationError(f"no working database at {settings.work_db}; run ingest and transform first")
    started = datetime.now(UTC)
    run_id = run_id or f"validate-{started:%Y%m%dT%H%M%SZ}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_id):
        # It names files and folders of GX results and of the run summary.
        raise ValueError(f"run id must be letters, digits, '.', '_' or '-', got {run_id!r}")
    _import_great_expectations()
    import pandas as pd
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from expectations.candidates import candidates
    from expectations.suites import SUITES

    suites = SUITES if suites is None else suites
    context = _context(settings)
    checkpoints, registered = _checkpoints(settings, context, suites)
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
        rows_to_gx: dict[str, int] = {}
        parameters: dict[str, Any] = {
            "earliest_plausible_date": EARLIEST_PLAUSIBLE_DATE,
            "latest_plausible_date": datetime.combine(date.today() + timedelta(days=366), datetime.min.time()),
        }
        for suite in suites:
            if suite.max_shrink is not None:
                baseline = previous.get(suite.table, 0)
                parameters[_min_rows_parameter(suite.table)] = math.floor(baseline * (1 - suite.max_shrink))

        def run(suite: TableSuite, kind: str, frame: pd.DataFrame, check_details: dict[str, str] | None = None,
                chunk: int = 0, only_schema: bool = False) -> None:
            checkpoint = checkpoints.get((suite.table, kind))
            if checkpoint is None:
                return
            # GX keys a stored result by (suite, run name, run time, batch); every chunk of a table is
            # the same batch, so each chunk gets its own run time (1 µs apart) to be stored, not overwritten.
            gx_run = RunIdentifier(run_name=run_id, run_time=started + timedelta(microseconds=chunk))
            # A missing table: the schema failure names it; the row expectations cannot say more.
            definitions = checkpoint.validation_definitions[:1] if only_schema else checkpoint.validation_definitions
            results = {}
            for definition in definitions:
                # What Checkpoint.run does for a checkpoint without actions, less its freshness check: that
                # compares the checkpoint with its stored copy, which is where `_checkpoints` read it from,
                # and re-reads every definition and suite of it, three times over (~0.6 CPU-s a night).
                result = definition.run(
                    checkpoint_id=checkpoint.id, batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                    result_format=checkpoint.result_format, run_id=gx_run,
                )
                result_id = ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
                    run_id=gx_run, batch_identifier=result.batch_id,
                )
                results[result_id] = result
            tally.add(suite.table, results, check_details or {})

        skipped: list[str] = []
        tables: list[tuple[TableSuite, dict[str, str], str | None]] = []  # (suite, its columns, changed rows)
        for suite in suites:
            present = _columns(con, suite.table)
            if present:
                tables.append((suite, present, _changed_rows(con, suite, since, present)))
            elif suite.required:
                run(suite, "rows", pd.DataFrame(), only_schema=True)
            else:
                skipped.append(suite.table)
        # The whole-table checks are DuckDB queries, which let go of the GIL, and GX's runs over the rows are
        # Python: the checks run on a cursor of their own meanwhile (10M night: ~1 s of the gate's ~10).
        # The pool is left (waiting for the checks) before their cursor is closed.
        with con.cursor() as checks_cursor, ThreadPoolExecutor(max_workers=1) as pool:
            violations = pool.submit(_all_violations, checks_cursor, tables, since)
            for suite, present, changed in tables:
                row_counts[suite.table] = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
                rows, params = (suite.table, {}) if changed is None else (changed, {"since": since})
                condition = candidates(suite.rows, present, parameters) if suite.rows else "FALSE"
                # Counted first: a count reads only the columns the condition needs (and DuckDB filters them
                # in the scan), while the rows themselves are read with every column, so only when there are any.
                if changed is None:
                    checked = row_counts[suite.table]
                    flagged = con.execute(f"SELECT count(*) FROM {rows} WHERE {condition}").fetchone()[0]
                else:
                    checked, flagged = con.execute(
                        f"SELECT count(*), count(*) FILTER (WHERE {condition}) FROM {rows}", params
                    ).fetchone()
                if suite.rows:
                    rows_checked[suite.table], rows_to_gx[suite.table] = checked, flagged
                for chunk, frame in enumerate(
                        _chunks(con, rows, condition if flagged else "FALSE", present, chunk_rows, params)):
                    run(suite, "rows", frame, chunk=chunk)
            found = violations.result()
        for suite, _, _ in tables:
            counts = {name: n for name, (n, _) in found[suite.table].items()}
            details = {name: text for name, (_, text) in found[suite.table].items()}
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
        rows_to_gx=rows_to_gx,
    )
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = summary_path.with_name(summary_path.name + ".part")
    tmp.write_text(json.dumps({**asdict(report), "started_at": started.isoformat()}, indent=2, default=str))
    tmp.replace(summary_path)

    _prune_history(settings, keep_runs)
    # Render only this run's pages (and the index): re-rendering every stored result would make each
    # nightly run slower than the last. Suite pages change only when the suites do.
    suite_pages = []
    if registered or not report.data_docs_index.exists():
        suite_pages = [
            ExpectationSuiteIdentifier(name=d.suite.name) for cp in checkpoints.values() for d in cp.validation_definitions
        ]
    _limit_docs_index(context, DOCS_INDEX_RUNS * len(tally.result_ids))
    # A set: GX looks up every listed result in it, and comparing its keys in a list was ~0.3 CPU-s.
    context.build_data_docs(resource_identifiers={*tally.result_ids, *suite_pages})
    return report
