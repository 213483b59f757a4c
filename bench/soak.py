"""Soak: 3 `leadrouter serve` replicas on one PostgreSQL, a steady mix of intake, pull
claims, CRM contacts and SLA escalations; memory and outbox depth must stay flat.

Why: a leak or a backlog that grows by a little every minute passes every short test and
takes production down on day three. This runs long enough to see a trend.

    LEADROUTER_TEST_POSTGRES_URL=postgresql+asyncpg://... python -m bench.soak \
        [--minutes 10] [--rate 20] [--replicas 3] [--report-every 30]

The traffic and the exactly-once checks are `harness/soak.py` (the short e2e test
runs the same driver). Every `--report-every` seconds it prints each replica's RSS, the
outbox depth and its oldest pending row's age, pending SLA deadlines, and leads accepted.
At the end: totals, exactly-once at the fake Slack, and the trends over the second half
(least-squares slope of RSS and outbox depth), judged against the rule printed beside
them. Everything shares this machine's cores. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics

from bench.common import start_report
from bot.localslack import LocalSlack as FakeSlack
from harness.databases import POSTGRES_ENV, create_postgres_database, drop_postgres_database
from harness.soak import (
    SLACK_RATE_SCALE,
    SoakPlan,
    SoakResult,
    SoakSample,
    channel_allowance,
    config_yaml,
    run_soak,
    start_replicas,
)

RSS_GROWTH_LIMIT = 0.05  # flat: RSS grows < 5% over the second half
OUTBOX_LIMIT_SECONDS = 10.0  # flat: the backlog stays under 10 s of intake at the end


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, in value per minute."""
    if len(points) < 2:
        return 0.0
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread * 60


def verdict(ok: bool) -> str:
    return "FLAT" if ok else "GROWING"


