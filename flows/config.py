"""Settings from the environment (section 2 of the warehouse contract).

Every setting is read once into an immutable `Settings`; functions take it as an argument so that
tests can point a run at a temporary home and loopback servers without touching globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

DEFAULT_CONTRACTS_FINDER_URL = "https://www.contractsfinder.service.gov.uk"
DEFAULT_FIND_A_TENDER_URL = "https://www.find-tender.service.gov.uk"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The registry that ships with the project: the sample feeds of the seven WMCA councils and WMCA.
BUNDLED_SPEND_FEEDS = PROJECT_ROOT / "seeds" / "spend_feeds.csv"


class ConfigError(ValueError):
    """A setting has a value the pipeline cannot use."""


@dataclass(frozen=True)
class Settings:
    home: Path
    contracts_finder_url: str
    find_a_tender_url: str
    spend_feeds: Path
    # None means "use the services' documented waits"; tests set a small cap.
    retry_wait_cap_s: float | None

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def work_db(self) -> Path:
        """The pipeline's own database; analysts never open it."""
        return self.home / "work.duckdb"

    @property
    def warehouse_db(self) -> Path:
        """The published warehouse (replaced atomically by publish)."""
        return self.home / "warehouse.duckdb"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    def with_urls(self, contracts_finder_url: str, find_a_tender_url: str) -> "Settings":
        return replace(self, contracts_finder_url=contracts_finder_url, find_a_tender_url=find_a_tender_url)


def _base_url(value: str, name: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    wait = env.get("PROCUREMENT_RETRY_WAIT_S", "").strip()
    try:
        retry_wait_cap_s = float(wait) if wait else None
    except ValueError:
        raise ConfigError(f"PROCUREMENT_RETRY_WAIT_S must be a number of seconds, got {wait!r}") from None
    if retry_wait_cap_s is not None and retry_wait_cap_s < 0:
        raise ConfigError("PROCUREMENT_RETRY_WAIT_S must not be negative")
    return Settings(
        home=Path(env.get("PROCUREMENT_HOME") or "./data").resolve(),
        contracts_finder_url=_base_url(
            env.get("CONTRACTS_FINDER_URL") or DEFAULT_CONTRACTS_FINDER_URL, "CONTRACTS_FINDER_URL"
        ),
        find_a_tender_url=_base_url(env.get("FIND_A_TENDER_URL") or DEFAULT_FIND_A_TENDER_URL, "FIND_A_TENDER_URL"),
        spend_feeds=Path(env["SPEND_FEEDS"]) if env.get("SPEND_FEEDS") else BUNDLED_SPEND_FEEDS,
        retry_wait_cap_s=retry_wait_cap_s,
    )
