"""Progress: a bar on a terminal, a Prefect progress artifact inside a run, a plain count otherwise."""

from __future__ import annotations

import io
import threading

import pytest

from flows.progress import Progress, progress


def test_outside_a_terminal_and_prefect_it_only_counts_and_never_passes_the_total():
    stream = io.StringIO()
    with progress("Spend files", 3, stream=stream, prefect=False) as bar:
        bar.advance()
        bar.advance(5)  # a retried block reports its windows again
        assert (bar.done, bar.percent) == (3, 100.0)
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_bar_with_the_count():
    stream = io.StringIO()
    with progress("Find a Tender windows", 4, stream=stream, terminal=True, prefect=False) as bar:
        for _ in range(4):
            bar.advance(detail="2025-04-01 06:00")
    shown = stream.getvalue()
    assert "Find a Tender windows" in shown and "4/4" in shown


def test_advances_from_threads_are_all_counted():
    bar = Progress("windows", 400, prefect=False, terminal=False)
    threads = [threading.Thread(target=lambda: [bar.advance() for _ in range(100)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bar.done == 400


def test_artifact_keys_are_checked_up_front():
    with pytest.raises(ValueError, match="lower-case letters, digits and dashes"):
        Progress("x", 1, key="Spend_Files", prefect=False, terminal=False)


def test_inside_a_flow_run_prefect_shows_the_progress(prefect_api):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    @flow(name="progress-test")
    def counting(total: int) -> str:
        from prefect.runtime import flow_run

        with progress("Spend files", total, key="test-spend-files", terminal=False) as bar:
            for _ in range(total):
                bar.advance()
        return str(flow_run.get_id())

    run_id = counting(5)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["test-spend-files"])))
    mine = [a for a in artifacts if str(a.flow_run_id) == run_id]
    assert len(mine) == 1  # created once, then updated
    assert mine[0].type == "progress"
    assert float(mine[0].data) == 100.0
    assert mine[0].description == "Spend files: 5 of 5"
