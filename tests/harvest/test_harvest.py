"""The harvest against loopback servers speaking both protocols: paging, faults, resume, landing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from flows.harvest import HarvestIncomplete, SourceUnreachable, get_watermark, harvest
from flows.http import FetchError, RetryPolicy, fetch
from flows.sources.ocds import SERVICES
from ocds_servers import Fault, make_release, real_releases, status_page, utc

CF_RATE_LIMIT_PAGE = b"<html><head><title>403 - Forbidden</title></head><body>Rate limit exceeded</body></html>"


def many_releases(n: int, day: int = 2) -> list[dict]:
    return [make_release(f"ocds-b5fd17-{i:04d}", f"r-{i:04d}-1", f"2025-01-{day:02d}T{i % 24:02d}:00:00Z")
            for i in range(n)]


def stored_keys(con) -> list[tuple]:
    return con.execute("SELECT source, ocid, release_id FROM raw.ocds_releases ORDER BY ALL").fetchall()


def test_paging_follows_every_cursor_page(serve, settings_for, con):
    server = serve(cf=many_releases(57), page_size=5)
    result = harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 10))
    assert result.pages == 12  # 57 releases, 5 a page
    assert result.releases_new == 57
    assert len(stored_keys(con)) == 57
    cursors = [p for p in server.requests if "cursor=" in p]
    assert len(cursors) == 11


def test_next_link_is_followed_exactly_as_given(serve, settings_for, con):
    server = serve(cf=many_releases(3), page_size=2)
    odd_next = "/Published/Notices/OCDS/Search?cursor=2&publishedTo=2025-01-10T00:00:00&publishedFrom=2025-01-01T00:00:00&x=%7Eodd"

    def first_page(handler):
        body = {"releases": server.releases["contracts_finder"][:2], "links": {"next": server.base_url + odd_next}}
        handler.send_body(200, json.dumps(body).encode())

    server.faults.append(Fault(lambda p: "cursor" not in p, first_page))
    harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 10))
    assert odd_next in server.requests
    assert len(stored_keys(con)) == 3


@pytest.mark.parametrize("fault", [
    status_page(403, CF_RATE_LIMIT_PAGE),
    status_page(429, b"12 request limit in 2 minute", "text/plain"),
    status_page(503, b"Service Unavailable"),
    status_page(504, b""),
], ids=["403-html", "429-no-retry-after", "503", "504"])
def test_rate_limits_and_server_errors_are_retried_and_recovered(serve, settings_for, con, fault):
    server = serve(cf=many_releases(4), fts=many_releases(4), page_size=2)
    server.faults.append(Fault(lambda p: True, fault, times=2))
    for source in ("contracts_finder", "find_a_tender"):
        harvest(settings_for(server), con, source, utc(2025, 1, 2), utc(2025, 1, 3))
    assert len(stored_keys(con)) == 8
    assert server.requests.count(server.requests[0]) == 3  # two faults, then the page


class RecordedWaits(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_documented_waits_apply_when_no_cap_is_set(serve):
    server = serve()
    server.faults.append(Fault(lambda p: True, status_page(403, CF_RATE_LIMIT_PAGE), times=1))
    server.faults.append(Fault(lambda p: True, status_page(429, b""), times=1))
    server.faults.append(Fault(lambda p: True, status_page(503, b"", headers={"Retry-After": "7"}), times=1))
    server.faults.append(Fault(lambda p: True, status_page(500, b""), times=1))
    waits = RecordedWaits()
    policy = RetryPolicy(status_waits={403: 300.0, 429: 120.0})
    fetched = fetch(server.base_url + "/nothing-here-but-faults", policy, sleep=waits, ok_statuses=frozenset({404}))
    assert fetched.status == 404 and fetched.attempts == 5
    assert waits == [300.0, 120.0, 7.0, 16.0]  # 403 doc wait, 429 doc wait, Retry-After, backoff 2*2^3


def test_retry_wait_setting_bounds_every_wait(serve, settings_for):
    server = serve()
    server.faults.append(Fault(lambda p: True, status_page(429, b"", headers={"Retry-After": "3600"}), times=5))
    waits = RecordedWaits()
    settings = settings_for(server, PROCUREMENT_RETRY_WAIT_S="0.25")
    fetched = fetch(server.base_url + "/x", SERVICES["find_a_tender"].retry_policy(settings.retry_wait_cap_s),
                    sleep=waits, ok_statuses=frozenset({404}))
    assert fetched.attempts == 6
    assert waits == [0.25] * 5


def test_retries_run_out_with_a_clear_error(serve):
    server = serve()
    server.faults.append(Fault(lambda p: True, status_page(503, b""), times=10))
    with pytest.raises(FetchError, match=r"/x: HTTP 503 after 3 attempts"):
        fetch(server.base_url + "/x", RetryPolicy(max_attempts=3), sleep=RecordedWaits())


def test_iso_8859_1_body_and_invalid_numbers_are_loaded(serve, settings_for, con):
    server = serve(fts=many_releases(1))

    def quirky_page(handler):
        body = ('{"releases": [{"ocid": "ocds-h6vhtk-0a1b2c", "id": "0a1b2c-1", "date": "2025-01-02T10:00:00Z",'
                ' "tag": ["award"], "parties": [{"id": "GB-COH-1", "name": "Café Nérac Ltd"}],'
                ' "awards": [{"id": "1", "value": {"amount": 1e9999, "currency": "GBP"}, "items": 000,'
                ' "contractPeriod": {"durationInDays": 365}}]}]}')
        handler.send_body(200, body.encode("iso-8859-1"), "application/json; charset=iso-8859-1")

    server.faults.append(Fault(lambda p: "ocdsReleasePackages" in p, quirky_page))
    result = harvest(settings_for(server), con, "find_a_tender", utc(2025, 1, 2), utc(2025, 1, 2, 6))
    assert result.windows[0].repairs == 2
    name, amount, items = con.execute(
        """SELECT release_json->'parties'->0->>'name', release_json->'awards'->0->'value'->>'amount',
                  release_json->'awards'->0->>'items'
           FROM raw.ocds_releases WHERE ocid = 'ocds-h6vhtk-0a1b2c'"""
    ).fetchone()
    assert (name, amount, items) == ("Café Nérac Ltd", None, "0")


def test_release_in_two_overlapping_windows_is_stored_once(serve, settings_for, con):
    server = serve(cf=many_releases(6))
    settings = settings_for(server)
    first = harvest(settings, con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 3))
    second = harvest(settings, con, "contracts_finder", utc(2025, 1, 2), utc(2025, 1, 5))
    assert (first.releases_new, second.releases_seen, second.releases_new) == (6, 6, 0)
    assert len(stored_keys(con)) == 6


def test_amendments_are_kept_as_separate_releases(serve, settings_for, con):
    releases = [make_release("ocds-b5fd17-a", "n1-1", "2025-01-02T09:00:00Z"),
                make_release("ocds-b5fd17-a", "n1-2", "2025-01-03T09:00:00Z", tag=["awardUpdate"])]
    server = serve(cf=releases)
    harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 5))
    assert con.execute("SELECT release_id, tags FROM raw.ocds_releases ORDER BY release_date").fetchall() == [
        ("n1-1", ["award"]), ("n1-2", ["awardUpdate"])]


def test_interrupted_harvest_resumes_from_watermark_without_gaps_or_duplicates(serve, settings_for, con):
    # Four FTS windows a day for three days; one release in each window.
    releases = [make_release(f"ocds-h6vhtk-{d}{h:02d}", f"{d}{h:02d}-1", f"2025-01-0{d}T{h:02d}:30:00Z")
                for d in (1, 2, 3) for h in (0, 6, 12, 18)]
    server = serve(fts=releases)
    settings = settings_for(server)
    broken_window = "updatedFrom=2025-01-02T12:00:00"
    server.faults.append(Fault(lambda p: broken_window in p, status_page(200, b"<html>maintenance</html>"), times=1))

    with pytest.raises(HarvestIncomplete) as failure:
        harvest(settings, con, "find_a_tender", utc(2025, 1, 1), utc(2025, 1, 4))
    assert "1 of 12 windows failed" in str(failure.value)
    assert get_watermark(con, "find_a_tender") == utc(2025, 1, 2, 12)
    assert len(stored_keys(con)) == 11  # every other window loaded anyway
    unreadable = failure.value.result.failed[0].landing_file
    assert Path(settings.home, unreadable).read_bytes() == b"<html>maintenance</html>"

    resumed = harvest(settings, con, "find_a_tender", until=utc(2025, 1, 4))
    assert resumed.since == utc(2025, 1, 2, 11)  # watermark less the overlap
    assert len(stored_keys(con)) == 12
    assert get_watermark(con, "find_a_tender") == utc(2025, 1, 4)


def test_unreachable_service_raises_one_sentence_and_keeps_what_was_loaded(serve, settings_for, con):
    server = serve(cf=many_releases(3))
    harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 5))
    closed = settings_for(None)  # port 9 (discard) is closed on loopback
    with pytest.raises(SourceUnreachable) as failure:
        harvest(closed, con, "contracts_finder", utc(2025, 1, 5), utc(2025, 1, 9))
    message = str(failure.value)
    assert "Could not reach Contracts Finder at http://127.0.0.1:9" in message and "--sample" in message
    assert "\n" not in message
    assert len(stored_keys(con)) == 3


@pytest.mark.parametrize("name, respond, expected", [
    ("cursor-loop", None, "cursor loop"),
    ("redirect-away", status_page(302, b"", headers={"Location": "http://127.0.0.2:1/elsewhere"}), "another host"),
    ("not-found", status_page(404, b"gone"), "HTTP 404"),
])
def test_bad_pages_fail_only_their_window(serve, settings_for, con, name, respond, expected):
    server = serve(cf=many_releases(4, day=20) + many_releases(2, day=2))
    if respond is None:
        def respond(handler):  # a next link that points back at the page itself
            body = {"releases": [], "links": {"next": server.base_url + handler.path}}
            handler.send_body(200, json.dumps(body).encode())
    server.faults.append(Fault(lambda p: "publishedFrom=2025-01-01" in p, respond, times=10))
    with pytest.raises(HarvestIncomplete, match=expected):
        harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 31))
    assert len(stored_keys(con)) == 4  # the second window still loaded
    assert get_watermark(con, "contracts_finder") is None  # but nothing joins it to the start


def test_every_body_is_landed_with_its_sha256_and_metadata(serve, settings_for, con):
    server = serve(cf=many_releases(3), page_size=2)
    settings = settings_for(server)
    harvest(settings, con, "contracts_finder", utc(2025, 1, 1), utc(2025, 1, 5))
    rows = con.execute("SELECT path, sha256, bytes, url FROM ops.landing_files ORDER BY path").fetchall()
    assert len(rows) == 2
    for path, sha, size, url in rows:
        body = (settings.home / path).read_bytes()
        assert hashlib.sha256(body).hexdigest() == sha and len(body) == size
        assert path.startswith("landing/contracts_finder/2025/01/01/")
        meta = json.loads((settings.home / (path + ".meta.json")).read_text())
        assert meta["sha256"] == sha and meta["url"] == url and meta["http_status"] == 200


def test_real_sample_releases_keep_every_suppliers_scale_vcse_and_postcode(serve, settings_for, con):
    server = serve(cf=real_releases())
    harvest(settings_for(server), con, "contracts_finder", utc(2025, 1, 1), utc(2025, 4, 1))
    suppliers = con.execute(
        r"""
        SELECT p->>'name', p->'details'->>'scale', (p->'details'->>'vcse')::BOOLEAN,
               coalesce(p->'address'->>'postalCode',
                        regexp_extract(p->'address'->>'streetAddress',
                                       '([A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})\s*$', 1))
        FROM raw.ocds_releases, unnest(from_json(release_json->'parties', '["JSON"]')) AS t(p)
        WHERE list_contains(from_json(p->'roles', '["VARCHAR"]'), 'supplier')
        """
    ).fetchall()
    # Read by eye from tests/fixtures/contracts_finder/*.json: every supplier party of the 8 releases.
    expected = [
        ("Zuhlke Engineering LTD", "sme", False, "EC2A 3JL"),
        ("Outcomes First Group", "large", False, "CB23 3RD"),
        ("Aurora Group", "large", False, "TA24 5TY"),
        ("Polaris Children's Services", "large", False, "CB22 6SE"),
        ("Kings Ely School", "large", False, "CB7 4EW"),
        ("Aurora Group", "large", False, "PE27 6AL"),
        ("Landmark International School", "large", True, "CB21 5EP"),
        ("Royal School for the Deaf Derby", "large", False, "DE22 3BH"),
        ("Red Balloon Cambridge", "large", False, "CB24 6DF"),
        ("DPS Education Ltd (Tudor Lodge Therapeutic School)", "large", False, "PE12 6RU"),
        ("Hope Tree School", "large", False, "CB24 9NG"),
        ("Aurora Fairway School", "large", False, "PE27 6AL"),
        ("Wilds Lodge", "large", False, "LE15 8QQ"),
        ("Holme Court School", "large", False, "CB1 8DW"),
        ("Aker Systems Limited", "sme", False, "OX26 6AD"),
        ("Elm Site Services Ltd", "sme", True, "RM11 3UB"),
        ("Hennessy Flooring Ltd", None, None, "B17 0TP"),
        ("LGM Limited", None, None, "DY11 7QY"),
        ("McManus Flooring", None, None, "WV10 7BY"),
    ]
    assert sorted(suppliers, key=str) == sorted(expected, key=str)
