"""The `procurement` command (contract section 2)."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from datetime import datetime, timezone

from dotenv import load_dotenv

from flows.config import ConfigError, Settings, load_settings
from flows.prefect_env import configure
from flows.run_lock import RunLockedError, run_lock

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
# Published, but with what the sources that worked gave: a monitor should still look.
EXIT_PUBLISHED_WITH_FAILED_SOURCES = 4

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/London"


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
    ingest.add_argument("source", choices=["contracts-finder", "find-a-tender", "spend"])
    ingest.add_argument("--since", type=parse_date, help="notices from this date (default: resume from the watermark)")
    ingest.add_argument("--until", type=parse_date, help="notices up to this date (default: now)")
    ingest.add_argument("--feeds", help="spend: the feed registry CSV (default: $SPEND_FEEDS)")

    transform = commands.add_parser("transform", help="dbt build of the project")
    transform.add_argument("--full-refresh", action="store_true", default=None,
                           help="rebuild every incremental model from all raw rows (default: only when needed)")
    commands.add_parser("validate", help="run the Great Expectations checkpoint; non-zero exit on failure")
    commands.add_parser("publish", help="validate, then publish the marts atomically")

    serve = commands.add_parser("serve", help="run the nightly schedule as a Prefect deployment from this process")
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f"when to run (default {DEFAULT_CRON!r})")
    serve.add_argument("--timezone", default=DEFAULT_TIMEZONE, help=f"the cron's time zone (default {DEFAULT_TIMEZONE})")

    commands.add_parser("status", help="last runs, watermarks, files seen, rows loaded and rejected")
    commands.add_parser("report", help="rebuild the HTML report from the published warehouse")
    query = commands.add_parser("query", help="run one read-only SQL statement on the published warehouse")
    query.add_argument("sql", help='e.g. "SELECT * FROM marts.sme_spend LIMIT 5"')
    query.add_argument("--csv", action="store_true", help="print CSV (spreadsheet-safe) instead of a table")
    return parser


def _print_outcomes(outcomes) -> int:
    for outcome in outcomes:
        print(("ok     " if outcome.ok else "FAILED ") + outcome.message)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    # Checked before Prefect starts its server, so that a second run says so at once.
    with run_lock(settings):
        pass
    from flows.pipeline import nightly_run

    outcome = nightly_run(sample=args.sample, since=args.since, until=args.until)
    _print_outcomes(outcome.sources)
    print(outcome.summary_markdown)
    if outcome.published is None:
        print(f"FAILED {outcome.message}")
        return EXIT_FAILED
    print(f"Published warehouse: {outcome.published.warehouse_path}")
    print(f"Parquet marts:       {settings.home / 'marts'}")
    print(f"Data Docs:           {outcome.validation.data_docs_index}")
    if outcome.report_path is not None:
        print(f"Report:              {outcome.report_path}")
    if outcome.failed_sources:
        print(f"WARNING published without fresh data from {', '.join(s.source for s in outcome.failed_sources)}")
        return EXIT_PUBLISHED_WITH_FAILED_SOURCES
    return EXIT_OK


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    if args.source == "spend":
        from flows.pipeline import ingest_spend
        from flows.spend import read_registry

        return _print_outcomes([ingest_spend(settings, read_registry(args.feeds or settings.spend_feeds))])
    from flows.pipeline import ingest_notices

    source = args.source.replace("-", "_")
    return _print_outcomes([ingest_notices(settings, source, args.since, args.until)])


def cmd_transform(settings: Settings, args: argparse.Namespace) -> int:
    from flows.pipeline import transform_flow

    result = transform_flow(args.full_refresh)
    how = f"full rebuild ({result.full_refresh_reason})" if result.full_refresh_reason else "incremental"
    print(f"dbt build passed, {how}: {len(result.nodes)} nodes in {result.elapsed_s:.1f} s")
    return EXIT_OK


def _print_validation(report) -> int:
    if report.passed:
        print(f"Validation passed: {report.expectations_evaluated} expectations. Data Docs: {report.data_docs_index}")
        return EXIT_OK
    print(f"Validation FAILED ({len(report.failures)} expectations). Data Docs: {report.data_docs_index}")
    for name in report.failed_expectations:
        print(f"  - {name}")
    return EXIT_FAILED


def cmd_validate(settings: Settings, args: argparse.Namespace) -> int:
    from flows.pipeline import validate_flow

    return _print_validation(validate_flow())


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    from flows.pipeline import publish_flow

    report, published = publish_flow()
    code = _print_validation(report)
    if published is not None:
        print(f"Published warehouse: {published.warehouse_path}")
    return code


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from flows.schedule import serve_nightly

    serve_nightly(args.cron, args.timezone)
    return EXIT_OK


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from flows.report import report_command

    return report_command(settings, args)


def cmd_query(settings: Settings, args: argparse.Namespace) -> int:
    from flows.report import QueryRefused, query_command

    try:
        return query_command(settings, args)
    except QueryRefused as exc:
        print(f"procurement query: {exc}", file=sys.stderr)
        return EXIT_USAGE


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from flows.status import render_status

    print(render_status(settings))
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "ingest": cmd_ingest,
    "transform": cmd_transform,
    "validate": cmd_validate,
    "publish": cmd_publish,
    "serve": cmd_serve,
    "status": cmd_status,
    "report": cmd_report,
    "query": cmd_query,
}


# Commands that write under PROCUREMENT_HOME take the run lock for their whole length; `run` takes
# it inside its flow (so that scheduled runs hold it too) and only checks it here, before Prefect starts.
LOCKED_COMMANDS = {"ingest", "transform", "validate", "publish"}


def main(argv: list[str] | None = None) -> int:
    load_dotenv(override=False)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every call to the Prefect API is logged by httpx at INFO; only its problems matter here.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"procurement: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure(settings)
    try:
        if args.command in LOCKED_COMMANDS:
            with run_lock(settings):
                return COMMANDS[args.command](settings, args)
        return COMMANDS[args.command](settings, args)
    except RunLockedError as exc:
        print(f"procurement: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into one sentence
        logging.getLogger("flows.cli").debug("traceback", exc_info=True)
        first_line = next(iter(str(exc).strip().splitlines()), "") or type(exc).__name__
        print(f"procurement {args.command} FAILED: {first_line}", file=sys.stderr)
        return EXIT_FAILED


def console_main() -> int:
    """The `procurement` command: `main`, then an exit without Python's final garbage collection.

    At exit the interpreter searches every object still alive for reference cycles - after a dbt build
    or a validation some hundreds of thousands, ~1-2 s - just before the process ends and the system
    takes its memory back anyway; `gc.freeze()` puts them out of the collector's reach. Garbage left in
    cycles is then not finalized at exit, which the commands do not rely on: they close their databases
    and files before returning. Not in `main`, which tests call in-process."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
