"""The Prefect flows and tasks: thin wrappers that name, retry and report the plain functions.

Import this module only after `flows.prefect_env.configure`, which Prefect needs before import.
"""

from __future__ import annotations

import dataclasses
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.config import BUNDLED_SPEND_FEEDS, Settings, load_settings
from flows.database import working_db
from flows.harvest import HarvestIncomplete, SourceUnreachable, WindowResult, date_windows, harvest, resolve_range
from flows.http import FetchError, safe_url
from flows.progress import Progress, progress
from flows.publish import PublishResult, publish
from flows.report import build_report
from flows.run_lock import run_lock
from flows.run_log import finish_run, start_run
from flows.run_summary import render_markdown, summarise
from flows.sample.server import FeedServer, running, sample_manifest
from flows.sources.ocds import CONTRACTS_FINDER, FIND_A_TENDER, SERVICES
from flows.spend import Feed, FileResult, ingest_feed, ingest_feeds, read_registry, record_publishers
from flows.spend.layout import load_synonyms
from flows.transform import BuildResult, build
from flows.validate import ValidationReport, validate

# One task per block keeps the Prefect UI readable (a month of Find a Tender is 120 windows) while
# a retry repeats at most a block, whose releases are loaded idempotently anyway.
HARVEST_BLOCK = SERVICES[CONTRACTS_FINDER].window
SPEND = "local_spend"


@dataclass
class SourceOutcome:
    source: str
    ok: bool
    message: str = ""
    releases_new: int = 0
    releases_seen: int = 0
    pages: int = 0
    files: list[FileResult] = field(default_factory=list)


@dataclass
class RunOutcome:
    run_id: str
    sources: list[SourceOutcome] = field(default_factory=list)
    transform_error: str | None = None
    validation: ValidationReport | None = None
    published: PublishResult | None = None
    publish_error: str | None = None
    report_path: Path | None = None
    summary_markdown: str = ""

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [s for s in self.sources if not s.ok]

    @property
    def message(self) -> str:
        if self.transform_error:
            return f"transform failed, nothing published: {self.transform_error}"
        if self.validation is not None and not self.validation.passed:
            return ("validation failed, nothing published: "
                    + "; ".join(self.validation.failed_expectations[:10]))
        if self.publish_error:
            return f"publishing failed, the last published warehouse is unchanged: {self.publish_error}"
        if self.published is None:
            return "nothing published"
        failed = ", ".join(s.source for s in self.failed_sources)
        return f"published {self.published.warehouse_path}" + (f" (but {failed} failed)" if failed else "")


# --- notices -------------------------------------------------------------------------------------

@task(
    name="harvest-block",
    task_run_name="harvest {source} {block_from:%Y-%m-%d %H:%M} to {block_to:%Y-%m-%d %H:%M}",
    retries=1,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,
    # The HTTP layer already retried an unreachable service; the flow reports it instead.
    retry_condition_fn=lambda task, task_run, state: not isinstance(
        state.result(raise_on_failure=False), SourceUnreachable),
)
def harvest_block(settings: Settings, source: str, block_from: datetime, block_to: datetime,
                  range_start: datetime, bar: Progress | None = None) -> tuple[int, int, int]:
    logger = get_run_logger()

    def window_done(window: WindowResult) -> None:
        if bar is not None:
            bar.advance(detail=f"{window.window_from:%Y-%m-%d %H:%M}")

    with working_db(settings) as con:
        result = harvest(settings, con, source, block_from, block_to, range_start=range_start,
                         on_window=window_done)
    logger.info("%s: %d pages, %d releases seen, %d new; watermark %s",
                SERVICES[source].label, result.pages, result.releases_seen, result.releases_new, result.watermark)
    return result.pages, result.releases_seen, result.releases_new


@flow(name="ingest-notices", flow_run_name="ingest {source}")
def ingest_notices(settings: Settings, source: str, since: datetime | None = None,
                   until: datetime | None = None) -> SourceOutcome:
    """Harvest one OCDS service; never raises, so that the nightly run carries on with other sources."""
    logger = get_run_logger()
    with working_db(settings) as con:
        since, until = resolve_range(con, source, since, until)
    outcome = SourceOutcome(source, ok=True)
    failures: list[str] = []
    windows = sum(1 for _ in date_windows(since, until, SERVICES[source].window))
    with progress(f"{SERVICES[source].label} windows", windows, key=f"harvest-{source.replace('_', '-')}") as bar:
        for block_from, block_to in date_windows(since, until, HARVEST_BLOCK):
            state = harvest_block(settings, source, block_from, block_to, since, bar, return_state=True)
            if state.is_completed():
                pages, seen, new = state.result()
                outcome.pages += pages
                outcome.releases_seen += seen
                outcome.releases_new += new
                continue
            error = state.result(raise_on_failure=False)
            if isinstance(error, HarvestIncomplete):
                outcome.pages += error.result.pages
                outcome.releases_seen += error.result.releases_seen
                outcome.releases_new += error.result.releases_new
            failures.append(str(error))
            if isinstance(error, SourceUnreachable):
                break
    if failures:
        outcome.ok = False
        outcome.message = failures[0] if len(failures) == 1 else f"{failures[0]} (and {len(failures) - 1} more)"
        logger.error(outcome.message)
    else:
        outcome.message = (f"{SERVICES[source].label}: {outcome.releases_new} new releases "
                           f"({outcome.releases_seen} seen on {outcome.pages} pages)")
        logger.info(outcome.message)
    return outcome


