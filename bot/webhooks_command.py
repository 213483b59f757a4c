"""`leadrouter webhooks replay --since TIME [--endpoint NAME]` and `leadrouter webhooks
test NAME`.

Replay puts every webhook delivery queued since TIME that was sent or given up on
(dead) back in the outbox, in its original order and with its original `webhook-id`, so
a receiver that lost data gets it again and one that has it drops the repeats; the
running app delivers them. Test sends a `webhook.test` event, signed like any
delivery, and shows the endpoint's answer.

Exit codes: replay 0 (with the count), 2 bad TIME or unknown endpoint; test 0 the
endpoint answered 2xx, 1 it answered otherwise or not at all, 2 unknown endpoint or
its secret is not set.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.webhook_transport import send_test_event
from domain.config import Config
from domain.durations import parse_duration
from storage.uow import Database
from storage.webhook_outbox import WebhookRepository


class CommandError(Exception):
    """Shown as one line; exit code 2."""


def add_webhooks_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="outbound webhooks: replay, test")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    replay = actions.add_parser("replay", help="deliver again what was sent or dead since TIME")
    replay.add_argument("--since", required=True, help="ISO time (2026-12-01T09:00Z) or 2h")
    replay.add_argument("--endpoint", action="append", help="only this endpoint (repeatable)")
    test = actions.add_parser("test", help="send a test event to an endpoint, show its answer")
    test.add_argument("name")


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC when it has no offset) or a duration back from now."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(
            f"--since: expected a time like 2026-12-01T09:00Z or 2h, got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def replay_command(
    db: Database, config: Config, since: str, endpoints: list[str] | None, now: datetime
) -> int:
    moment = parse_since(since, now)
    known = {endpoint.name for endpoint in config.webhooks}
    unknown = sorted(set(endpoints or []) - known)
    if unknown:
        raise CommandError(
            f"no webhook endpoint {', '.join(unknown)}; known: {', '.join(sorted(known)) or 'none'}"
        )
    async with db.transaction() as uow:
        count = await WebhookRepository(uow.connection).replay(moment, now, endpoints)
    where = f" to {', '.join(endpoints)}" if endpoints else ""
    print(
        f"{count} webhook deliveries{where} queued since {moment.isoformat(timespec='seconds')} "
        "are due again; the running app delivers them in order, with their original ids."
    )
    return 0


async def test_command(
    config: Config, name: str, now: datetime, environ: Mapping[str, str] = os.environ
) -> int:
    endpoint = next((item for item in config.webhooks if item.name == name), None)
    if endpoint is None:
        known = ", ".join(item.name for item in config.webhooks) or "none"
        raise CommandError(f"no webhook endpoint {name!r}; known: {known}")
    if not environ.get(endpoint.secret_env):
        raise CommandError(f"set {endpoint.secret_env} (the endpoint's whsec_ secret) first")
    message, answer = await send_test_event(endpoint, now, environ)
    print(f"POST {endpoint.url}  webhook-id: {message}")
    print(answer.detail)
    return 0 if answer.delivered else 1
