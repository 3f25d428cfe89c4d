"""The Prefect flows and tasks: thin wrappers that name, retry and report the plain functions.

Import this module only after `flows.prefect_env.configure`, which Prefect needs before import.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings
from flows.database import working_db
from flows.harvest import HarvestIncomplete, SourceUnreachable, date_windows, harvest, resolve_range
from flows.sample.server import FeedServer, running, sample_manifest
from flows.sources.ocds import CONTRACTS_FINDER, FIND_A_TENDER, SERVICES

# One task per block keeps the Prefect UI readable (a month of Find a Tender is 120 windows) while
# a retry repeats at most a block, whose releases are loaded idempotently anyway.
HARVEST_BLOCK = SERVICES[CONTRACTS_FINDER].window


@dataclass
class SourceOutcome:
    source: str
    ok: bool
    releases_new: int = 0
    releases_seen: int = 0
    pages: int = 0
    message: str = ""


@dataclass
class RunOutcome:
    sources: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [s for s in self.sources if not s.ok]


@task(
    name="harvest-block",
    task_run_name="harvest {source} {block_from:%Y-%m-%d %H:%M} to {block_to:%Y-%m-%d %H:%M}",
    retries=1,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,
    # Unreachable services are reported, not retried again: the HTTP layer already retried.
    retry_condition_fn=lambda task, task_run, state: not isinstance(state.result(raise_on_failure=False), SourceUnreachable),
)
def harvest_block(settings: Settings, source: str, block_from: datetime, block_to: datetime,
                  range_start: datetime) -> tuple[int, int, int]:
    logger = get_run_logger()
    with working_db(settings) as con:
        result = harvest(settings, con, source, block_from, block_to, range_start=range_start)
    logger.info("%s: %d pages, %d releases seen, %d new; watermark %s",
                SERVICES[source].label, result.pages, result.releases_seen, result.releases_new, result.watermark)
    return result.pages, result.releases_seen, result.releases_new


@flow(name="ingest-notices", flow_run_name="ingest {source}", log_prints=True)
def ingest_notices(settings: Settings, source: str, since: datetime | None = None,
                   until: datetime | None = None) -> SourceOutcome:
    """Harvest one OCDS service; never raises, so that the nightly run carries on with other sources."""
    logger = get_run_logger()
    with working_db(settings) as con:
        since, until = resolve_range(con, source, since, until)
    outcome = SourceOutcome(source, ok=True)
    failures: list[str] = []
    for block_from, block_to in date_windows(since, until, HARVEST_BLOCK):
        state = harvest_block(settings, source, block_from, block_to, since, return_state=True)
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


@flow(name="nightly-run", flow_run_name="procurement run", log_prints=True)
def nightly_run(settings: Settings, sample: bool = False, since: datetime | None = None,
                until: datetime | None = None) -> RunOutcome:
    """Ingest every source; with `sample`, against the bundled feeds on a loopback server."""
    outcome = RunOutcome()
    with ExitStack() as stack:
        if sample:
            server = stack.enter_context(running(FeedServer.from_feeds()))
            settings = settings.with_urls(server.base_url, server.base_url)
            sample_from, sample_to = sample_manifest()
            since, until = since or sample_from, until or sample_to
        for source in (CONTRACTS_FINDER, FIND_A_TENDER):
            outcome.sources.append(ingest_notices(settings, source, since, until))
    return outcome
