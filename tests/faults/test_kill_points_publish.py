"""Crashes inside dbt's build and inside publishing, then the next run.

Publishing: from the baseline's validated working DB, `publish` crashes at one step (before the temp
file, while the marts are copied into it, around the Parquet copies, before and after the renames).
The last good warehouse is "yesterday's": published by the same code from the baseline with a row of
every mart left out, so the crashing publish has every mart and some Parquet files to rewrite (publish
keeps what did not change). The warehouse must then be the last good one byte for byte, and its Parquet
untouched - or, once the rename has happened, a whole new one with the baseline's figures - never a
half-written file; the next publish leaves no temp file and publishes the baseline's figures in the
warehouse and in Parquet.

dbt: one chain of runs from the ingested home, each crashing further into the build (before dbt,
after the staging models, after the intermediate models), then a run that completes. A dbt build costs
half a minute here, so the crashes share the one recovery run; each crash is still checked on its own.
"""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

import flows.publish
import flows.transform
from fault_world import (
    MARTS, Killed, call_counter, lock_is_free, marts_snapshot, parquet_snapshot, raw_snapshot, rows_lost, run_pipeline,
    settings_for, sha256,
)
from flows.run_lock import run_lock


class _OsWithReplace:
    """`os` for flows.publish, with a crashing `replace`: the renames are the publish's commit points."""

    def __init__(self, replace):
        self.replace = replace

    def __getattr__(self, name):
        return getattr(os, name)


# (function, call number, crash after the call, the warehouse rename has happened, what the step is)
PUBLISH_POINTS = [
    ("clean_stale_temp_files", 1, False, False, "clearing temp files of dead publishes"),
    ("_build_new_warehouse", 1, False, False, "before the temp warehouse is created"),
    ("_quote", 2, False, False, "copying the first mart into the temp warehouse"),
    ("_quote", 9, False, False, "copying a later mart into the temp warehouse"),
    ("_build_new_warehouse", 1, True, False, "temp warehouse written and closed"),
    ("_write_parquet", 1, False, False, "before the Parquet temp files"),
    ("_fsync_file", 2, False, False, "between Parquet temp files"),
    ("_write_parquet", 1, True, False, "every Parquet temp file written"),
    ("os.replace", 1, False, False, "just before the warehouse rename"),
    ("os.replace", 1, True, True, "just after the warehouse rename"),
    ("os.replace", 4, False, True, "between the Parquet renames"),
    ("_fsync_dir", 2, False, True, "after every rename, before the directory fsync"),
]
# With no warehouse yet, the steps around the temp file and the rename: none may leave a warehouse behind.
CASES = [(point, False) for point in PUBLISH_POINTS] + [
    (point, True) for point in PUBLISH_POINTS if point[0] in ("_build_new_warehouse", "os.replace") and point[1] == 1
]


def _id(case) -> str:
    (name, n, after, _, _), first_publish = case
    return f"{'after' if after else 'before'}-{name}-{n}-{'first-publish' if first_publish else 'over-last-good'}"


def _assert_published_baseline(home, baseline) -> None:
    assert marts_snapshot(home / "warehouse.duckdb") == baseline.marts
    assert parquet_snapshot(home) == baseline.marts
    leftovers = [p.name for p in [*home.glob("warehouse.duckdb.*"), *(home / "marts").glob("*.new-*")]]
    assert leftovers == []


def _copy_home(source, target):
    """The home as the pipeline leaves it, symlinks included (fct_payments.parquet is one)."""
    return shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("run.lock"))


