"""`procurement serve`: the nightly run as a Prefect deployment served from this process."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.pipeline import nightly_run

DEPLOYMENT_NAME = "nightly"


def serve_nightly(cron: str, timezone: str) -> None:
    """Block, starting `nightly-run/nightly` on the schedule until the process is stopped."""
    nightly_run.serve(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(cron, timezone=timezone)],
        description="Ingest every source, build the marts, validate, publish.",
        tags=["procurement"],
        # The run lock already refuses a second run; this keeps Prefect from queueing one.
        limit=1,
    )
