"""The feed registry's validation, and idempotent loading: twice adds nothing, republished files replace."""

from __future__ import annotations

from pathlib import Path

import pytest
from spend_helpers import write_registry

from flows.spend import RegistryError, ingest_feed, read_registry, record_publishers
from flows.spend.registry import SAMPLE_FEEDS_DIR

HEADER = "publisher_id,publisher_name,lad_code,url,format\n"


def registry(folder: Path, body: str) -> Path:
    path = folder / "registry.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_registry_rows_and_defaults(feed_dir):
    (feed_dir / "a.csv").write_text("x")
    path = registry(feed_dir, HEADER + "birmingham,Birmingham City Council,e08000025,a.csv,CSV\n\n"
                                      "# comment lines are ignored,,,,\n"
                                      "birmingham,Birmingham City Council,E08000025,https://example.org/spend.csv,\n")
    feeds = read_registry(path)
    assert [(f.publisher_id, f.lad_code, f.format, f.is_remote) for f in feeds] == [
        ("birmingham", "E08000025", "csv", False), ("birmingham", "E08000025", "", True)]
    assert feeds[0].local_path == (feed_dir / "a.csv").resolve()
    assert feeds[0].allowed_dirs == (feed_dir.resolve(), SAMPLE_FEEDS_DIR)


def test_registry_without_format_column_is_fine(feed_dir):
    path = registry(feed_dir, "publisher_id,publisher_name,lad_code,url\nx,X,E08000025,https://example.org/a.csv\n")
    assert read_registry(path)[0].format == ""


