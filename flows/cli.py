"""The `procurement` command (contract section 2)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timezone

from dotenv import load_dotenv

from flows.config import ConfigError, Settings, load_settings
from flows.prefect_env import configure

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def parse_date(value: str) -> datetime:
    """YYYY-MM-DD or an ISO timestamp; times without a zone are UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procurement",
        description="UK public procurement data warehouse: harvest, transform, validate, publish.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the nightly job: ingest every source, build, validate, publish")
    run.add_argument("--sample", action="store_true",
                     help="run offline on the sample feeds that ship with the project (served on loopback)")
    run.add_argument("--since", type=parse_date, help="harvest notices from this date (default: resume)")
    run.add_argument("--until", type=parse_date, help="harvest notices up to this date (default: now)")

    ingest = commands.add_parser("ingest", help="ingest one source")
    ingest.add_argument("source", choices=["contracts-finder", "find-a-tender"])
    ingest.add_argument("--since", type=parse_date, help="from this date (default: resume from the watermark)")
    ingest.add_argument("--until", type=parse_date, help="up to this date (default: now)")

    commands.add_parser("status", help="last runs, watermarks and what was loaded")
    return parser


def _print_outcomes(outcomes) -> int:
    for outcome in outcomes:
        print(("ok     " if outcome.ok else "FAILED ") + outcome.message)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from flows.pipeline import nightly_run

    outcome = nightly_run(settings, sample=args.sample, since=args.since, until=args.until)
    code = _print_outcomes(outcome.sources)
    print(f"Working database: {settings.work_db}")
    return code


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from flows.pipeline import ingest_notices

    source = args.source.replace("-", "_")
    return _print_outcomes([ingest_notices(settings, source, args.since, args.until)])


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from flows.status import render_status

    print(render_status(settings))
    return EXIT_OK


COMMANDS = {"run": cmd_run, "ingest": cmd_ingest, "status": cmd_status}


def main(argv: list[str] | None = None) -> int:
    load_dotenv(override=False)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every call to the Prefect API is logged by httpx at INFO; only its problems matter here.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"procurement: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure(settings)
    return COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
