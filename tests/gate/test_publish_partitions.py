"""A publish rewrites only what changed, decided by content, and the result equals a publish from scratch.

The working DB is the gate's hand-made one; a "night" changes one publisher's payments and one small mart.
"""

import os
import shutil

import duckdb

from flows.publish import CHECKSUM_KEY, CONTRACT_MARTS, MAX_DELETED_SHARE, PARQUET_FILES, deleted_share, publish


def rows(sql, path=None):
    with duckdb.connect(str(path) if path else ":memory:", read_only=bool(path)) as con:
        return sorted(map(repr, con.execute(sql).fetchall()))


def published(settings, mart):
    return rows(f"SELECT * FROM marts.{mart}", settings.warehouse_db)


def in_parquet(settings, mart):
    return rows(f"SELECT * FROM read_parquet('{settings.home / 'marts' / mart}.parquet')")


def working(settings, mart):
    return rows(f"SELECT * FROM marts.{mart}", settings.work_db)


def parts(settings):
    """part file name -> inode, in the version fct_payments.parquet points to."""
    folder = settings.home / "marts" / "fct_payments.parquet"
    return {p.name: p.stat().st_ino for p in folder.iterdir()}


def night(settings):
    """New payments for one publisher (a copy of its rows under new keys) and a changed sme_spend."""
    with duckdb.connect(str(settings.work_db)) as con:
        publisher = con.execute("SELECT min(publisher_id) FROM marts.fct_payments").fetchone()[0]
        con.execute("INSERT INTO marts.fct_payments SELECT * REPLACE (payment_key || '-night' AS payment_key) "
                    "FROM marts.fct_payments WHERE publisher_id = ?", [publisher])
        con.execute("UPDATE marts.sme_spend SET total_gbp = total_gbp + 1")
    return publisher


def several_publishers(settings):
    """Copies of the payments under 40 more publishers, so several part files; returns the publishers."""
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("INSERT INTO marts.fct_payments SELECT p.* REPLACE (payment_key || '-' || n AS payment_key, "
                    "publisher_id || '-' || n AS publisher_id) FROM marts.fct_payments AS p, range(40) AS r(n)")
        return [p for (p,) in con.execute("SELECT DISTINCT publisher_id FROM marts.fct_payments ORDER BY 1").fetchall()]


def assert_everything_equals_the_working_db(settings):
    for mart in CONTRACT_MARTS:
        assert published(settings, mart) == working(settings, mart), mart
        assert in_parquet(settings, mart) == working(settings, mart), mart


def test_a_night_rewrites_the_changed_publishers_file_and_the_changed_mart_only(settings):
    several_publishers(settings)
    first = publish(settings)
    assert first.updated_in_place == [] and first.unchanged == []
    before = parts(settings)
    assert 1 < len(before) <= PARQUET_FILES
    dim_buyers = os.stat(settings.home / "marts" / "dim_buyers.parquet")
    publisher = night(settings)

    result = publish(settings)

    assert result.updated_in_place == ["fct_payments"]
    assert sorted(result.unchanged) == sorted(set(CONTRACT_MARTS) - {"fct_payments", "sme_spend"})
    with duckdb.connect() as con:
        (number,) = con.execute("SELECT hash(?) % ?", [publisher, PARQUET_FILES]).fetchone()
    rewritten = f"part-{number:02d}.parquet"
    assert sorted(w.rpartition("/")[2] for w in result.parquet_written) == [rewritten, "sme_spend.parquet"]
    after = parts(settings)
    assert after.keys() == before.keys()
    assert {name for name in after if after[name] != before[name]} == {rewritten}  # the rest are hard links
    assert os.stat(settings.home / "marts" / "dim_buyers.parquet").st_ino == dim_buyers.st_ino
    assert_everything_equals_the_working_db(settings)


def test_nothing_changed_nothing_written(settings):
    publish(settings)
    pointer = os.readlink(settings.home / "marts" / "fct_payments.parquet")

    result = publish(settings)

    assert sorted(result.unchanged) == sorted(CONTRACT_MARTS)
    assert result.parquet_written == []
    assert os.readlink(settings.home / "marts" / "fct_payments.parquet") == pointer
    assert_everything_equals_the_working_db(settings)


def test_the_version_before_is_kept_for_readers_and_older_ones_removed(settings):
    targets = []
    for _ in range(3):
        night(settings)
        publish(settings)
        targets.append(os.readlink(settings.home / "marts" / "fct_payments.parquet"))
    versions = sorted(p.name for p in (settings.home / "marts" / "fct_payments.versions").iterdir())
    assert len(set(targets)) == 3
    assert versions == sorted(os.path.basename(t) for t in targets[1:])


def test_a_parquet_file_that_does_not_hold_what_is_published_is_rewritten(settings):
    publish(settings)
    marts = settings.home / "marts"
    # Someone's edit of the files: the footers no longer say what the warehouse holds.
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS n) TO '{marts / 'dim_buyers.parquet'}' (FORMAT parquet)")
        part = next((marts / "fct_payments.parquet").iterdir())
        tag = con.execute(f"SELECT value FROM parquet_kv_metadata('{part}') WHERE key = ?",
                          [CHECKSUM_KEY.encode()]).fetchone()[0].decode()
        shutil.copyfile(part, marts / "edited.parquet")
        con.execute(f"COPY (SELECT * FROM read_parquet('{part}') LIMIT 1) TO '{part}.x' "
                    f"(FORMAT parquet, KV_METADATA {{{CHECKSUM_KEY}: 'not {tag}'}})")
        os.replace(f"{part}.x", part)

    result = publish(settings)

    assert "dim_buyers.parquet" in result.parquet_written
    assert any(w.endswith(part.name) for w in result.parquet_written)
    assert_everything_equals_the_working_db(settings)


