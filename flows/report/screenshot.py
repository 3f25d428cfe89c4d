"""Regenerate the README's picture of the report's first screen.

    procurement run --sample            # or any PROCUREMENT_HOME with a published warehouse
    python -m flows.report.screenshot   # rebuilds the report, writes docs/report-first-screen.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dotenv import load_dotenv

from flows.config import load_settings
from flows.report import build_report
from flows.report.browser import screenshot

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "report-first-screen.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.report.screenshot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"PNG to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    load_dotenv(override=False)
    index = build_report(load_settings())
    print(f"Screenshot: {screenshot(index, args.out)} (of {index})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
