"""A file that moves to a new URL (or is registered under a second spelling of its path) is not loaded twice."""

from __future__ import annotations

import shutil

from flows.config import load_settings
from flows.database import connect_path
from flows.sample.server import FEEDS_DIR
from flows.spend import ingest_feed, read_registry


def test_same_bytes_under_another_url_of_the_publisher_count_once(tmp_path, tally):
    shutil.copy(FEEDS_DIR / "spend" / "birmingham_2025-04_to_2025-05.csv", tmp_path / "spend.csv")
    registry = tmp_path / "registry.csv"
    registry.write_text("publisher_id,publisher_name,lad_code,url\n"
                        "birmingham,Birmingham City Council,E08000025,spend.csv\n"
                        "birmingham,Birmingham City Council,E08000025,./spend.csv\n")
    settings = load_settings({"PROCUREMENT_HOME": str(tmp_path / "home")})
    with connect_path(settings.work_db) as con:
        for _ in range(2):  # and again on the next run
            first, second = (ingest_feed(con, settings, feed) for feed in read_registry(registry))
        assert second.status == "unchanged" and "loaded from spend.csv" in second.message
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (source_file, source_row)) FROM raw.spend_payments").fetchone()
    assert total == distinct > 0
    tally.fault()