def report(result: SoakResult, plan: SoakPlan, replicas: int) -> bool:
    """Print the totals and the trend; True when everything held."""
    running = [s for s in result.samples if s.elapsed <= result.sending_seconds]
    second_half = [s for s in running if s.elapsed >= result.sending_seconds / 2]
    print("\n== totals")
    print(
        f"   sent for {result.sending_seconds:.0f} s: {len(result.accepted)} leads accepted, "
        f"{len(result.refused)} refused; {result.claims_sent} claim clicks "
        f"({result.double_clicks} leads clicked by two reps on two replicas at once), "
        f"{result.contacts_sent} CRM contacts; {len(result.action_errors)} action errors"
    )
    events = ", ".join(f"{kind} {count}" for kind, count in sorted(result.events.items()))
    print(f"   timeline events: {events}")
    for line in (result.refused + result.action_errors)[:5]:
        print(f"   error: {line}")
    posts = sum(result.posts_per_key.values())
    print(
        f"   Slack: {posts} posts delivered under {len(result.posts_per_key)} outbox keys "
        f"({result.untagged_posts} untagged, {result.digested} leads announced inside a "
        f"digest); drained {result.drained} "
        f"{result.drain_seconds:.0f} s after the last send"
    )
    for window, (count, channel) in sorted(result.channel_peaks.items()):
        print(
            f"   busiest channel within {window:g} s: {count} posts ({channel}); the "
            f"replicas' shared budget allows {channel_allowance(window):g}"
        )
    print("\n== exactly once (counted at the fake Slack)")
    print(f"   outbox keys delivered more than once: {len(result.doubled_keys)}")
    print(f"   accepted leads never notified:        {len(result.unnotified)}")
    print(f"   accepted leads notified twice:        {len(result.notified_twice)}")
    print(f"   leads with two winning claims:        {result.multi_claimed}")
    for key in result.doubled_keys[:5]:
        print(f"   doubled: {key}")
    for lead in result.unnotified[:5]:
        print(f"   never notified: {lead}")

    print("\n== trends over the second half of the sending phase")
    ok = True
    for index in range(replicas):
        points = [(s.elapsed, s.rss_mb[index]) for s in second_half]
        slope = slope_per_minute(points)
        mean = statistics.fmean(value for _, value in points) if points else 0.0
        half_minutes = result.sending_seconds / 2 / 60
        flat = mean > 0 and slope * half_minutes < RSS_GROWTH_LIMIT * mean
        ok &= flat
        print(
            f"   replica {index + 1} RSS: mean {mean:6.1f} MB, slope {slope:+6.2f} MB/min "
            f"({slope * half_minutes:+.1f} MB over the half; flat if < "
            f"{RSS_GROWTH_LIMIT:.0%} of the mean): {verdict(flat)}"
        )
    depth = [(s.elapsed, float(s.outbox_pending)) for s in second_half]
    depth_slope = slope_per_minute(depth)
    last = second_half[-1] if second_half else None
    limit = plan.rate * OUTBOX_LIMIT_SECONDS
    flat_outbox = (
        last is not None
        and last.outbox_pending < limit
        and depth_slope * (result.sending_seconds / 120) < limit
    )
    ok &= flat_outbox
    print(
        f"   outbox depth: mean {statistics.fmean(v for _, v in depth) if depth else 0:.1f}, "
        f"max {max((v for _, v in depth), default=0):.0f}, slope {depth_slope:+.2f} rows/min, "
        f"oldest pending max {max((s.oldest_pending_s for s in second_half), default=0):.1f} s "
        f"(flat if under {limit:.0f} rows = {OUTBOX_LIMIT_SECONDS:.0f} s of intake, and not "
        f"trending there): {verdict(flat_outbox)}"
    )
    overdue = max((s.deadlines_overdue for s in result.samples), default=0)
    print(f"   SLA deadlines more than 5 s overdue, worst sample: {overdue}")
    held = result.exactly_once and not result.multi_claimed and result.drained
    held &= not result.refused and not result.action_errors
    print(f"\n   exactly once, nothing lost, drained: {'YES' if held else 'NO'}")
    return ok and held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="leads/s (20)")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--report-every", type=float, default=30.0, help="seconds (30)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    args = parser.parse_args(argv)
    if not args.postgres_url:
        parser.error(f"needs a PostgreSQL server: set {POSTGRES_ENV} or pass --postgres-url")
    plan = SoakPlan(rate=args.rate, seconds=args.minutes * 60)
    workdir = start_report("Leadrouter soak", "leadrouter-soak-")
    print(
        f"   plan            {args.replicas} replicas on PostgreSQL, {args.minutes:g} min at "
        f"{args.rate:g} leads/s; {plan.teams} teams ({plan.pull_teams} pull) of 6 reps; "
        f"{plan.pull_share:.0%} pull leads, {plan.claim_share:.0%} of them claimed "
        f"({plan.double_click_share:.0%} by two reps at once); {plan.contact_share:.0%} "
        f"contacted before the {plan.sla_seconds} s SLA, the rest escalate (reminder, "
        f"reassign, manager, repost after {plan.repost_after_seconds} s)"
    )
    print(
        f"   the fake Slack stands for a workspace granted {SLACK_RATE_SCALE:g}x Slack's default "
        "per-method tiers (LEADROUTER_SLACK_RATE_SCALE)\n"
        "   all replicas, PostgreSQL, the fake Slack and this driver share the same cores\n"
    )
    config = workdir / "config.yml"
    config.write_text(config_yaml(plan), encoding="utf-8")
    url = create_postgres_database(args.postgres_url, prefix="lr_soak")
    printed = [-args.report_every]

    def show(sample: SoakSample) -> None:
        if sample.elapsed - printed[0] >= args.report_every - 0.5 or sample.elapsed > plan.seconds:
            printed[0] = sample.elapsed
            print("   " + sample.line(), flush=True)

    try:
        with FakeSlack() as slack:
            apps = start_replicas(args.replicas, url, config, slack, workdir)
            try:
                result = asyncio.run(run_soak(apps, slack, url, plan, show))
            finally:
                for app in apps:
                    app.terminate(timeout=60)
    finally:
        drop_postgres_database(url)
    held = report(result, plan, args.replicas)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if held else 1


if __name__ == "__main__":
    raise SystemExit(main())
