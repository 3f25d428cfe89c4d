"""Prefect's settings for this project, applied before Prefect is first imported.

Prefect reads its settings at import time. The machine this runs on may have no internet, so
every telemetry path is switched off, and Prefect's own state (its temporary server's database)
is kept under PROCUREMENT_HOME rather than in the user's home directory.
"""

from __future__ import annotations

import os

from flows.config import Settings


def configure(settings: Settings, environ: "os._Environ[str] | dict[str, str]" = os.environ) -> None:
    defaults = {
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        # The temporary server needs ~20 s on a cold 2-core machine; give it room.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        # Log lines from the plain functions under the tasks appear in the Prefect UI too.
        "PREFECT_LOGGING_EXTRA_LOGGERS": "flows",
    }
    for name, value in defaults.items():
        environ.setdefault(name, value)
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
