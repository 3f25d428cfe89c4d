"""Feeds over real loopback HTTP: conditional GET (304), unchanged bodies, replacement, size cap, errors."""

from __future__ import annotations

import pytest
import requests
from spend_helpers import Resource, write_registry

from flows.http import FetchError
from flows.spend import ingest_feed

BODY = b"Supplier Name,Date,Amount\r\nAcme Ltd,01/04/2025,100.00\r\nBeta Ltd,02/04/2025,(5.00)\r\n"


def test_etag_304_is_unchanged_and_a_new_body_replaces(con, settings, feed_dir, http_server):
    http_server.resources["/spend.csv"] = Resource(BODY, etag='"v1"', last_modified="Tue, 01 Apr 2025 00:00:00 GMT")
    [feed] = write_registry(feed_dir, [("council", http_server.url("/spend.csv"))])
    with requests.Session() as session:
        first = ingest_feed(con, settings, feed, session=session)
        assert (first.status, first.rows_loaded) == ("loaded", 2)
        assert "if-none-match" not in http_server.requests[-1][1]

        second = ingest_feed(con, settings, feed, session=session)
        assert (second.status, second.message) == ("unchanged", "HTTP 304 Not Modified")
        assert http_server.requests[-1][1]["if-none-match"] == '"v1"'
        assert http_server.requests[-1][1]["if-modified-since"] == "Tue, 01 Apr 2025 00:00:00 GMT"
        assert second.source_file == first.source_file

        http_server.resources["/spend.csv"] = Resource(BODY + b"Gamma Ltd,03/05/2025,7\r\n", etag='"v2"')
        third = ingest_feed(con, settings, feed, session=session)
        assert (third.status, third.rows_loaded) == ("loaded", 3)
        assert http_server.requests[-1][1]["if-none-match"] == '"v1"'  # still asked conditionally

    assert con.execute("SELECT count(*), sum(amount_gbp) FROM raw.spend_payments").fetchone()[0] == 3
    ledger = con.execute(
        "SELECT status, http_status, etag FROM ops.spend_files ORDER BY ingested_at").fetchall()
    assert ledger == [("superseded", 200, '"v1"'), ("unchanged", 304, '"v1"'), ("loaded", 200, '"v2"')]
    assert con.execute("SELECT count(*) FROM ops.landing_files WHERE source = 'local_spend'").fetchone()[0] == 2


def test_server_without_validators_same_bytes_is_unchanged_by_hash(con, settings, feed_dir, http_server):
    http_server.resources["/plain.csv"] = Resource(BODY)
    [feed] = write_registry(feed_dir, [("council", http_server.url("/plain.csv"))])
    assert ingest_feed(con, settings, feed).status == "loaded"
    again = ingest_feed(con, settings, feed)
    assert (again.status, again.message) == ("unchanged", "same SHA-256 as the loaded version")
    assert con.execute("SELECT count(*) FROM raw.spend_payments").fetchone()[0] == 2


def test_oversized_body_hits_the_cap(con, settings, feed_dir, http_server):
    http_server.resources["/huge.csv"] = Resource(BODY + b"x" * 200_000)
    [feed] = write_registry(feed_dir, [("council", http_server.url("/huge.csv"))])
    with pytest.raises(FetchError, match="larger than the 100,000-byte limit"):
        ingest_feed(con, settings, feed, max_bytes=100_000)
    assert con.execute("SELECT status, message LIKE '%larger than%' FROM ops.spend_files").fetchall() == [
        ("fetch_failed", True)]
    assert con.execute("SELECT count(*) FROM raw.spend_payments").fetchone()[0] == 0
    assert not (settings.home / "landing" / "local_spend").exists()


def test_missing_remote_file_raises_fetch_error_after_recording_it(con, settings, feed_dir, http_server):
    [feed] = write_registry(feed_dir, [("council", http_server.url("/absent.csv"))])
    with pytest.raises(FetchError, match="HTTP 404"):
        ingest_feed(con, settings, feed)
    assert con.execute("SELECT status FROM ops.spend_files").fetchone()[0] == "fetch_failed"


def test_rejected_remote_file_is_read_again_from_landing_on_304(con, settings, feed_dir, http_server, tmp_path):
    """A 304 for a file whose layout was rejected re-reads the landed copy (new synonyms may now map it)."""
    http_server.resources["/odd.csv"] = Resource(b"Who,When,Amount\nAcme Ltd,01/04/2025,5\n", etag='"odd"')
    [feed] = write_registry(feed_dir, [("council", http_server.url("/odd.csv"))])
    assert ingest_feed(con, settings, feed).status == "rejected"
    from flows.spend.layout import SYNONYMS_PATH, load_synonyms

    seed = tmp_path / "synonyms.csv"
    seed.write_text(SYNONYMS_PATH.read_text() + "supplier_name,Who\npayment_date,When\n")
    result = ingest_feed(con, settings, feed, synonyms=load_synonyms(seed))
    assert http_server.requests[-1][1]["if-none-match"] == '"odd"'
    assert (result.status, result.rows_loaded) == ("loaded", 1)