@pytest.fixture(scope="module")
def yesterday(baseline, tmp_path_factory):
    """A home with the baseline's working DB whose last good warehouse and Parquet lack one row of every
    mart (fct_payments: of one publisher), published by the same code."""
    root = tmp_path_factory.mktemp("yesterday")
    earlier = _copy_home(baseline.home, root / "earlier")
    with duckdb.connect(str(earlier / "work.duckdb")) as con:
        for mart in MARTS:
            table = "intermediate.int_spend__payments_attributed" if mart == "fct_payments" else f"marts.{mart}"
            con.execute(f"DELETE FROM {table} WHERE rowid = (SELECT min(rowid) FROM {table})")
    flows.publish.publish(settings_for(earlier), run_id="yesterday")
    home = _copy_home(baseline.home, root / "home")
    shutil.rmtree(home / "marts")
    shutil.copytree(earlier / "marts", home / "marts", symlinks=True)
    shutil.copyfile(earlier / "warehouse.duckdb", home / "warehouse.duckdb")
    return home, marts_snapshot(home / "warehouse.duckdb")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_crash_while_publishing_leaves_a_whole_warehouse(case, baseline, yesterday, fresh_home, tmp_path,
                                                         monkeypatch, tally):
    (name, n, after, renamed, step), first_publish = case
    if first_publish:
        home = fresh_home(baseline.home, None)
    else:
        home = _copy_home(yesterday[0], tmp_path / "home")
        assert parquet_snapshot(home) == yesterday[1] != baseline.marts
    settings = settings_for(home)
    last_good = sha256(home / "warehouse.duckdb")
    if name == "os.replace":
        monkeypatch.setattr(flows.publish, "os", _OsWithReplace(call_counter(os.replace, lambda k: k == n, after=after)))
    else:
        real = getattr(flows.publish, name)
        monkeypatch.setattr(flows.publish, name, call_counter(real, lambda k: k == n, after=after, label=step))

    with pytest.raises(Killed), run_lock(settings):
        flows.publish.publish(settings, run_id="killed")
    monkeypatch.undo()

    if renamed:
        assert sha256(home / "warehouse.duckdb") != last_good
        assert marts_snapshot(home / "warehouse.duckdb") == baseline.marts
    else:
        assert sha256(home / "warehouse.duckdb") == last_good
        if not first_publish:
            assert parquet_snapshot(home) == yesterday[1]
    assert lock_is_free(settings)
    with run_lock(settings):
        flows.publish.publish(settings, run_id="recovery")
    _assert_published_baseline(home, baseline)
    tally.fault()


def _partial_build(select: str):
    """A build that dies after dbt built `select` and its parents. Tests are only those selected
    directly: a test picked up through a seed may read a model the crash has not built yet."""
    real = flows.transform.build

    def build(settings, select_=None):
        os.environ["DBT_INDIRECT_SELECTION"] = "empty"
        try:
            real(settings, select=select)
        finally:
            del os.environ["DBT_INDIRECT_SELECTION"]
        raise Killed(f"killed after dbt built {select}")

    return build


def test_crashes_before_and_inside_dbt_then_the_next_run_publishes_the_same_figures(world, baseline, fresh_home,
                                                                                    monkeypatch, tally):
    home = fresh_home(world.ingested, baseline.warehouse)
    settings = settings_for(home, world.server)
    last_good = sha256(home / "warehouse.duckdb")
    crashes = [
        ("prepare_working_db", call_counter(flows.transform.prepare_working_db, lambda k: True, label="reference")),
        ("build", _partial_build("+staging")),
        ("build", _partial_build("+intermediate")),
    ]
    for name, crashing in crashes:
        monkeypatch.setattr(flows.transform, name, crashing)
        with pytest.raises(Killed):
            run_pipeline(settings, world.registry_b, world.server, run_id="killed")
        monkeypatch.undo()
        assert sha256(home / "warehouse.duckdb") == last_good
        assert lock_is_free(settings)
        tally.fault()

    report = run_pipeline(settings, world.registry_b, world.server, run_id="recovery")
    assert report.published and report.failed_sources == []
    assert rows_lost(world.raw, raw_snapshot(settings.work_db)) == (0, 0)
    _assert_published_baseline(home, baseline)
