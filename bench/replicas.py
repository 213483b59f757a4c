"""Replicas benchmark: intake leads/s and p99 POST->DM with 1, 2 and 3 `leadrouter serve`
replicas on one PostgreSQL, beside the single-process SQLite figure from the same run.

Why: issue 9 runs N replicas behind a load balancer, coordinating only through the
database. This shows what that costs and buys per lead, measured, not assumed.

    LEADROUTER_TEST_POSTGRES_URL=postgresql+asyncpg://... python -m bench.replicas \
        [--replicas 1,2,3] [--rate 40] [--leads 800] [--sustained-leads 2000] [--clients 32]

Each configuration gets a fresh database (a new PostgreSQL database, or a new SQLite
file) and fresh processes wired to one local Slack workspace (bot/localslack). A
client-side round-robin over the replicas' ports stands in for the load balancer. Per
configuration:
1. warm-up: one lead per rep, outside the figures;
2. open loop: `--leads` POSTs on a fixed schedule of `--rate`/s; for each lead the time
   from starting its POST to its DM reaching the fake (p50/p99);
3. sustained: `--sustained-leads` POSTs from `--clients` closed-loop clients; leads/s
   answered, and the CPU seconds the replicas spent per 1,000 leads.

Everything (replicas, PostgreSQL, the fake Slack and this load generator) shares the
same cores, so more replicas cannot add CPU here: the figures show coordination cost,
not the scale-out a multi-machine deployment would get. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import machine, start_report
from bench.intake import (
    DM_WAIT_SECONDS,
    closed_loop,
    config_yaml,
    match_dms,
    open_loop,
    report_run,
)
from bot.localslack import LocalSlack as FakeSlack
from harness.app_process import AppProcess
from harness.databases import (
    POSTGRES_ENV,
    create_postgres_database,
    drop_postgres_database,
)
from harness.soak import (
    SLACK_RATE_SCALE,
    channel_allowance,
    channel_peaks,
    start_replicas,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PEAK_WINDOW = 10.0


@dataclass(frozen=True)
class Setup:
    """One configuration to measure: a backend and a number of replicas."""

    backend: str  # "sqlite" | "postgres"
    replicas: int

    @property
    def label(self) -> str:
        noun = "replica" if self.replicas == 1 else "replicas"
        return f"{self.backend} x{self.replicas} {noun}"


@dataclass
class Figures:
    setup: Setup
    dm_p50: float
    dm_p99: float
    post_p99: float
    dms_missing: int
    sustained_rate: float
    cpu_per_1000: float
    failed: int
    channel_peak: int  # most DMs one rep got within PEAK_WINDOW s, sustained phase


# ---------------------------------------------------------------- processes


def cpu_seconds(pid: int | None) -> float:
    """User+system CPU a live process has used (from /proc, so no extra dependency)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def database(setup: Setup, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    """A fresh, empty database for one configuration, dropped afterwards."""
    if setup.backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'leadrouter.db'}"
        return
    assert postgres_url is not None
    url = create_postgres_database(postgres_url, prefix="lr_bench")
    try:
        yield url
    finally:
        drop_postgres_database(url)


@contextmanager
def replicas(
    setup: Setup, db_url: str, workdir: Path, slack: FakeSlack, reps: int
) -> Iterator[list[AppProcess]]:
    """N `leadrouter serve` on one database, started together (they race the migration's
    advisory lock, as replicas started by an orchestrator do)."""
    config = workdir / "config.yml"
    config.write_text(config_yaml(reps), encoding="utf-8")
    apps = start_replicas(setup.replicas, db_url, config, slack, workdir)
    try:
        yield apps
    finally:
        for app in apps:
            app.terminate(timeout=60)


# ---------------------------------------------------------------- load


def warm_up(apps: list[AppProcess], slack: FakeSlack, reps: int) -> None:
    """One lead per rep, spread over the replicas: imports, pools and DM channels warm."""
    samples = asyncio.run(
        closed_loop([app.base_url for app in apps], "warmup", reps, clients=len(apps))
    )
    match_dms(slack, samples, wait=60)
    time.sleep(3)  # let every DM channel's posting budget refill before measuring
    slack.reset()


# ---------------------------------------------------------------- one configuration


