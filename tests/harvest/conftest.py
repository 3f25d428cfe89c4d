"""Fixtures for the harvest tests: loopback servers, settings pointing at them, a working database."""

from __future__ import annotations

import pytest

from flows.config import load_settings
from flows.database import connect_path
from flows.sample.server import FeedServer, running
from ocds_servers import FaultyFeedServer


@pytest.fixture
def serve():
    """serve(cf_releases, fts_releases, page_size=None) -> a running FaultyFeedServer."""
    servers = []

    def start(cf: list[dict] | None = None, fts: list[dict] | None = None, page_size: int | None = None):
        server = FaultyFeedServer(
            {"contracts_finder": sorted(cf or [], key=lambda r: r["date"]),
             "find_a_tender": sorted(fts or [], key=lambda r: r["date"])},
            page_size=page_size,
        )
        ctx = running(server)
        ctx.__enter__()
        servers.append(ctx)
        return server

    yield start
    for ctx in servers:
        ctx.__exit__(None, None, None)


@pytest.fixture
def settings_for(tmp_path):
    """settings_for(server) -> Settings with both services at `server`, waits capped at 10 ms."""

    def make(server: FeedServer | None = None, **env: str):
        base = server.base_url if server else "http://127.0.0.1:9"
        return load_settings({
            "PROCUREMENT_HOME": str(tmp_path / "home"),
            "CONTRACTS_FINDER_URL": base,
            "FIND_A_TENDER_URL": base,
            "PROCUREMENT_RETRY_WAIT_S": "0.01",
            **env,
        })

    return make


@pytest.fixture
def con(tmp_path):
    connection = connect_path(tmp_path / "home" / "work.duckdb")
    yield connection
    connection.close()