# --- spend -----------------------------------------------------------------------------------------

def _log_file(feed: Feed, result: FileResult) -> None:
    get_run_logger().info("%s %s: %s (%s read, %s loaded, %s rejected, %s skipped)", feed.publisher_id,
                          safe_url(feed.url), result.status, result.rows_read, result.rows_loaded,
                          result.rows_rejected, result.rows_skipped)


@task(name="ingest-spend-files", task_run_name="spend: {label}", cache_policy=NO_CACHE)
def ingest_spend_files(settings: Settings, feeds: list[Feed], bar: Progress, label: str) -> list[FileResult]:
    """Every feed in one pass on one working-database connection (flows/spend/ingest.ingest_feeds: whole
    files committed together, a staged batch of ~400,000 lines a transaction): at national scale opening,
    checkpointing and closing the database for every file cost more than reading it. A file whose fetch
    failed comes back as 'fetch_failed' and is retried on its own."""

    def report(feed: Feed, result: FileResult) -> None:
        _log_file(feed, result)
        if result.status != "fetch_failed":
            bar.advance(detail=feed.publisher_id)

    with working_db(settings) as con:
        return ingest_feeds(con, settings, feeds, synonyms=load_synonyms(), on_result=report)


@task(
    name="ingest-spend-file",
    # Registry URLs may carry credentials: names and logs show the publisher and row, not the URL.
    task_run_name="spend {feed.publisher_id} row {feed.registry_row}",
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NO_CACHE,
    # Only network failures raise; a rejected layout is a recorded outcome, not worth retrying.
    retry_condition_fn=lambda task, task_run, state: isinstance(state.result(raise_on_failure=False), FetchError),
)
def ingest_spend_file(settings: Settings, feed: Feed) -> FileResult:
    with working_db(settings) as con:
        result = ingest_feed(con, settings, feed, synonyms=load_synonyms())
    _log_file(feed, result)
    return result


@flow(name="ingest-spend", flow_run_name="ingest spend feeds")
def ingest_spend(settings: Settings, feeds: list[Feed]) -> SourceOutcome:
    """Every registry row; one file failing does not stop the others."""
    outcome = SourceOutcome(SPEND, ok=True)
    problems: list[str] = []
    with working_db(settings) as con:
        record_publishers(con, feeds)
    with progress("Spend files", len(feeds), key="spend-files") as bar:
        results = ingest_spend_files(settings, feeds, bar, label=f"{len(feeds)} registry rows")
        for feed, result in zip(feeds, results):
            if result.status == "fetch_failed":
                state = ingest_spend_file(settings, feed, return_state=True)
                bar.advance(detail=feed.publisher_id)
                if not state.is_completed():
                    problems.append(f"{feed.publisher_id} {safe_url(feed.url)}: {state.result(raise_on_failure=False)}")
                    continue
                result = state.result()
            outcome.files.append(result)
            if result.status in ("rejected", "failed"):
                problems.append(f"{feed.publisher_id} {safe_url(feed.url)}: {result.message}")
    loaded = [f for f in outcome.files if f.status == "loaded"]
    outcome.message = (
        f"Spend feeds: {len(loaded)} files loaded, "
        f"{sum(f.status == 'unchanged' for f in outcome.files)} unchanged, {len(problems)} failed; "
        f"{sum(f.rows_loaded for f in loaded)} rows loaded, {sum(f.rows_rejected for f in loaded)} rejected"
    )
    if problems:
        outcome.ok = False
        outcome.message += " — " + "; ".join(problems)
        get_run_logger().error(outcome.message)
    return outcome


def _record_run(settings: Settings, outcome: RunOutcome, status: str, message: str | None = None) -> str:
    """Write the run's row in ops.runs; returns the summary as markdown."""
    with working_db(settings) as con:
        summary = summarise(con, outcome)
        finish_run(con, outcome.run_id, status, message or outcome.message, summary)
    return render_markdown(summary)


def sample_feeds(feeds: list[Feed], server: FeedServer) -> list[Feed]:
    """The registry's sample files fetched from the loopback server, so the HTTP client code runs."""
    return [
        dataclasses.replace(feed, fetch_url=f"{server.base_url}/spend/{feed.local_path.name}")
        if feed.local_path is not None and feed.local_path.parent == server.spend_dir.resolve() else feed
        for feed in feeds
    ]


# --- transform, validate, publish ----------------------------------------------------------------