def measure(setup: Setup, args: argparse.Namespace, workdir: Path, slack: FakeSlack) -> Figures:
    where = workdir / f"{setup.backend}-{setup.replicas}"
    where.mkdir(parents=True, exist_ok=True)
    with database(setup, where, args.postgres_url) as url:
        slack.reset()
        with replicas(setup, url, where, slack, args.reps) as apps:
            warm_up(apps, slack, args.reps)
            run = f"open-{setup.backend}-{setup.replicas}"
            samples = asyncio.run(
                open_loop([app.base_url for app in apps], run, args.leads, args.rate)
            )
            match_dms(slack, samples, wait=DM_WAIT_SECONDS)
            opened = report_run(
                f"{setup.label}: open loop, {args.leads} at {args.rate:g}/s", samples
            )
            failed = sum(1 for s in samples if s.status not in (200, 201))
            time.sleep(3)
            slack.reset()

            cpu_before = sum(cpu_seconds(app.pid) for app in apps)
            run = f"sustained-{setup.backend}-{setup.replicas}"
            samples = asyncio.run(
                closed_loop([app.base_url for app in apps], run, args.sustained_leads, args.clients)
            )
            cpu_used = sum(cpu_seconds(app.pid) for app in apps) - cpu_before
            match_dms(slack, samples, wait=DM_WAIT_SECONDS)
            sustained = report_run(
                f"{setup.label}: sustained, {args.sustained_leads} leads, {args.clients} clients",
                samples,
            )
            peak, _ = channel_peaks(slack.delivered("chat.postMessage"), PEAK_WINDOW)
            answered = sum(1 for s in samples if s.status in (200, 201))
            failed += len(samples) - answered
    return Figures(
        setup=setup,
        dm_p50=opened["dm_p50"],
        dm_p99=opened["dm_p99"],
        post_p99=opened["post_p99"],
        dms_missing=int(opened["dms_missing"] + sustained["dms_missing"]),
        sustained_rate=sustained["rate"],
        cpu_per_1000=cpu_used / max(answered, 1) * 1000,
        failed=failed,
        channel_peak=peak,
    )


# ---------------------------------------------------------------- report


def table(results: list[Figures]) -> None:
    sqlite = next((f for f in results if f.setup.backend == "sqlite"), None)
    one = next((f for f in results if f.setup == Setup("postgres", 1)), None)
    print("\n== summary (same run, same machine)")
    header = (
        f"   {'configuration':22} {'POST->DM p50':>12} {'p99':>9} {'POST p99':>9} "
        f"{'leads/s':>8} {'vs 1 PG':>8} {'vs SQLite':>9} {'app CPU s/1k':>12} {'errors':>6} "
        f"{'DMs/rep/10s':>11}"
    )
    print(header)
    for f in results:
        vs_one = f"{f.sustained_rate / one.sustained_rate:.2f}x" if one else "-"
        vs_sqlite = f"{f.sustained_rate / sqlite.sustained_rate:.2f}x" if sqlite else "-"
        print(
            f"   {f.setup.label:22} {f.dm_p50:9.1f} ms {f.dm_p99:6.1f} ms {f.post_p99:6.1f} ms "
            f"{f.sustained_rate:8.1f} {vs_one:>8} {vs_sqlite:>9} {f.cpu_per_1000:12.1f} "
            f"{f.dms_missing + f.failed:6d} {f.channel_peak:11d}"
        )
    print(
        "\n   errors = intake requests (both phases) not answered 201/200, plus DMs never seen at "
        "the fake Slack.\n"
        "   app CPU s/1k = CPU seconds all replicas together spent per 1,000 sustained leads.\n"
        f"   DMs/rep/10s = most DMs one rep's channel got within {PEAK_WINDOW:g} s in the "
        "sustained phase; the per-channel budget allows "
        f"{channel_allowance(PEAK_WINDOW):g}, from the one replica serving that channel\n"
        "   (the live replicas split the targets through the outbox_senders heartbeat).\n"
        f"   All replicas, PostgreSQL, the fake Slack and this load generator share the same "
        f"{machine()['nproc']} cores: more replicas cannot add CPU here, so leads/s shows\n"
        "   what coordinating through one database costs, not what more machines would buy. "
        "On separate hosts each replica brings its own cores and the ceiling becomes\n"
        "   PostgreSQL's commit rate and the routing advisory lock."
    )


def parse_setups(text: str) -> list[Setup]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--replicas takes counts such as 1,2,3")
    return [Setup("postgres", count) for count in counts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV),
        help=f"PostgreSQL server, SQLAlchemy async URL (default: ${POSTGRES_ENV}); each "
        "configuration creates and drops its own database there",
    )
    parser.add_argument("--replicas", type=parse_setups, default=parse_setups("1,2,3"))
    parser.add_argument("--rate", type=float, default=40.0, help="open-loop leads/s (40)")
    parser.add_argument("--leads", type=int, default=800, help="open-loop leads (800)")
    parser.add_argument("--sustained-leads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32, help="sustained clients (32)")
    parser.add_argument(
        "--reps",
        type=int,
        default=100,
        help="push team size (100): each DM channel takes about one post a second",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    args = parser.parse_args(argv)
    if not args.postgres_url:
        parser.error(f"needs a PostgreSQL server: set {POSTGRES_ENV} or pass --postgres-url")

    workdir = start_report("Leadrouter replicas benchmark", "leadrouter-replicas-")
    print(
        f"   Slack budget    the fake stands for a workspace granted {SLACK_RATE_SCALE:g}x "
        "Slack's default per-method tiers (LEADROUTER_SLACK_RATE_SCALE)"
    )
    setups = ([] if args.skip_sqlite else [Setup("sqlite", 1)]) + args.replicas
    results: list[Figures] = []
    with FakeSlack() as slack:
        for setup in setups:
            results.append(measure(setup, args, workdir, slack))
    table(results)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(f.dms_missing + f.failed == 0 for f in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
