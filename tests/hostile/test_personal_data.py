"""Personal data: redacted payees stay redacted, names in rejected rows and credentials in URLs stay out
of logs at INFO and above, messages and landing metadata. (The published marts and Parquet are checked
in tests/faults/test_personal_data_published.py, on the fault suite's baseline run.)"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flows.http import FetchError, RetryPolicy, fetch
from flows.spend import ingest_feed, read_registry

PERSON = "Jane Quentin Citizen"
SECRET = "s3cr3t-pa55"
MARKERS = ["REDACTED PERSONAL DATA", "Redacted", "*Redact - Personal Information", "Personal Data",
           "REDACTED UNDER DP ACT"]


def _spend_file() -> bytes:
    lines = ["Supplier Name,Supplier ID,Amount,Payment Date,Description"]
    lines += [f"{marker},{marker},12.00,01/04/2025,Care payment" for marker in MARKERS]
    lines += [f"{PERSON},{PERSON},not an amount,01/04/2025,Foster care",  # rejected: the name stays in the DB only
              "Redactive Events Ltd,RE1,99.00,02/04/2025,Conference"]
    return ("\n".join(lines) + "\n").encode()


def test_redacted_payees_are_null_and_rejected_names_never_reach_the_logs(con, settings, feed_dir, caplog,
                                                                         hostile_tally):
    (feed_dir / "spend.csv").write_bytes(_spend_file())
    (feed_dir / "registry.csv").write_text("publisher_id,publisher_name,lad_code,url\npub,Council,E08000025,spend.csv\n")
    with caplog.at_level(logging.INFO):
        (feed,) = read_registry(feed_dir / "registry.csv")
        result = ingest_feed(con, settings, feed)
    assert (result.rows_loaded, result.rows_rejected) == (len(MARKERS) + 1, 1)
    rows = con.execute("SELECT supplier_name, supplier_id, is_redacted FROM raw.spend_payments ORDER BY source_row").fetchall()
    assert rows[:-1] == [(None, None, True)] * len(MARKERS)
    assert rows[-1] == ("Redactive Events Ltd", "RE1", False)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PERSON not in logged and not any(marker in logged for marker in MARKERS)
    assert PERSON not in (result.message or "")
    hostile_tally.tried(len(MARKERS) + 1)


@pytest.fixture
def failing_server():
    class Unavailable(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_credentials_in_urls_stay_out_of_logs_and_errors(failing_server, caplog, hostile_tally):
    url = f"http://feeds:{SECRET}@127.0.0.1:{failing_server.server_address[1]}/spend.csv"
    with caplog.at_level(logging.DEBUG, logger="flows"), pytest.raises(FetchError) as failure:
        fetch(url, RetryPolicy(max_attempts=3, wait_cap_s=0))
    assert SECRET not in str(failure.value)
    assert [r for r in caplog.records if SECRET in r.getMessage()] == []
    assert len(caplog.records) == 2  # the retries were logged, without the password
    hostile_tally.tried()


def test_credentials_in_a_registry_url_stay_out_of_landing_metadata_and_messages(con, settings, tmp_path,
                                                                                 hostile_tally):
    """A feed behind basic auth: the registry holds the password, the landing area and messages do not."""
    import dataclasses
    from flows.sample.server import FeedServer, running

    registry = tmp_path / "registry.csv"
    registry.write_text("publisher_id,publisher_name,lad_code,url\n"
                        f"pub,Council,E08000025,http://feeds:{SECRET}@127.0.0.1:1/spend/unmappable.csv\n")
    (feed,) = read_registry(registry)
    spend_dir = tmp_path / "served"
    spend_dir.mkdir()
    (spend_dir / "unmappable.csv").write_text("Who,How much\nAcme,1\n")
    with running(FeedServer({"contracts_finder": [], "find_a_tender": []}, spend_dir=spend_dir)) as server:
        port = server.server_address[1]
        feed = dataclasses.replace(feed, fetch_url=f"http://feeds:{SECRET}@127.0.0.1:{port}/spend/unmappable.csv")
        result = ingest_feed(con, settings, feed)
    assert result.status == "rejected" and SECRET not in result.message
    metas = list((settings.home / "landing").rglob("*.meta.json"))
    assert metas and all(SECRET not in meta.read_text() for meta in metas)
    assert json.loads(metas[0].read_text())["registry_url"].startswith("http://127.0.0.1:1/")
    assert SECRET not in str(con.execute("SELECT list(url) FROM ops.landing_files").fetchone()[0])
    hostile_tally.tried()
