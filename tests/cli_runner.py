"""The `procurement` command as a user runs it: its own process, against the session's Prefect server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_procurement(args: list[str], home: Path, prefect_api: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PROCUREMENT_HOME": str(home), "PREFECT_API_URL": prefect_api,
                   "PROCUREMENT_RETRY_WAIT_S": "0.01", **env}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=environment, cwd=REPO,
                          capture_output=True, text=True, timeout=900)
