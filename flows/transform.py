"""Run the dbt project (dbt_project/) against the working database.

`build` is what `procurement transform` and the nightly flow call: it makes sure the reference data is
present, then runs `dbt build` in-process. A failing model, test or unit test raises `TransformError`
naming every failing node, so the Prefect task that wraps it fails with that message.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from flows.config import Settings
from flows.database import working_db
from flows.raw.ocds_releases import ensure_table as ensure_ocds_releases
from flows.reference import load_postcode_lad
from flows.spend.load import ensure_tables as ensure_spend_tables

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


class TransformError(RuntimeError):
    """dbt failed; the message names every failing model, test or unit test."""

    def __init__(self, message: str, failures: list[str]):
        super().__init__(message)
        self.failures = failures


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str
    status: str
    message: str | None


@dataclass(frozen=True)
class BuildResult:
    nodes: list[NodeResult]
    elapsed_s: float
    reference_loaded: bool

    def count(self, status: str) -> int:
        return sum(1 for n in self.nodes if n.status == status)


def prepare_working_db(settings: Settings) -> bool:
    """Create missing raw tables and load reference data if needed; True when postcodes were (re)loaded.

    The raw tables are created (empty, with the loaders' own DDL) when their loader has not run yet, so
    that a fresh installation - say, awards only - still builds.
    """
    with working_db(settings) as con:
        ensure_ocds_releases(con)
        ensure_spend_tables(con)
        return load_postcode_lad(con)


@contextmanager
def _dbt_environment(settings: Settings) -> Iterator[None]:
    saved = os.environ.get("PROCUREMENT_WORK_DB")
    os.environ["PROCUREMENT_WORK_DB"] = str(settings.work_db)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PROCUREMENT_WORK_DB", None)
        else:
            os.environ["PROCUREMENT_WORK_DB"] = saved


def _invoke(settings: Settings, args: list[str]):
    from dbt.cli.main import dbtRunner

    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    with _dbt_environment(settings):
        return dbtRunner().invoke([*args, *common])


def _node_results(res) -> list[NodeResult]:
    results = getattr(res.result, "results", None) or []
    return [
        NodeResult(
            name=r.node.name,
            resource_type=str(r.node.resource_type),
            status=str(r.status),
            message=r.message,
        )
        for r in results
    ]


def build(settings: Settings, select: str | None = None) -> BuildResult:
    """`dbt build` (seeds, models, data tests, unit tests) of the whole project or of `select`."""
    started = time.monotonic()
    reference_loaded = prepare_working_db(settings)
    args = ["build"] + (["--select", select] if select else [])
    res = _invoke(settings, args)
    nodes = _node_results(res)
    failures = [
        f"{n.resource_type} {n.name}: {n.status}" + (f" ({n.message})" if n.message else "")
        for n in nodes
        if n.status in ("error", "fail", "runtime error")
    ]
    if res.exception is not None or not res.success or failures:
        detail = "; ".join(failures) if failures else repr(res.exception)
        raise TransformError(f"dbt build failed: {detail}", failures)
    return BuildResult(nodes=nodes, elapsed_s=time.monotonic() - started, reference_loaded=reference_loaded)


def docs_generate(settings: Settings) -> Path:
    """`dbt docs generate`; returns the target directory holding index.html, manifest and catalog."""
    prepare_working_db(settings)
    res = _invoke(settings, ["docs", "generate"])
    if res.exception is not None or not res.success:
        raise TransformError(f"dbt docs generate failed: {res.exception!r}", [])
    return PROJECT_DIR / "target"