@task(name="dbt-build", task_run_name="dbt build", cache_policy=NO_CACHE)
def transform_task(settings: Settings, full_refresh: bool | None = None) -> BuildResult:
    result = build(settings, full_refresh=full_refresh, unit_tests=False)
    get_run_logger().info("dbt build (%s): %d nodes passed in %.1f s",
                          f"full rebuild: {result.full_refresh_reason}" if result.full_refresh_reason else "incremental",
                          result.count("success") + result.count("pass"), result.elapsed_s)
    return result


@task(name="validate", task_run_name="validate with Great Expectations", cache_policy=NO_CACHE)
def validate_task(settings: Settings, run_id: str) -> ValidationReport:
    report = validate(settings, run_id=run_id)
    logger = get_run_logger()
    if report.passed:
        logger.info("validation passed: %d expectations; Data Docs %s",
                    report.expectations_evaluated, report.data_docs_index)
    else:
        logger.error("validation failed: %s", "; ".join(report.failed_expectations))
    return report


@task(name="publish", task_run_name="publish the marts", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def publish_task(settings: Settings, run_id: str) -> PublishResult:
    result = publish(settings, run_id=run_id, extra_tables=("ops.runs",))
    get_run_logger().info("published %s (%s)", result.warehouse_path,
                          ", ".join(f"{name} {rows}" for name, rows in result.row_counts.items()))
    return result


@task(name="report", task_run_name="build the HTML report", cache_policy=NO_CACHE)
def report_task(settings: Settings) -> Path:
    """A report that fails to build is logged; the warehouse is already published."""
    path = build_report(settings)
    get_run_logger().info("report: %s", path)
    return path


@flow(name="transform", flow_run_name="dbt build")
def transform_flow(full_refresh: bool | None = None) -> BuildResult:
    """`full_refresh` None: incremental unless flows.transform.full_refresh_reason says otherwise."""
    return transform_task(load_settings(), full_refresh)


@flow(name="validate", flow_run_name="validate")
def validate_flow() -> ValidationReport:
    return validate_task(load_settings(), f"validate-{uuid.uuid4().hex[:8]}")


@flow(name="publish", flow_run_name="validate and publish")
def publish_flow() -> tuple[ValidationReport, PublishResult | None]:
    """The gate always applies: the marts are validated again, then published only if they pass."""
    settings = load_settings()
    run_id = f"publish-{uuid.uuid4().hex[:8]}"
    report = validate_task(settings, run_id)
    published = publish_task(settings, run_id) if report.passed else None
    if published is not None:
        report_task(settings, return_state=True)  # a failed report is logged; the publish stands
    return report, published


# --- the nightly run ------------------------------------------------------------------------------

@flow(name="nightly-run", flow_run_name="procurement run")
def nightly_run(sample: bool = False, since: datetime | None = None, until: datetime | None = None) -> RunOutcome:
    """Ingest every source, build, validate and publish; with `sample`, on the bundled feeds offline."""
    settings = load_settings()
    outcome = RunOutcome(run_id=str(flow_run.get_id() or uuid.uuid4()))
    logger = get_run_logger()
    with run_lock(settings), ExitStack() as stack:
        if sample:
            # Offline whatever SPEND_FEEDS says: the bundled registry, fetched from loopback.
            server = stack.enter_context(running(FeedServer.from_feeds()))
            settings = settings.with_urls(server.base_url, server.base_url)
            feeds = sample_feeds(read_registry(BUNDLED_SPEND_FEEDS), server)
            sample_from, sample_to = sample_manifest()
            since, until = since or sample_from, until or sample_to
        else:
            feeds = read_registry(settings.spend_feeds)
        with working_db(settings) as con:
            start_run(con, outcome.run_id, "sample" if sample else "live")
        for source in (CONTRACTS_FINDER, FIND_A_TENDER):
            outcome.sources.append(ingest_notices(settings, source, since, until))
        outcome.sources.append(ingest_spend(settings, feeds))

        transform = transform_task(settings, return_state=True)
        if not transform.is_completed():
            outcome.transform_error = str(transform.result(raise_on_failure=False))
        else:
            outcome.validation = validate_task(settings, outcome.run_id)
        if outcome.validation is not None and outcome.validation.passed:
            # Recorded as published before publishing, so that the published run log shows this run.
            _record_run(settings, outcome, "published", f"published {settings.warehouse_db}")
            published = publish_task(settings, outcome.run_id, return_state=True)
            if published.is_completed():
                outcome.published = published.result()
                report = report_task(settings, return_state=True)
                if report.is_completed():
                    outcome.report_path = report.result()
            else:
                outcome.publish_error = str(published.result(raise_on_failure=False))
        outcome.summary_markdown = _record_run(settings, outcome, "published" if outcome.published else "failed")
    create_markdown_artifact(outcome.summary_markdown, key="nightly-run-summary",
                             description="Files and releases new, rows loaded and rejected, headline shares")
    (logger.info if outcome.published else logger.error)(outcome.message)
    return outcome
