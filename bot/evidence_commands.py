"""`leadrouter experiment report|stop|promote NAME` and `leadrouter review [--days N]`.

Exit codes: `experiment report|stop|promote` 0 done, 2 unknown experiment or nothing to
do (the message says which); `review` 0 nothing found, 1 findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:  # imported when a command runs: `leadrouter --help` stays quick
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.services.experiments import ExperimentService
    from storage.uow import Database

COMMANDS = ("experiment", "review")


def add_commands(commands: Any) -> None:
    """Register the subcommands on `leadrouter`'s subparsers."""
    experiment = commands.add_parser("experiment", help="report, stop or promote an experiment")
    actions = experiment.add_subparsers(dest="experiment_command", required=True)
    report = actions.add_parser("report", help="per-arm figures, differences and the verdict")
    report.add_argument("name")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.add_argument("--saved", type=int, metavar="ID", help="a report saved at promotion")
    actions.add_parser("stop", help="end the experiment now").add_argument("name")
    promote = actions.add_parser("promote", help="make an arm the live routing")
    promote.add_argument("name")
    promote.add_argument("--arm", help="the arm to promote (default: the one found better)")
    review = commands.add_parser("review", help="what has gone stale in the routing rules")
    review.add_argument("--days", type=int, help="the period (default: review.days, 90)")
    review.add_argument("--json", action="store_true", help="print the review as JSON")


def run_command(
    args: argparse.Namespace, settings: Settings, slack: AsyncWebClient | None = None
) -> int:
    """Run the command; `slack` (when a bot token is set) lets the review ask Slack which
    reps are gone."""
    if args.command == "review":
        if args.days is not None and not 1 <= args.days <= 730:
            print("leadrouter: --days must be between 1 and 730", file=sys.stderr)
            return 2
        return asyncio.run(_with_database(settings, lambda db: _review(db, slack, args)))
    return asyncio.run(_with_database(settings, lambda db: _experiment(db, args)))


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    from storage.migrate import upgrade_to_head
    from storage.uow import Database

    db = Database(settings.database_url)
    try:
        await upgrade_to_head(db.engine)
        return await work(db)
    finally:
        await db.dispose()


async def _experiment(db: Database, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.services.configuration import ConfigService
    from bot.services.experiments import ExperimentService
    from domain.errors import DomainError

    service = ExperimentService(db, ConfigService(), SystemClock().now, lambda: None)
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.experiment_command == "report":
            return await _report(service, args)
        if args.experiment_command == "stop":
            version = await service.stop(args.name, actor)
            print(f"stopped experiment {args.name}: configuration version {version}")
            return 0
        version, note = await service.promote(args.name, args.arm, actor)
        print(f"{note}: configuration version {version}")
        return 0
    except DomainError as error:
        print(f"leadrouter: {error}", file=sys.stderr)
        return 2


async def _report(service: ExperimentService, args: argparse.Namespace) -> int:
    from domain.experiment_document import summary_lines, to_document

    if args.saved is not None:
        saved = await service.saved_report(args.saved)
        if saved is None or saved["experiment"] != args.name:
            print(f"leadrouter: no saved report #{args.saved} of {args.name}", file=sys.stderr)
            return 2
        print(json.dumps(saved, indent=2, default=str))
        return 0
    report = await service.report(args.name)
    if args.json:
        print(json.dumps(to_document(report), indent=2))
    else:
        print("\n".join(summary_lines(report)))
    return 0


async def _review(db: Database, slack: AsyncWebClient | None, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.services.configuration import ConfigService
    from bot.services.review import ReviewService, SlackStatus
    from bot.services.user_status import gone_from_slack
    from domain.review_text import review_document, review_lines

    slack_status: SlackStatus | None = None
    if slack is not None:
        slack_status = lambda users: gone_from_slack(slack, users)  # noqa: E731
    service = ReviewService(db, ConfigService(), SystemClock().now, lambda: None, slack_status)
    _, review = await service.review(args.days)
    if args.json:
        print(json.dumps(review_document(review), indent=2))
    else:
        print("\n".join(review_lines(review)))
        if slack_status is None:
            print("(SLACK_BOT_TOKEN unset: reps deactivated in Slack were not checked)")
    return 1 if review.findings else 0
