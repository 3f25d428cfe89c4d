"""The fault suite's shared world (built once per session) and its tally of faults injected and rows lost."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from fault_world import (
    FIRST_GENERATION_FILES, MID, SINCE, SPEND_FILES, copy_home, ingest, load_reference_subset,
    marts_snapshot, raw_snapshot, run_pipeline, settings_for, write_registry,
)
from flows.sample.server import FeedServer, running


class Tally:
    def __init__(self) -> None:
        self.faults = 0
        self.rows_lost = 0
        self.rows_duplicated = 0

    def fault(self, lost: int = 0, duplicated: int = 0) -> None:
        self.faults += 1
        self.rows_lost += lost
        self.rows_duplicated += duplicated


TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


def pytest_terminal_summary(terminalreporter):
    if TALLY.faults:
        terminalreporter.write_line(
            f"fault suite: {TALLY.faults} faults injected, {TALLY.rows_lost} rows lost, "
            f"{TALLY.rows_duplicated} rows duplicated"
        )


@dataclass(frozen=True)
class World:
    server: FeedServer
    registry_a: Path
    registry_b: Path
    first_generation: Path  # home after ingesting the first half: reference data, raw tables, nothing published
    ingested: Path  # home after an uninterrupted ingestion of everything, before dbt
    raw: dict  # its raw tables
    baseline: Path  # home of the uninterrupted run: built, validated, published (see `baseline`)


@pytest.fixture(scope="session")
def fault_server():
    # Small pages so one window spans several pages and a crash can land between them.
    with running(FeedServer.from_feeds(page_size=4)) as server:
        yield server


@pytest.fixture(scope="session")
def world(tmp_path_factory, fault_server) -> World:
    root = tmp_path_factory.mktemp("fault-world")
    registry_a = write_registry(root / "registry", SPEND_FILES[:FIRST_GENERATION_FILES])
    registry_b = write_registry(root / "registry", SPEND_FILES)

    first = root / "first_generation"
    settings = settings_for(first, fault_server)
    load_reference_subset(settings)
    assert ingest(settings, registry_a, fault_server, SINCE, MID) == []

    ingested = copy_home(first, root / "ingested")
    assert ingest(settings_for(ingested, fault_server), registry_b, fault_server) == []
    return World(
        server=fault_server, registry_a=registry_a, registry_b=registry_b, first_generation=first,
        ingested=ingested, raw=raw_snapshot(ingested / "work.duckdb"), baseline=root / "baseline",
    )


@dataclass(frozen=True)
class Baseline:
    home: Path
    marts: dict

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"


@pytest.fixture(scope="session")
def baseline(world) -> Baseline:
    """The uninterrupted run of the second generation from the first: its published marts are the reference."""
    home = copy_home(world.first_generation, world.baseline)
    report = run_pipeline(settings_for(home, world.server), world.registry_b, world.server, run_id="baseline")
    assert report.published and report.failed_sources == []
    assert raw_snapshot(home / "work.duckdb") == world.raw
    return Baseline(home, marts_snapshot(home / "warehouse.duckdb"))


@pytest.fixture(scope="session")
def stand_in_warehouse(tmp_path_factory) -> Path:
    """A published warehouse for faults that never reach publishing: only its bytes must survive."""
    path = tmp_path_factory.mktemp("stand-in") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_payments AS SELECT 42 AS amount_gbp")
    return path


@pytest.fixture
def fresh_home(tmp_path):
    """fresh_home(start, warehouse) -> a copy of a world home whose last good warehouse is `warehouse` (or none)."""

    def make(start: Path, warehouse: Path | None) -> Path:
        home = copy_home(start, tmp_path / "home")
        for leftover in ("warehouse.duckdb", "marts"):
            target = home / leftover
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        if warehouse is not None:
            shutil.copy2(warehouse, home / "warehouse.duckdb")
            if (warehouse.parent / "marts").is_dir():
                shutil.copytree(warehouse.parent / "marts", home / "marts")
        return home

    return make