def test_registry_errors_name_every_bad_row(feed_dir, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x")
    path = registry(
        feed_dir,
        HEADER
        + "ok,Ok Council,E08000025,https://example.org/a.csv,\n"
        + "file,File Council,E08000025,file:///etc/passwd,\n"
        + "ftp,Ftp Council,E08000025,ftp://example.org/a.csv,\n"
        + f"outside,Outside Council,E08000025,{outside},\n"
        + "climb,Climb Council,E08000025,../elsewhere.csv,\n"
        + ",No Id,E08000025,https://example.org/b.csv,\n"
        + "Bad Slug,Bad,E08000025,https://example.org/c.csv,\n"
        + "lad,Lad Council,Birmingham,https://example.org/d.csv,pdf\n"
        + "ok,Other Name,E08000025,https://example.org/e.csv,\n"
        + "ok,Ok Council,E08000025,https://example.org/a.csv,\n",
    )
    with pytest.raises(RegistryError) as raised:
        read_registry(path)
    message = str(raised.value)
    assert str(path) in message
    for expected in [
        "row 3: url 'file:///etc/passwd' uses file:, but only http(s) URLs and local paths are accepted",
        "row 4: url 'ftp://example.org/a.csv' uses ftp:",
        "row 5: local path", "row 6: local path '../elsewhere.csv' is outside the allowed feed folders",
        "row 7: missing publisher_id",
        "row 8: publisher_id 'Bad Slug' must be a lower-case slug",
        "row 9: lad_code 'Birmingham' is not an ONS area code", "format 'pdf' must be csv, xlsx or empty",
        "row 10: publisher 'ok' has a different name or lad_code from row 2",
        "row 11: same publisher_id and url as row 2",
    ]:
        assert expected in message
    assert "row 2:" not in message


def test_registry_missing_columns(feed_dir):
    with pytest.raises(RegistryError, match="missing column\\(s\\) lad_code, url"):
        read_registry(registry(feed_dir, "publisher_id,publisher_name\nx,X\n"))
    with pytest.raises(RegistryError, match="cannot be read"):
        read_registry(feed_dir / "absent.csv")


def test_local_file_swapped_for_a_symlink_outside_is_refused(con, settings, feed_dir, tmp_path):
    (feed_dir / "spend.csv").write_text("Supplier Name,Date,Amount\nAcme Ltd,01/04/2025,5\n")
    [feed] = write_registry(feed_dir, [("council", "spend.csv")])
    secret = tmp_path / "secret.csv"
    secret.write_text("Supplier Name,Date,Amount\nSecret Ltd,01/04/2025,5\n")
    (feed_dir / "spend.csv").unlink()
    (feed_dir / "spend.csv").symlink_to(secret)
    result = ingest_feed(con, settings, feed)
    assert result.status == "failed" and "outside the allowed feed folders" in result.message
    assert con.execute("SELECT count(*) FROM raw.spend_payments").fetchone()[0] == 0


def test_missing_local_file_is_recorded_not_raised(con, settings, feed_dir):
    [feed] = write_registry(feed_dir, [("council", "gone.csv")])
    result = ingest_feed(con, settings, feed)
    assert result.status == "failed" and "gone.csv: cannot be read" in result.message


def counts(con) -> tuple[int, int, int]:
    return con.execute(
        "SELECT (SELECT count(*) FROM raw.spend_payments), (SELECT count(*) FROM raw.spend_rejects), "
        "(SELECT count(*) FROM raw.spend_publishers)"
    ).fetchone()


def test_loading_the_same_registry_twice_adds_nothing(con, settings, feed_dir):
    (feed_dir / "a.csv").write_text("Supplier Name,Date,Amount\nAcme Ltd,01/04/2025,5\nAcme Ltd,01/04/2025,5\nB,bad,1\n")
    (feed_dir / "b.csv").write_text("Supplier Name,Date,Amount\nBeta Ltd,02/04/2025,7\n")
    feeds = write_registry(feed_dir, [("alpha", "a.csv"), ("beta", "b.csv")])
    record_publishers(con, feeds)
    first = [ingest_feed(con, settings, feed) for feed in feeds]
    assert [r.status for r in first] == ["loaded", "loaded"]
    assert counts(con) == (3, 1, 2)  # identical lines inside one file are both kept
    record_publishers(con, read_registry(feed_dir / "registry.csv"))
    second = [ingest_feed(con, settings, feed) for feed in feeds]
    assert [r.status for r in second] == ["unchanged", "unchanged"]
    assert [r.rows_read for r in second] == [0, 0]
    assert counts(con) == (3, 1, 2)
    landed = list((settings.home / "landing" / "local_spend").rglob("*.csv"))
    assert len(landed) == 2


def republish(folder: Path, lines: list[str]) -> None:
    (folder / "spend.csv").write_text("Supplier Name,Date,Amount,Transaction Number\n" + "".join(lines))


def test_republished_file_with_extra_months_adds_only_the_new_rows(con, settings, feed_dir):
    april = ["Acme Ltd,01/04/2025,100.00,T1\n", "Beta Ltd,15/04/2025,200.00,T2\n", "Gamma,30/04/2025,oops,T3\n"]
    may = ["Acme Ltd,02/05/2025,300.00,T4\n"]
    republish(feed_dir, april)
    [feed] = write_registry(feed_dir, [("council", "spend.csv")])
    assert ingest_feed(con, settings, feed).rows_loaded == 2
    republish(feed_dir, april + may)
    second = ingest_feed(con, settings, feed)
    assert (second.status, second.rows_loaded, second.rows_rejected) == ("loaded", 3, 1)
    rows = con.execute("SELECT transaction_number, source_file FROM raw.spend_payments ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["T1", "T2", "T4"]
    assert {r[1] for r in rows} == {second.source_file}
    assert con.execute("SELECT count(*) FROM raw.spend_rejects").fetchone()[0] == 1
    ledger = con.execute(
        "SELECT status, rows_loaded, source_file FROM ops.spend_files ORDER BY ingested_at").fetchall()
    assert [(s, n) for s, n, _ in ledger] == [("superseded", 2), ("loaded", 3)]
    # Both versions stay in the landing area, as received.
    assert all((settings.home / path).exists() for _, _, path in ledger)
    assert ledger[0][2] != ledger[1][2]
    # Loaded payments always equal what the ledger says the current versions hold.
    assert con.execute(
        "SELECT sum(rows_loaded) FROM ops.spend_files WHERE status = 'loaded'").fetchone()[0] == 3


def test_republished_version_that_cannot_be_mapped_keeps_the_previous_rows(con, settings, feed_dir):
    republish(feed_dir, ["Acme Ltd,01/04/2025,100.00,T1\n"])
    [feed] = write_registry(feed_dir, [("council", "spend.csv")])
    ingest_feed(con, settings, feed)
    (feed_dir / "spend.csv").write_text("Who,When,How much\nAcme Ltd,01/04/2025,100.00\n")
    assert ingest_feed(con, settings, feed).status == "rejected"
    assert con.execute("SELECT count(*) FROM raw.spend_payments").fetchone()[0] == 1


def test_record_publishers_upserts(con, feed_dir):
    feeds = write_registry(feed_dir, [("alpha", "https://example.org/a.csv"), ("alpha", "https://example.org/b.csv")])
    assert record_publishers(con, feeds) == 2
    assert record_publishers(con, feeds) == 2
    (feed_dir / "registry2.csv").write_text(HEADER + "alpha,Alpha Borough,E08000026,https://example.org/c.csv,xlsx\n")
    record_publishers(con, read_registry(feed_dir / "registry2.csv"))
    rows = con.execute("SELECT publisher_name, lad_code, url, format FROM raw.spend_publishers ORDER BY url").fetchall()
    assert rows == [("Alpha Borough", "E08000026", "https://example.org/a.csv", ""),
                    ("Alpha Borough", "E08000026", "https://example.org/b.csv", ""),
                    ("Alpha Borough", "E08000026", "https://example.org/c.csv", "xlsx")]
