"""What the HTTP edge costs: sustained intake through `POST /api/leads` against the same
leads through `IntakeService.submit` in process, in one run.

Why: a 201 is worth the work behind it (route, store, plan, queue), and the server
stack, parsing, validation, logging and metrics around that work should not cost more
than the work. The in-process figure is the service rate the HTTP edge can at best keep.

    python -m bench.intake_http [--leads 600] [--rounds 5] [--clients 32] [--reps 100]

One run: a fresh SQLite database migrated and configured in this process, and the real
`leadrouter serve` (harness/app_process.py, local fake Slack) on another fresh SQLite
file with the same configuration (bench.intake's push team). Then alternating rounds of
`--leads` leads each, `--clients` at a time as fast as answered: in process
(pre-parsed `LeadInput`s to `IntakeService.submit`, the group commit the API uses), and
through HTTP (aiohttp clients from this process). Both databases grow alike, so both
paths see the same number of open leads. Reported: leads/s of each path over all
rounds, their ratio (target >= 60%), and CPU milliseconds per lead: this process's
during in-process rounds, the app process's during HTTP rounds (approximate both ways:
the fake Slack answering the app's late posts runs in this process, and the app's work
between its rounds is not counted). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine_line, start_report
from bench.intake import closed_loop, config_yaml, lead_body, profiled, start_app, warm_up
from bot.localslack import LocalSlack
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from domain.config import load_config
from domain.lead import LeadInput, parse_lead
from storage.migrate import upgrade_to_head
from storage.uow import Database

TARGET_SHARE = 0.60
TICKS = os.sysconf("SC_CLK_TCK")


def now() -> datetime:
    return datetime.now(UTC)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def in_process_database(path: Path, reps: int) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(db.engine)
    async with db.transaction() as uow:
        await ConfigService().save(uow, load_config(config_yaml(reps)), "bench", now(), "bench")
    return db


async def in_process_round(service: IntakeService, leads: list[LeadInput], clients: int) -> float:
    """Seconds to submit `leads`, `clients` submitters each taking the next when done."""
    queue = iter(leads)

    async def submitter() -> None:
        for lead in queue:
            await service.submit("webform", lead, None)

    started = time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(clients)))
    return time.perf_counter() - started


def http_round(base_url: str, run: str, leads: int, clients: int) -> tuple[float, int]:
    """Seconds for `leads` POSTs, and how many were answered 201."""
    samples = asyncio.run(closed_loop([base_url], run, leads, clients))
    spent = max(s.answered for s in samples) - min(s.started for s in samples)
    return spent, sum(1 for sample in samples if sample.status == 201)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=600, help="leads per path per round")
    parser.add_argument(
        "--rounds", type=int, default=5, help="more, shorter rounds: less drift between paths"
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument(
        "--app-command",
        type=shlex.split,
        help="serve with this instead of `python -m bot.cli serve` (e.g. an older tree, to "
        "measure a change's before and after)",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the app with py-spy during each HTTP round (the last round's collapsed "
        "stacks are kept in the work dir, which is then not removed)",
    )
    args = parser.parse_args(argv)

    workdir = start_report("Leadrouter intake: HTTP against in process", "lr-intake-http-")
    loop = asyncio.new_event_loop()
    db = loop.run_until_complete(in_process_database(workdir / "in-process.db", args.reps))
    service = IntakeService(db, ConfigService(), now, lambda: None)
    totals = {"in process": [0, 0.0, 0.0], "HTTP": [0, 0.0, 0.0]}  # leads, seconds, CPU s
    with LocalSlack() as slack:
        app = start_app(workdir, "http", slack, args.reps, args.app_command)
        try:
            assert app.pid is not None
            warm_up(app, slack, args.reps)
            for round_ in range(args.rounds):
                run = f"r{round_}"
                leads = [parse_lead(lead_body(run, i)) for i in range(args.leads)]
                cpu = time.process_time()
                local = loop.run_until_complete(in_process_round(service, leads, args.clients))
                _add(totals["in process"], args.leads, local, time.process_time() - cpu)
                cpu = cpu_seconds(app.pid)
                with profiled(app, args.py_spy):
                    spent, stored = http_round(app.base_url, run, args.leads, args.clients)
                _add(totals["HTTP"], stored, spent, cpu_seconds(app.pid) - cpu)
                print(
                    f"   round {round_ + 1}: in process {args.leads / local:.0f} leads/s, "
                    f"HTTP {stored / spent:.0f} leads/s ({stored} of {args.leads} answered 201)"
                )
            app.terminate(timeout=60)  # its Slack calls from the last round end here
            slack_calls = slack.log.calls
        finally:
            app.terminate(timeout=60)
            loop.run_until_complete(db.dispose())
            loop.close()
    rates = {name: leads / seconds for name, (leads, seconds, _) in totals.items()}
    print(f"\n== {args.rounds} rounds x {args.leads} leads per path, {args.clients} clients")
    for name, (leads, _, cpu) in totals.items():
        print(f"   {name:<10} {rates[name]:7.0f} leads/s   CPU {cpu * 1000 / leads:.2f} ms/lead")
    calls = Counter(call.method for call in slack_calls)
    print(
        "   Slack calls the app made from the first HTTP round until it stopped, per lead: "
        + ", ".join(f"{method} {count / totals['HTTP'][0]:.2f}" for method, count in calls.items())
    )
    share = rates["HTTP"] / rates["in process"]
    verdict = "met" if share >= TARGET_SHARE else "NOT met"
    print(f"   HTTP / in process = {share:.1%} (target >= {TARGET_SHARE:.0%}): {verdict}")
    print(f"   {machine_line()}")
    if not args.py_spy:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _add(total: list[float], leads: int, seconds: float, cpu: float) -> None:
    total[0] += leads
    total[1] += seconds
    total[2] += cpu


if __name__ == "__main__":
    raise SystemExit(main())
