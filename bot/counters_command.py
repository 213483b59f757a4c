"""`leadrouter counters check [--repair]`: rebuild the counters routing reads (open leads
per rep, leads per rep per day for caps) from the leads, compare them with the stored
ones, and with --repair replace those that differ. Exit 0: all equal (or repaired);
1: some differed and were left as they are."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import Settings


def add_parser(commands: Any) -> None:
    counters = commands.add_parser("counters", help="check the routing counters against the leads")
    actions = counters.add_subparsers(dest="counters_command", required=True)
    check = actions.add_parser("check", help="recount from the leads and compare (exit 1: differ)")
    check.add_argument("--repair", action="store_true", help="replace counters that differ")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import upgrade_to_head
    from storage.uow import Database

    async def check() -> int:
        db = Database(settings.database_url)
        try:
            await upgrade_to_head(db.engine)
            async with db.transaction() as uow:
                await uow.routing.lock()  # no intake moves a counter while we compare
                wrong = await uow.counters.check(repair=args.repair)
        finally:
            await db.dispose()
        for line in wrong:
            print(line)
        if not wrong:
            print("counters match the leads")
            return 0
        if args.repair:
            print(f"repaired {len(wrong)} counters")
            return 0
        print(f"{len(wrong)} counters differ from the leads; `--repair` rebuilds them")
        return 1

    return asyncio.run(check())
