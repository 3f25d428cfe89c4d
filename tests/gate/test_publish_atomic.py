import hashlib
import json
import subprocess
import sys
import textwrap

import duckdb
import pytest

from flows.publish import CONTRACT_MARTS, PublishError, clean_stale_temp_files, publish


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_in_new_process(path, sql):
    """A fresh reader in another process: DuckDB caches open databases per process by path."""
    code = f"import duckdb; print(duckdb.connect({str(path)!r}, read_only=True).execute({sql!r}).fetchone()[0])"
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_publish_creates_warehouse_and_parquet(settings):
    result = publish(settings, run_id="run-1")

    assert result.warehouse_path == settings.warehouse_db
    assert set(result.row_counts) == set(CONTRACT_MARTS)
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
        assert tables == set(CONTRACT_MARTS)
        assert con.execute("SELECT sum(total_gbp) FROM marts.sme_spend").fetchone()[0] == 56640
        assert con.execute("SELECT typeof(amount_gbp) FROM marts.fct_payments LIMIT 1").fetchone()[0] == "DECIMAL(18,2)"
        meta = con.execute("SELECT DISTINCT run_id FROM meta.published_tables").fetchall()
        assert meta == [("run-1",)]
    finally:
        con.close()
    for mart in CONTRACT_MARTS:
        path = settings.home / "marts" / f"{mart}.parquet"
        assert result.parquet_paths[mart] == path
        n = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
        assert n == result.row_counts[mart]
    leftovers = [p.name for p in settings.home.rglob("*.new-*")]
    assert leftovers == []


def test_reader_keeps_old_view_and_new_reader_sees_new_data(settings):
    publish(settings, run_id="run-1")
    reader = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM marts.fct_payments").fetchone()[0] == 4

        work = duckdb.connect(str(settings.work_db))
        work.execute("INSERT INTO marts.fct_payments SELECT * REPLACE ('pay-c-2' AS payment_key) "
                     "FROM marts.fct_payments WHERE payment_key = 'pay-c-1'")
        work.close()
        publish(settings, run_id="run-2")

        # The old connection still reads the file it opened, whole and consistent.
        assert reader.execute("SELECT count(*) FROM marts.fct_payments").fetchone()[0] == 4
        assert reader.execute("SELECT DISTINCT run_id FROM meta.published_tables").fetchone()[0] == "run-1"
        assert read_in_new_process(settings.warehouse_db, "SELECT count(*) FROM marts.fct_payments") == "5"
        assert read_in_new_process(settings.warehouse_db, "SELECT DISTINCT run_id FROM meta.published_tables") == "run-2"
    finally:
        reader.close()


def test_failed_publish_leaves_old_warehouse_untouched(settings):
    publish(settings, run_id="run-1")
    before = sha256(settings.warehouse_db)
    parquet_before = sha256(settings.home / "marts" / "dim_buyers.parquet")
    work = duckdb.connect(str(settings.work_db))
    work.execute("DROP TABLE marts.dim_buyers")
    work.close()

    with pytest.raises(PublishError, match="dim_buyers"):
        publish(settings, run_id="run-2")

    assert sha256(settings.warehouse_db) == before
    assert sha256(settings.home / "marts" / "dim_buyers.parquet") == parquet_before
    assert [p.name for p in settings.home.rglob("*.new-*")] == []


def test_killed_publish_leaves_old_warehouse_and_its_temp_files_are_cleaned(settings):
    publish(settings, run_id="run-1")
    before = sha256(settings.warehouse_db)
    # A publish killed mid-way: it had started writing its temp files, then SIGKILL.
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        home = Path({str(settings.home)!r})
        (home / f"warehouse.duckdb.new-{{os.getpid()}}").write_bytes(b"half a database")
        (home / "marts" / f"sme_spend.parquet.new-{{os.getpid()}}").write_bytes(b"half a parquet")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode == -9
    stale = sorted(p.name for p in settings.home.rglob("*.new-*"))
    assert len(stale) == 2

    assert sha256(settings.warehouse_db) == before
    removed = clean_stale_temp_files(settings)
    assert sorted(p.name for p in removed) == stale

    publish(settings, run_id="run-2")
    assert [p.name for p in settings.home.rglob("*.new-*")] == []


