"""`procurement ingest` as a user runs it: a real subprocess, real Prefect, loopback services."""

from __future__ import annotations

import duckdb
from cli_runner import run_procurement

from ocds_servers import make_release, real_releases


def release_keys(home) -> set[tuple]:
    with duckdb.connect(str(home / "work.duckdb"), read_only=True) as con:
        return set(con.execute("SELECT source, ocid, release_id FROM raw.ocds_releases").fetchall())


def test_ingest_loads_every_release_any_conforming_server_serves(serve, tmp_path, prefect_api):
    fts = [make_release(f"ocds-h6vhtk-{i:06x}", f"{i:06x}-1", f"2025-03-0{1 + i % 3}T{i % 24:02d}:15:00Z")
           for i in range(40)]
    server = serve(cf=real_releases(), fts=fts, page_size=3)
    home = tmp_path / "home"
    cf = run_procurement(["ingest", "contracts-finder", "--since", "2025-01-01", "--until", "2025-04-01"], home,
                 prefect_api, CONTRACTS_FINDER_URL=server.base_url)
    assert cf.returncode == 0, cf.stdout + cf.stderr
    assert "Contracts Finder: 8 new releases" in cf.stdout
    fts_run = run_procurement(["ingest", "find-a-tender", "--since", "2025-03-01", "--until", "2025-03-04"], home,
                      prefect_api, FIND_A_TENDER_URL=server.base_url)
    assert fts_run.returncode == 0, fts_run.stdout + fts_run.stderr
    served = {("contracts_finder", r["ocid"], r["id"]) for r in real_releases()}
    served |= {("find_a_tender", r["ocid"], r["id"]) for r in fts}
    assert release_keys(home) == served

    status = run_procurement(["status"], home, prefect_api)
    assert "contracts_finder   8 releases in 8 processes" in status.stdout
    assert "find_a_tender      40 releases in 40 processes" in status.stdout


def test_unreachable_service_exits_non_zero_with_one_sentence(serve, tmp_path, prefect_api):
    server = serve(cf=real_releases())
    home = tmp_path / "home"
    first = run_procurement(["ingest", "contracts-finder", "--since", "2025-01-01", "--until", "2025-04-01"], home,
                    prefect_api, CONTRACTS_FINDER_URL=server.base_url)
    assert first.returncode == 0, first.stdout + first.stderr

    down = run_procurement(["ingest", "contracts-finder"], home, prefect_api, CONTRACTS_FINDER_URL="http://127.0.0.1:9")
    assert down.returncode == 1
    failure_lines = [line for line in down.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failure_lines) == 1
    assert "Could not reach Contracts Finder at http://127.0.0.1:9" in failure_lines[0]
    assert "procurement run --sample" in failure_lines[0]
    assert len(release_keys(home)) == 8  # nothing already loaded was lost