def test_a_home_of_the_earlier_layout_or_copied_without_symlinks_is_taken_over(settings):
    marts = settings.home / "marts"
    marts.mkdir()
    (marts / "fct_payments.parquet").write_bytes(b"one file, as publishes before partitions wrote it")
    publish(settings)
    assert (marts / "fct_payments.parquet").is_symlink()
    assert_everything_equals_the_working_db(settings)

    # `cp -r` without -P, or shutil.copytree: the link becomes a real folder.
    copy = settings.home.parent / "copy"
    shutil.copytree(settings.home, copy)
    assert not (copy / "marts" / "fct_payments.parquet").is_symlink()
    from flows.config import load_settings

    copied = load_settings({"PROCUREMENT_HOME": str(copy)})
    night(copied)
    publish(copied)
    assert (copy / "marts" / "fct_payments.parquet").is_symlink()
    assert_everything_equals_the_working_db(copied)
    assert [p.name for p in copy.rglob("*.new-*")] + [p.name for p in copy.rglob("*.old-*")] == []


def test_an_edited_warehouse_is_checked_over_every_row_and_copied_whole(settings):
    publishers = several_publishers(settings)
    publish(settings)
    # An edit of a payment the night does not change, behind the recorded sums' back.
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("UPDATE marts.fct_payments SET amount_gbp = amount_gbp + 1 WHERE publisher_id = ?", [publishers[-1]])
    assert night(settings) == publishers[0] != publishers[-1]

    result = publish(settings)

    assert "fct_payments" not in result.updated_in_place + result.unchanged  # copied whole
    assert_everything_equals_the_working_db(settings)


def test_a_night_after_a_publish_trusts_only_the_file_that_publish_wrote(settings):
    publish(settings)
    night(settings)
    assert publish(settings).updated_in_place == ["fct_payments"]  # the warehouse is the file written
    night(settings)
    shutil.copyfile(settings.warehouse_db, settings.home / "restored")  # e.g. restored from a backup
    os.replace(settings.home / "restored", settings.warehouse_db)

    result = publish(settings)

    # Checked over every row, found whole: updated in place all the same.
    assert result.updated_in_place == ["fct_payments"]
    assert_everything_equals_the_working_db(settings)


def test_changed_award_processes_are_replaced_in_place_and_the_parquet_file_rewritten(settings):
    with duckdb.connect(str(settings.work_db)) as con:  # many processes, so many buckets
        con.execute("INSERT INTO marts.fct_award_suppliers SELECT a.* REPLACE (ocid || '-' || n AS ocid) "
                    "FROM marts.fct_award_suppliers AS a, range(50) AS r(n)")
    publish(settings)
    with duckdb.connect(str(settings.work_db)) as con:  # a night: one process's award changes, one is new
        ocid = con.execute("SELECT min(ocid) FROM marts.fct_award_suppliers").fetchone()[0]
        con.execute("UPDATE marts.fct_award_suppliers SET value_gbp = value_gbp + 1 WHERE ocid = ?", [ocid])
        con.execute("INSERT INTO marts.fct_award_suppliers SELECT * REPLACE (ocid || '-new' AS ocid) "
                    "FROM marts.fct_award_suppliers WHERE ocid = ?", [ocid])

    result = publish(settings)

    assert result.updated_in_place == ["fct_award_suppliers"]
    assert result.parquet_written == ["fct_award_suppliers.parquet"]  # still one file
    assert_everything_equals_the_working_db(settings)


def test_deleted_award_rows_stay_stored_until_they_are_a_tenth_of_the_table(settings):
    # The caller holds the working DB open: the publish shares its DuckDB instance, and gives the setting back.
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("INSERT INTO marts.fct_award_suppliers SELECT a.* REPLACE (ocid || '-' || n AS ocid) "
                    "FROM marts.fct_award_suppliers AS a, range(50) AS r(n)")
        vacuum_tasks = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0]
        publish(settings)

        def night_changing(percent):  # the awards of about `percent` % of the processes
            con.execute("UPDATE marts.fct_award_suppliers SET value_gbp = value_gbp + 1 WHERE hash(ocid) % 100 < ?",
                        [percent])
            publish(settings)
            with duckdb.connect(str(settings.warehouse_db), read_only=True) as wh:
                return deleted_share(wh, 'marts."fct_award_suppliers"')

        first = night_changing(3)
        assert 0 < first <= MAX_DELETED_SHARE  # replaced rows left stored, row groups not merged
        assert night_changing(30) > MAX_DELETED_SHARE  # decided on what the last publish left
        assert night_changing(3) < first  # more than a tenth deleted: DuckDB vacuumed them
        assert con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0] == vacuum_tasks
    assert_everything_equals_the_working_db(settings)