def test_publish_without_working_db_is_a_clear_error(tmp_path):
    from flows.config import load_settings

    settings = load_settings({"PROCUREMENT_HOME": str(tmp_path / "empty")})
    with pytest.raises(PublishError, match="no working database"):
        publish(settings)
    assert not settings.warehouse_db.exists()


def test_extra_tables_are_published_beside_the_marts(settings):
    work = duckdb.connect(str(settings.work_db))
    work.execute("CREATE TABLE ops.runs AS SELECT 'run-1' AS run_id, 'published' AS status")
    work.close()
    publish(settings, run_id="run-1", extra_tables=["ops.runs"])
    assert read_in_new_process(settings.warehouse_db, "SELECT status FROM ops.runs") == "published"


READER_LOOP = textwrap.dedent("""
    import json, sys, duckdb
    from pathlib import Path
    path, stop, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    invariant = ("SELECT (SELECT sum(total_gbp) FROM marts.sme_spend) = (SELECT sum(total_gbp) FROM marts.local_spend), "
                 "(SELECT DISTINCT run_id FROM meta.published_tables)")
    seen, errors, reads = set(), [], 0
    held = duckdb.connect(path, read_only=True) if mode == "held" else None
    print("ready", flush=True)
    while not stop.exists() or reads == 0:
        con = held or duckdb.connect(path, read_only=True)
        try:
            consistent, run_id = con.execute(invariant).fetchone()
            if not consistent:
                errors.append("inconsistent view")
            seen.add(run_id)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            if held is None:
                con.close()
        reads += 1
    print(json.dumps({"seen": sorted(seen), "errors": errors[:3], "reads": reads}))
""")


def test_readers_during_publishes_always_see_one_whole_warehouse(settings, tmp_path):
    """A reader holding the file and readers connecting afresh, while publishes replace it."""
    publish(settings, run_id="run-0")
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen([sys.executable, "-c", READER_LOOP, str(settings.warehouse_db), str(stop), mode],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for mode in ("held", "fresh")
    }
    for proc in readers.values():
        assert proc.stdout.readline().strip() == "ready"
    for n in range(1, 4):
        work = duckdb.connect(str(settings.work_db))
        # Change both marts the readers compare, so a half-replaced warehouse would break the invariant.
        work.execute("UPDATE marts.sme_spend SET total_gbp = total_gbp + 1, unknown_gbp = unknown_gbp + 1")
        work.execute("UPDATE marts.local_spend SET total_gbp = total_gbp + 1, unknown_gbp = unknown_gbp + 1")
        work.close()
        publish(settings, run_id=f"run-{n}")
    stop.touch()
    outputs = {mode: proc.communicate(timeout=60) for mode, proc in readers.items()}

    held, fresh = (json.loads(outputs[mode][0]) for mode in ("held", "fresh"))
    assert held["errors"] == [] and held["seen"] == ["run-0"], outputs["held"]
    assert fresh["errors"] == [] and fresh["reads"] >= 1, outputs["fresh"]
    assert set(fresh["seen"]) <= {"run-0", "run-1", "run-2", "run-3"}
    assert read_in_new_process(settings.warehouse_db, "SELECT DISTINCT run_id FROM meta.published_tables") == "run-3"


def test_publish_and_validate_while_the_caller_holds_the_working_db_open(settings):
    """The nightly flow keeps its own connection to work.duckdb; DuckDB allows one instance per file."""
    from flows.publish import publish_if_valid

    held = duckdb.connect(str(settings.work_db))
    try:
        held.execute("CREATE TABLE ops.runs AS SELECT 'run-held' AS run_id")
        memory_limit = held.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        report, result = publish_if_valid(settings, run_id="run-held", extra_tables=["ops.runs"])
        assert report.passed, report.failures
        assert result.row_counts["fct_payments"] == 4
        # validate lowers DuckDB's memory limit for its checks and gives the caller's back.
        assert held.execute("SELECT current_setting('memory_limit')").fetchone()[0] == memory_limit
    finally:
        held.close()
    assert read_in_new_process(settings.warehouse_db, "SELECT run_id FROM ops.runs") == "run-held"
