"""Network faults at every stage of both OCDS services and of the spend feeds.

Each fault ends in a retry that recovers, a clear per-source failure, or a recorded rejection; none
hangs (fetch timeouts are driven to half a second) and none loses what was already loaded. Faults the
harvest tests already cover (403/429/503/504 retries, a cursor loop and a redirect away on Contracts
Finder's first page, 404, an unreachable Contracts Finder) are not repeated here.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

import flows.harvest
import flows.http
import flows.spend.fetch
from fault_servers import (
    HTML_ERROR_PAGE, ScriptedFeedServer, complete, cut_short, drip, empty_pages_with_next, next_link_to,
    reset_mid_body, same_next_link,
)
from fault_world import SPEND_FILES, settings_for, write_registry
from flows.database import connect_path
from flows.harvest import HarvestIncomplete, SourceUnreachable, harvest
from flows.http import FetchError
from flows.sample.server import running
from flows.sources.ocds import CONTRACTS_FINDER, FIND_A_TENDER, SERVICES
from flows.spend import ingest_feed, read_registry

# Two Contracts Finder windows; four Find a Tender windows, one with several pages.
RANGES = {CONTRACTS_FINDER: (datetime(2025, 6, 1, tzinfo=timezone.utc), datetime(2025, 6, 25, tzinfo=timezone.utc)),
          FIND_A_TENDER: (datetime(2025, 6, 11, tzinfo=timezone.utc), datetime(2025, 6, 12, tzinfo=timezone.utc))}
NOT_A_PAGE = json.dumps({"releases": [{"ocid": "x", "id": "x", "date": "2025-06-01T00:00:00Z"}] * 40}).encode()
CLOSED_PORT = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    fast = functools.partial(flows.http.fetch, timeout_s=0.5, deadline_s=0.5)
    monkeypatch.setattr(flows.harvest, "fetch", fast)
    monkeypatch.setattr(flows.spend.fetch, "fetch", fast)


@pytest.fixture
def server():
    with running(ScriptedFeedServer.from_feeds(page_size=2)) as scripted:
        yield scripted


def _served(server, source):
    since, until = RANGES[source]
    return {(r["ocid"], r["id"]) for when, r in server.dated_releases[source] if since <= when < until}


def _loaded(con, source):
    return set(con.execute("SELECT ocid, release_id FROM raw.ocds_releases WHERE source = ?", [source]).fetchall())


def _first_page(source):
    service = SERVICES[source]
    return lambda path: path.startswith(service.search_path) and "cursor=" not in path


def _next_page(source):
    service = SERVICES[source]
    return lambda path: path.startswith(service.search_path) and "cursor=" in path


STAGES = {"first-page": _first_page, "next-page": _next_page}


def _in_one_window(source, match):
    """`match`, narrowed to the window of the first request it matched (faults that repeat stay in it)."""
    param = SERVICES[source].from_param
    chosen = {}

    def narrowed(path):
        window = parse_qs(urlsplit(path).query).get(param)
        if "window" not in chosen and match(path):
            chosen["window"] = window
        return chosen.get("window") == window and (match(path) or "empty=" in path)

    return narrowed
SOURCES = (CONTRACTS_FINDER, FIND_A_TENDER)
TRANSIENT = {
    "reset-mid-body": lambda server: reset_mid_body(NOT_A_PAGE),
    "cut-short": lambda server: cut_short(NOT_A_PAGE),
    "slow-drip": lambda server: drip(NOT_A_PAGE[:200]),
}
# Persistent faults that fail only their window: (respond, what the recorded error says)
WINDOW_FAILURES = {
    "truncated-json": (lambda server: complete(NOT_A_PAGE[: len(NOT_A_PAGE) // 2]), "not valid JSON"),
    "html-error-page-200": (lambda server: complete(HTML_ERROR_PAGE, "text/html"), "not valid JSON"),
    "redirect-to-another-host": (
        lambda server: complete(b"", status=302, headers={"Location": "http://127.0.0.2:1/elsewhere"}),
        "another host"),
    "repeating-cursor": (same_next_link, "cursor loop"),
    "empty-pages-with-next": (empty_pages_with_next, "empty pages in a row"),
}


@pytest.mark.parametrize("fault", TRANSIENT)
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("source", SOURCES)
def test_transient_faults_are_retried_and_every_release_loads(source, stage, fault, server, tmp_path, tally):
    server.add(STAGES[stage](source), TRANSIENT[fault](server), times=1)
    with connect_path(tmp_path / "work.duckdb") as con:
        result = harvest(settings_for(tmp_path, server), con, source, *RANGES[source])
        assert result.failed == []
        assert _loaded(con, source) == _served(server, source)
    assert sum(e[2] == 0 for e in server.scripted) == 1, "the fault was never served"
    tally.fault()


@pytest.mark.parametrize("fault", WINDOW_FAILURES)
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("source", SOURCES)
def test_bad_pages_fail_their_window_with_a_reason_and_keep_the_rest(source, stage, fault, server, tmp_path, tally):
    respond, reason = WINDOW_FAILURES[fault]
    server.add(_in_one_window(source, STAGES[stage](source)), respond(server),
               times=1 if fault != "empty-pages-with-next" else 100)
    with connect_path(tmp_path / "work.duckdb") as con:
        with pytest.raises(HarvestIncomplete, match=reason) as failure:
            harvest(settings_for(tmp_path, server), con, source, *RANGES[source])
        failed = failure.value.result.failed
        assert len(failed) == 1
        recorded = con.execute("SELECT window_from, error FROM ops.harvest_windows WHERE status = 'failed'").fetchall()
        assert [(w.window_from, w.error) for w in failed] == recorded
        in_other_windows = {(r["ocid"], r["id"]) for when, r in server.dated_releases[source]
                            if RANGES[source][0] <= when < RANGES[source][1]
                            and not failed[0].window_from <= when < failed[0].window_to}
        assert in_other_windows <= _loaded(con, source) <= _served(server, source)
        assert in_other_windows or source == FIND_A_TENDER  # its other windows of the day are empty
    tally.fault()


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("source", SOURCES)
def test_connection_refused_is_a_clear_source_failure_that_keeps_what_loaded(source, stage, server, tmp_path, tally):
    settings = settings_for(tmp_path, server)
    with connect_path(tmp_path / "work.duckdb") as con:
        if stage == "first-page":
            loaded_before = harvest(settings, con, source, *RANGES[source]).releases_new
            settings = settings_for(tmp_path).with_urls(CLOSED_PORT, CLOSED_PORT)
        else:
            server.add(_next_page(source), next_link_to(f"{CLOSED_PORT}/next"), times=1)
            loaded_before = None
        with pytest.raises(SourceUnreachable) as failure:
            harvest(settings, con, source, *RANGES[source])
        assert str(failure.value).startswith(f"Could not reach {SERVICES[source].label}")
        assert "connection refused" in str(failure.value)
        loaded = _loaded(con, source)
        assert loaded if loaded_before is None else len(loaded) == loaded_before
    tally.fault()


# ------------------------------------------------------------------------------------------ spend feeds


@pytest.fixture
def spend(server, tmp_path):
    """Two sample spend files fetched from the scripted server; the first is the one the faults hit."""
    from flows.pipeline import sample_feeds

    settings = settings_for(tmp_path / "home", server)
    feeds = sample_feeds(read_registry(write_registry(tmp_path / "registry", SPEND_FILES[2:4])), server)
    con = connect_path(settings.work_db)
    yield settings, con, feeds
    con.close()


def _spend_path(feed):
    return feed.fetch_url.removeprefix(feed.fetch_url.split("/spend/")[0])


def _ingest_all(con, settings, feeds):
    outcomes = []
    for feed in feeds:
        try:
            outcomes.append(ingest_feed(con, settings, feed).status)
        except FetchError as exc:
            outcomes.append(f"fetch error: {exc}")
    return outcomes


def _payments(con, feed):
    return con.execute("SELECT count(*) FROM raw.spend_payments WHERE publisher_id = ?",
                       [feed.publisher_id]).fetchone()[0]


@pytest.mark.parametrize("fault", ["reset-mid-body", "cut-short", "slow-drip"])
def test_spend_download_faults_are_retried_and_the_file_loads(fault, spend, server, tally):
    settings, con, feeds = spend
    body = (server.spend_dir / feeds[0].local_path.name).read_bytes()
    respond = {"reset-mid-body": reset_mid_body(body), "cut-short": cut_short(body),
               "slow-drip": drip(body[:200])}[fault]
    server.add(lambda path: path == _spend_path(feeds[0]), respond, times=1)
    assert _ingest_all(con, settings, feeds) == ["loaded", "loaded"]
    loaded_sha = con.execute("SELECT file_sha256 FROM ops.spend_files WHERE url = ? AND status = 'loaded'",
                             [feeds[0].url]).fetchone()[0]
    assert loaded_sha == hashlib.sha256(body).hexdigest()  # the whole file, not the cut one
    tally.fault()


@pytest.mark.parametrize("fault, outcome", [
    ("connection-refused", r"fetch error: http://127.0.0.1:9/spend/x.csv: could not connect \(connection refused\) .*"),
    ("slow-drip-every-time", "fetch error: .*body still arriving after 0.5 s after 4 attempts"),
    ("reset-every-time", "fetch error: .*connection broke while reading the body .* after 4 attempts"),
    ("redirect-to-another-host", "fetch error: .*redirected to another host .*not followed"),
    ("html-error-page-200", "rejected"),
    ("truncated-xlsx-200", "rejected"),
], ids=lambda value: value if " " not in value and "*" not in value else "")
def test_spend_feed_that_keeps_failing_is_recorded_and_the_others_load(fault, outcome, spend, server, tally):
    import re

    settings, con, feeds = spend
    body = (server.spend_dir / feeds[0].local_path.name).read_bytes()
    xlsx = (server.spend_dir / SPEND_FILES[1]).read_bytes()
    if fault == "connection-refused":
        feeds[0] = feeds[0].__class__(**{**feeds[0].__dict__, "fetch_url": f"{CLOSED_PORT}/spend/x.csv"})
    else:
        respond = {
            "slow-drip-every-time": drip(body[:200]),
            "reset-every-time": reset_mid_body(body),
            "redirect-to-another-host": complete(b"", status=302, headers={"Location": "http://127.0.0.2:1/x.csv"}),
            "html-error-page-200": complete(HTML_ERROR_PAGE, "text/html"),
            "truncated-xlsx-200": complete(xlsx[: len(xlsx) // 2], "application/octet-stream"),
        }[fault]
        server.add(lambda path: path == _spend_path(feeds[0]), respond, times=10)
    first, second = _ingest_all(con, settings, feeds)
    assert re.fullmatch(outcome, first), first
    assert second == "loaded" and _payments(con, feeds[1]) > 0
    assert _payments(con, feeds[0]) == 0
    status, message = con.execute("SELECT status, message FROM ops.spend_files WHERE url = ?", [feeds[0].url]).fetchone()
    assert status == ("rejected" if outcome == "rejected" else "fetch_failed") and message
    tally.fault()


def test_a_failing_republished_spend_file_keeps_the_loaded_version(spend, server, tally):
    settings, con, feeds = spend
    assert _ingest_all(con, settings, feeds) == ["loaded", "loaded"]
    loaded = _payments(con, feeds[0])
    for respond in (reset_mid_body(b"x" * 4000), complete(HTML_ERROR_PAGE, "text/html")):
        server.add(lambda path: path == _spend_path(feeds[0]), respond, times=10)
        _ingest_all(con, settings, feeds)
        server.scripted.clear()
        assert _payments(con, feeds[0]) == loaded
        tally.fault()


def test_an_oversized_notice_page_fails_its_window_without_reading_it_all(server, tmp_path, monkeypatch, tally):
    monkeypatch.setattr(flows.harvest, "MAX_PAGE_BYTES", 64 * 1024)
    server.add(_in_one_window(CONTRACTS_FINDER, _first_page(CONTRACTS_FINDER)), complete(b" " * (1024 * 1024)))
    with connect_path(tmp_path / "work.duckdb") as con:
        with pytest.raises(HarvestIncomplete, match="larger than the 65,536-byte limit"):
            harvest(settings_for(tmp_path, server), con, CONTRACTS_FINDER, *RANGES[CONTRACTS_FINDER])
        assert _loaded(con, CONTRACTS_FINDER)  # the other window loaded
    tally.fault()
