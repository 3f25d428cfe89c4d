"""Crashes at distinct steps of ingestion (page loads, landing writes, loads, bookkeeping, spend files).

Each case starts from the first generation's home with a published warehouse, runs the second
generation's ingestion with one project function crashing at its Nth call (before or after doing its
work), then checks what a person would: the warehouse is byte for byte the last good one, the run lock
is free, and the next run completes with exactly the raw rows of an uninterrupted run - none lost,
none doubled. The marts are built from these raw tables only, so equal raw tables give equal figures.
"""

from __future__ import annotations

import importlib

import pytest

from fault_world import Killed, call_counter, lock_is_free, raw_snapshot, rows_lost, run_pipeline, settings_for, sha256

# (module, function, call number, crash after the call instead of before, what the step is)
KILL_POINTS = [
    *[("flows.harvest", "fetch", n, False, "notice page load") for n in (1, 2, 3, 4, 6, 11, 19)],
    *[("flows.harvest", "store", n, False, "notice page landing write") for n in (1, 2, 4, 12)],
    *[("flows.harvest", "store", n, True, "notice page stored, not yet recorded as landed") for n in (1, 3)],
    *[("flows.harvest", "record", n, True, "notice page landed, not yet loaded") for n in (1, 3, 17)],
    *[("flows.harvest", "load_releases", n, False, "release load") for n in (2, 5)],
    *[("flows.harvest", "load_releases", n, True, "releases loaded, window not recorded") for n in (1, 3, 10)],
    *[("flows.harvest", "_save", n, when, "window bookkeeping and watermark") for n in (1, 2) for when in (False, True)],
    ("flows.harvest", "joined_watermark", 5, False, "watermark arithmetic mid-harvest"),
    ("flows.spend.load", "_insert_columns", 1, False, "registry rows into raw.spend_publishers"),
    *[("flows.spend.ingest", "fetch_feed", n, False, "spend file download") for n in (1, 3, 4)],
    *[("flows.spend.ingest", "_store", n, False, "spend file landing write") for n in (1, 2)],
    *[("flows.spend.ingest", "_store", n, True, "spend file stored, not parsed") for n in (1, 2)],
    *[("flows.spend.ingest", "record", 1, when, "spend files recorded as landed") for when in (False, True)],
    # The world's files are all read by the bulk path (from 4 KiB), so its preparation is the parse.
    ("flows.spend.ingest", "prepare_bulk", 2, False, "spend file parse"),
    *[("flows.spend.load", "insert_payments", n, when, "payments insert inside the file's transaction")
      for n, when in ((1, False), (2, True))],
    ("flows.spend.load", "insert_rejects", 1, True, "rejects insert inside the file's transaction"),
    *[("flows.spend.load", "insert_ledger", n, when, "ledger row of a loaded spend file") for n, when in ((1, False), (2, True))],
    *[("flows.spend.ingest", "insert_ledger", n, when, "ledger row of an unchanged spend file")
      for n, when in ((1, False), (2, True))],
    *[("flows.spend.ingest", "replace_feed_rows", n, True, "spend file committed, result not returned")
      for n in (1, 2)],
]


def _id(point) -> str:
    module, name, n, after, _ = point
    return f"{'after' if after else 'before'}-{module.rsplit('.', 1)[-1]}.{name}-{n}"


@pytest.mark.parametrize("point", KILL_POINTS, ids=[_id(p) for p in KILL_POINTS])
def test_crash_during_ingestion_loses_nothing_and_the_next_run_completes(point, world, fresh_home, stand_in_warehouse,
                                                                         monkeypatch, tally):
    module_name, name, n, after, step = point
    home = fresh_home(world.first_generation, stand_in_warehouse)
    settings = settings_for(home, world.server)
    last_good = sha256(home / "warehouse.duckdb")
    module = importlib.import_module(module_name)
    monkeypatch.setattr(module, name, call_counter(getattr(module, name), lambda k: k == n, after=after, label=step))

    with pytest.raises(Killed):
        run_pipeline(settings, world.registry_b, world.server, transform=False)
    monkeypatch.undo()

    assert sha256(home / "warehouse.duckdb") == last_good
    assert lock_is_free(settings)
    report = run_pipeline(settings, world.registry_b, world.server, transform=False)
    assert report.failed_sources == []
    lost, duplicated = rows_lost(world.raw, raw_snapshot(settings.work_db))
    tally.fault(lost, duplicated)
    assert (lost, duplicated) == (0, 0), f"after a crash at {step}: {lost} rows lost, {duplicated} duplicated"
