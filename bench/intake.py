"""Intake benchmark: HTTP lead in -> rep's DM out, against the real `leadrouter serve`.

Why: the promise is "every lead to the right rep within minutes" with a 201 that is
durable; this measures how close to "immediately" the real process gets on SQLite, and
how much of SQLite's raw durable-commit rate the intake path keeps.

    python -m bench.intake [--leads 1000] [--rate 50] [--reps 10] [--profile py-spy]

What it does, in one run:
1. baseline: single-row INSERT + COMMIT on a fresh SQLite file through the app's own
   engine factory (storage.engine.create_engine: WAL, synchronous=FULL, BEGIN
   IMMEDIATE), one row per transaction, sequentially;
2. open loop: the local Slack workspace (bot/localslack) and the real app as a
   subprocess (harness/app_process.py) on a fresh SQLite file, one push team of
   `--reps` always-on reps; `--leads` POSTs sent on a fixed schedule of `--rate`/s
   whatever the answers do (each POST its own task), and for each lead the time from
   starting its POST to its DM `chat.postMessage` reaching the fake;
3. sustained: a fresh app and database, `--sustained-leads` POSTs as fast as
   `--clients` closed-loop clients can send them; leads/s, and its ratio to (1);
4. profile path: a fresh app, `--profile-rounds` rounds each of `--profile-leads` plain
   POSTs to /api/leads then as many Typeform-shaped, signed payloads to
   /api/intake/typeform (signature check, answer lookups, value maps, split names),
   closed loop; the two paths' leads/s over the same rounds, and their ratio.

Targets it reports against: p99 POST->DM under 250 ms at 50 leads/s; sustained intake
at least 40% of the raw insert+commit rate; the profile path at least 90% of the plain
path's throughput (alternating rounds in one app, so both see the same load). Not
collected by pytest (not under tests/, not named test_*).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from bench.common import machine, start_report
from bot.localslack import LocalSlack as FakeSlack
from bot.localslack import SlackCall
from harness.app_process import AppProcess
from storage.engine import create_engine

API_KEY = "secret-1"  # the "webform" key of AppProcess's default LEADROUTER_API_KEYS
TYPEFORM_SECRET = "bench-typeform-secret"
TARGET_PROFILE_SHARE = 0.90
TARGET_P99_DM_MS = 250.0
TARGET_SUSTAINED_SHARE = 0.40
LEAD_ID = re.compile(r"\b[0-9a-f]{32}\b")
WARMUP_LEADS_PER_REP = 1
DIGEST_DM = re.compile(r"([\d,]+) .* were assigned to you at once")
DM_WAIT_SECONDS = 600.0  # a cap: the wait ends as soon as every DM has arrived


# ---------------------------------------------------------------- figures


@dataclass
class Sample:
    """One lead: when its POST started and ended, and when its DM reached Slack."""

    index: int
    scheduled: float
    started: float = 0.0
    answered: float = 0.0
    status: int = 0
    lead_id: str | None = None
    owner: str | None = None
    dm_at: float | None = None
    error: str | None = None

    @property
    def post_ms(self) -> float:
        return (self.answered - self.started) * 1000

    @property
    def dm_ms(self) -> float | None:
        return None if self.dm_at is None else (self.dm_at - self.started) * 1000


@dataclass
class Summary:
    values: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..100): a real observed value, never interpolated."""
        ordered = sorted(self.values)
        if not ordered:
            return float("nan")
        rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
        return ordered[rank - 1]

    def line(self, unit: str = "ms") -> str:
        if not self.values:
            return "no samples"
        return (
            f"p50 {self.pct(50):8.1f} {unit}   p99 {self.pct(99):8.1f} {unit}   "
            f"max {max(self.values):8.1f} {unit}   mean {statistics.fmean(self.values):8.1f} "
            f"{unit}   (n={len(self.values)})"
        )


# ---------------------------------------------------------------- the machine


# ---------------------------------------------------------------- baseline


async def raw_insert_commit_rate(path: Path, rows: int) -> float:
    """Rows/s of one-row transactions through the app's engine factory and pragmas."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    table = Table(
        "bench_rows",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("payload", Text, nullable=False),
    )
    payload = json.dumps({"email": "someone@prospect.io", "note": "x" * 400})
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        for _ in range(20):  # warm the pool and the page cache
            async with engine.begin() as connection:
                await connection.execute(insert(table).values(payload=payload))
        started = time.perf_counter()
        for _ in range(rows):
            async with engine.begin() as connection:
                await connection.execute(insert(table).values(payload=payload))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return rows / elapsed


def stdlib_insert_commit_rate(path: Path, rows: int) -> float:
    """The same one-row transactions with the stdlib sqlite3 module in one thread: what
    SQLite and the disk cost without the async stack, for reading the ratio above."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, payload TEXT)")
        payload = json.dumps({"email": "someone@prospect.io", "note": "x" * 400})
        started = time.perf_counter()
        for _ in range(rows):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO bench_rows (payload) VALUES (?)", (payload,))
            connection.execute("COMMIT")
        return rows / (time.perf_counter() - started)
    finally:
        connection.close()


# ---------------------------------------------------------------- the app


def config_yaml(reps: int, availability: bool = False) -> str:
    """One push team of always-on reps (no hours, no PTO, no cap) and a catch-all rule.
    `availability`: the team trusts every Slack signal (the refresher asks the fake Slack
    about each rep, 40 reps per 5 s, during the measurement) and each rep has a daily cap
    too high to bite, so intake reads the Slack cache and the per-day counts on every lead."""
    users = [f"U0REP{index:03d}" for index in range(reps)]
    lines = ["version: 1", "admins: [U0ADMIN]", "reps:"]
    caps = ", caps: {per_day: 100000}" if availability else ""
    lines += [f"  - {{user: {user}, email: {user.lower()}@example.com{caps}}}" for user in users]
    lines += [
        "teams:",
        "  - name: inbound",
        "    channel: C0INBOUND",
        "    method: push",
        "    strategy: round_robin",
        "    manager: U0MANAGER",
        "    members: [" + ", ".join(f"{{user: {user}}}" for user in users) + "]",
        *(["    availability: {slack_status: true, dnd: true, presence: true}"] * availability),
        "rules:",
        "  - name: everyone",
        "    then: {team: inbound}",
    ]
    return "\n".join(lines) + "\n"


def lead_body(run: str, index: int) -> dict[str, Any]:
    return {
        "email": f"bench-{run}-{index}@prospect{index % 97}.io",
        "first_name": "Bench",
        "last_name": f"Lead {index}",
        "company": f"Prospect {index % 97} Inc",
        "lead_type": "demo_request",
        "source": "web_form",
        "score": index % 100,
        "country": "US",
        "employees": 40 + index % 500,
    }


def start_app(
    workdir: Path,
    name: str,
    slack: FakeSlack,
    reps: int,
    command: list[str] | None = None,
    availability: bool = False,
    env: dict[str, str | None] | None = None,
) -> AppProcess:
    """The real `leadrouter serve` on a fresh SQLite file (or `command`, for a what-if)."""
    log_dir = workdir / name
    log_dir.mkdir(parents=True, exist_ok=True)
    config = log_dir / "config.yml"
    config.write_text(config_yaml(reps, availability), encoding="utf-8")
    app = AppProcess(
        env,
        db_url=f"sqlite+aiosqlite:///{log_dir / 'leadrouter.db'}",
        config_path=config,
        slack_api_url=slack.url,
        log_dir=log_dir,
        command=command,
        startup_timeout=60,
    )
    return app.start()


@contextlib.contextmanager
def profiled(app: AppProcess, enabled: bool) -> Iterator[None]:
    """Sample the app with py-spy while the block runs (every thread, idle included:
    SQLite runs in aiosqlite's thread, which cProfile would not see). Attaching by pid
    rather than wrapping the command keeps the profiler out of the app's start and stop;
    SIGINT makes py-spy write its collapsed stacks before it exits."""
    if not enabled:
        yield
        return
    output = app.log_dir / "app.pyspy.txt"
    command = [_py_spy(), "record", "--pid", str(app.pid), "--idle", "--threads"]
    command += ["--format", "raw", "--rate", "100", "--output", str(output), "--nonblocking"]
    spy = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=(app.log_dir / "py-spy.log").open("wb")
    )
    time.sleep(1.0)  # let it attach before the measured phase starts
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
        print(f"   profile: {output}")


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    if beside.exists():
        return str(beside)
    raise SystemExit("--profile py-spy needs py-spy (pip install py-spy) next to this python")


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class LeadRequest:
    """One intake POST: our JSON to /api/leads, or a sender's signed bytes to a profile."""

    path: str
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)


def plain_request(run: str, index: int) -> LeadRequest:
    return LeadRequest("/api/leads", lead_body(run, index))


def typeform_request(run: str, index: int) -> LeadRequest:
    """The same lead as `lead_body`, as Typeform's `form_response` webhook sends it,
    signed with `Typeform-Signature` (sha256=base64 HMAC of the body)."""
    plain = lead_body(run, index)

    def answer(ref: str, kind: str, value: Any) -> dict[str, Any]:
        return {"type": kind, kind: value, "field": {"id": ref, "type": kind, "ref": ref}}

    form_response = {
        "form_id": "bench",
        "token": f"{run}-{index}",
        "submitted_at": "2026-12-01T10:00:00Z",
        "hidden": {"utm_medium": "web", "country": plain["country"]},
        "answers": [
            answer("name", "text", f"{plain['first_name']} {plain['last_name']}"),
            answer("email", "email", plain["email"]),
            answer("company", "text", plain["company"]),
            answer(
                "company_size",
                "choice",
                {"label": f"{plain['employees']}-{plain['employees'] + 50}"},
            ),
            answer("reason", "choice", {"label": "Demo request"}),
        ],
    }
    data = json.dumps({"event_id": f"{run}-{index}", "event_type": "form_response",
                       "form_response": form_response}).encode()  # fmt: skip
    digest = hmac.new(TYPEFORM_SECRET.encode(), data, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    headers = {"Typeform-Signature": signature, "Content-Type": "application/json"}
    return LeadRequest("/api/intake/typeform", data, headers)


async def post_one(
    client: aiohttp.ClientSession,
    sample: Sample,
    body: dict[str, Any] | bytes,
    path: str = "/api/leads",
    headers: dict[str, str] | None = None,
) -> None:
    sample.started = time.monotonic()
    sent: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    try:
        async with client.post(path, headers=headers, **sent) as response:
            sample.status = response.status
            data = await response.json() if response.status in (200, 201) else None
            text = "" if data is not None else (await response.text())[:200]
    except (aiohttp.ClientError, TimeoutError) as error:
        sample.answered = time.monotonic()
        sample.error = f"{type(error).__name__}: {error}"
        return
    sample.answered = time.monotonic()
    if data is not None:
        sample.lead_id = data.get("id")
        sample.owner = data.get("owner")
    else:
        sample.error = text


def client_for(base_url: str, connections: int) -> aiohttp.ClientSession:
    """aiohttp, not httpx: the load generator shares two cores with the app and the fake
    Slack, and aiohttp's client spends a fraction of httpx's CPU per request."""
    return aiohttp.ClientSession(
        base_url=base_url,
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=aiohttp.ClientTimeout(total=60.0),
        connector=aiohttp.TCPConnector(limit=connections),
    )


async def open_loop(base_urls: list[str], run: str, leads: int, rate: float) -> list[Sample]:
    """Send lead i at start + i/rate, to server i mod N, whatever happened to the others
    (no coordinated omission: a slow answer never delays the next send)."""
    clients = [client_for(url, connections=256) for url in base_urls]
    samples: list[Sample] = []
    tasks = []
    try:
        origin = time.monotonic() + 0.2
        for index in range(leads):
            sample = Sample(index, scheduled=origin + index / rate)
            samples.append(sample)
            delay = sample.scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            client = clients[index % len(clients)]
            tasks.append(asyncio.create_task(post_one(client, sample, lead_body(run, index))))
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.close()
    return samples


async def closed_loop(
    base_urls: list[str],
    run: str,
    leads: int,
    clients: int,
    request: Callable[[str, int], LeadRequest] = plain_request,
) -> list[Sample]:
    """`clients` senders, each posting its next lead as soon as the last one answered, to
    the next server in a shared round-robin (with several, the load balancer's job)."""
    sessions = [client_for(url, connections=clients) for url in base_urls]
    samples = [Sample(index, scheduled=0.0) for index in range(leads)]
    queue = iter(samples)
    turn = itertools.cycle(sessions).__next__

    # Built before the clock starts, so the load generator's own work (serialising,
    # signing) does not count against either path.
    made = [request(run, sample.index) for sample in samples]

    async def sender() -> None:
        for sample in queue:
            lead = made[sample.index]
            await post_one(turn(), sample, lead.body, lead.path, lead.headers)

    try:
        await asyncio.gather(*(sender() for _ in range(clients)))
    finally:
        for session in sessions:
            await session.close()
    return samples


# ---------------------------------------------------------------- DMs


def match_dms(slack: FakeSlack, samples: list[Sample], wait: float) -> None:
    """Give each lead its first delivered DM: its own card (found by the lead id in the
    blocks), or a digest DM to its owner ("N … were assigned to you at once"), which
    announces the owner's N oldest leads not yet announced."""
    by_id = {sample.lead_id: sample for sample in samples if sample.lead_id}
    seen = 0
    deadline = time.monotonic() + wait
    while True:
        calls = slack.delivered("chat.postMessage")
        for call in calls[seen:]:
            _match(call, by_id)
            _match_digest(call, samples)
        seen = len(calls)
        if all(sample.dm_at is not None for sample in by_id.values()):
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def _match(call: SlackCall, by_id: dict[str | None, Sample]) -> None:
    if not str(call.params.get("channel", "")).startswith("D"):
        return  # channel posts and alerts are not the lead's DM
    for lead_id in LEAD_ID.findall(json.dumps(call.params.get("blocks", ""))):
        sample = by_id.get(lead_id)
        if sample is not None and sample.dm_at is None:
            sample.dm_at = call.at
            return


def _match_digest(call: SlackCall, samples: list[Sample]) -> None:
    digest = DIGEST_DM.match(str(call.params.get("text", "")))
    channel = str(call.params.get("channel", ""))
    if digest is None or not channel.startswith("D"):
        return
    waiting = [s for s in samples if s.dm_at is None and s.owner and "D" + s.owner == channel]
    for sample in sorted(waiting, key=lambda s: s.answered)[: int(digest[1].replace(",", ""))]:
        sample.dm_at = call.at


def warm_up(app: AppProcess, slack: FakeSlack, reps: int) -> None:
    """One lead per rep first: imports, caches and DM channels opened, outside the figures."""
    samples = asyncio.run(closed_loop([app.base_url], "warmup", reps * WARMUP_LEADS_PER_REP, 1))
    match_dms(slack, samples, wait=60)
    time.sleep(3)  # let every DM channel's posting budget refill before measuring
    slack.reset()


# ---------------------------------------------------------------- report


def report_run(title: str, samples: list[Sample]) -> dict[str, float]:
    """Print one phase's figures; return them for the target check and --json."""
    ok = [s for s in samples if s.status in (200, 201)]
    failed = [s for s in samples if s.status not in (200, 201)]
    dms = [s for s in ok if s.dm_at is not None]
    owners: dict[str, int] = {}
    for sample in ok:
        owners[sample.owner or "-"] = owners.get(sample.owner or "-", 0) + 1
    post = Summary([s.post_ms for s in ok])
    dm = Summary([s.dm_ms for s in dms if s.dm_ms is not None])
    late = Summary([(s.started - s.scheduled) * 1000 for s in samples if s.scheduled])
    first = min(s.started for s in samples)
    send_span = max(s.started for s in samples) - first
    done_span = max(s.answered for s in samples) - first
    stored_rate = len(ok) / done_span if done_span > 0 else float("nan")
    print(f"\n== {title}")
    print(
        f"   {len(ok)} answered 201/200, {len(failed)} failed; achieved {stored_rate:.1f} "
        f"leads/s (first POST to last answer {done_span:.2f} s)"
    )
    if late.values:
        send_rate = (len(samples) - 1) / send_span if send_span > 0 else float("nan")
        print(f"   sending           {send_rate:.1f} POSTs/s on schedule over {send_span:.2f} s")
        print(f"   send lateness     {late.line()}   (behind schedule)")
    for sample in failed[:3]:
        print(f"   failure: lead {sample.index}: {sample.status} {sample.error}")
    print(f"   POST latency      {post.line()}")
    print(f"   POST -> DM        {dm.line()}   DMs missing: {len(ok) - len(dms)}")
    if ok:
        counts = sorted(owners.values())
        print(f"   leads per rep     min {counts[0]} max {counts[-1]} over {len(owners)} reps")
    if dms:
        last_dm = max(s.dm_at for s in dms if s.dm_at is not None)
        print(f"   DMs delivered     {len(dms) / (last_dm - first):.1f}/s (first POST to last DM)")
    return {
        "rate": stored_rate,
        "post_p50": post.pct(50),
        "post_p99": post.pct(99),
        "post_max": max(post.values, default=float("nan")),
        "dm_p50": dm.pct(50),
        "dm_p99": dm.pct(99),
        "dm_max": max(dm.values, default=float("nan")),
        "dms_missing": float(len(ok) - len(dms)),
    }


def dm_budget_per_channel() -> float:
    """The dispatcher's own per-channel budget (Slack's ~1 post/s per channel)."""
    try:
        from bot.worker.budget import RateBudget
    except ImportError:
        return float("nan")
    return float(RateBudget().per_second)


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1000, help="open-loop leads (1000)")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop leads/s (50)")
    parser.add_argument(
        "--reps",
        type=int,
        default=100,
        help="reps in the push team (100): Slack allows about one post a second per channel, "
        "so 50 leads/s of DMs need at least 50 reps' DM channels",
    )
    parser.add_argument("--sustained-leads", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32, help="sustained-phase clients (32)")
    parser.add_argument("--raw-rows", type=int, default=2000, help="baseline transactions")
    parser.add_argument(
        "--profile",
        choices=("none", "py-spy"),
        default="none",
        help="run the app under py-spy (every thread, idle included: the aiosqlite thread "
        "is where SQLite runs, which cProfile would not see); output kept in the work dir",
    )
    parser.add_argument(
        "--app-command",
        type=shlex.split,
        help="run this instead of `python -m bot.cli serve` (e.g. a patched app, to measure "
        "a proposed change before making it)",
    )
    parser.add_argument(
        "--slack-availability",
        action="store_true",
        help="the team uses Slack status, do-not-disturb and presence (the refresher asks "
        "the fake Slack in the background) and daily caps: intake reads the cache and counts",
    )
    parser.add_argument("--skip-sustained", action="store_true")
    parser.add_argument("--profile-rounds", type=int, default=3, help="profile-path rounds (3)")
    parser.add_argument(
        "--profile-leads", type=int, default=500, help="leads per path per round (500)"
    )
    parser.add_argument("--skip-profile-path", action="store_true")
    parser.add_argument(
        "--profile-path-only", action="store_true", help="only phase 4 (and the baseline)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, dbs)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    workdir = start_report("Leadrouter intake benchmark", "leadrouter-bench-")
    if args.app_command:
        print(f"   app command     {shlex.join(args.app_command)}")

    figures: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"json": None}}
    raw = asyncio.run(raw_insert_commit_rate(workdir / "raw.db", args.raw_rows))
    figures["raw_insert_commit_per_s"] = raw
    stdlib = stdlib_insert_commit_rate(workdir / "stdlib.db", args.raw_rows)
    figures["stdlib_insert_commit_per_s"] = stdlib
    print(
        f"\n== baseline: raw single-row INSERT+COMMIT (WAL, synchronous=FULL, BEGIN "
        f"IMMEDIATE, create_engine): {raw:.0f} rows/s ({1000 / raw:.2f} ms each)"
    )
    print(
        f"   for reference, the same with stdlib sqlite3 in one thread (no async stack): "
        f"{stdlib:.0f} rows/s ({1000 / stdlib:.2f} ms each)"
    )

    with FakeSlack() as slack:
        if not args.skip_profile_path:
            figures["profile_path"] = profile_path_phase(workdir, slack, args)
        if args.profile_path_only:
            return finish(args, workdir, figures, raw)
        slack.reset()
        app = start_app(
            workdir, "open-loop", slack, args.reps, args.app_command, args.slack_availability
        )
        try:
            warm_up(app, slack, args.reps)
            with profiled(app, args.profile == "py-spy"):
                samples = asyncio.run(open_loop([app.base_url], "open", args.leads, args.rate))
            match_dms(slack, samples, wait=DM_WAIT_SECONDS)
            title = (
                f"open loop: {args.leads} leads at {args.rate:g}/s, push team of {args.reps} reps"
            )
            figures["open_loop"] = report_run(title, samples)
        finally:
            app.terminate(timeout=60)
            if app.returncode not in (0, None, -15):  # -15: uvicorn re-raises SIGTERM
                print(f"   (app exited with {app.returncode}; logs in {app.log_dir})")

        if not args.skip_sustained:
            slack.reset()
            app = start_app(
                workdir, "sustained", slack, args.reps, args.app_command, args.slack_availability
            )
            try:
                warm_up(app, slack, args.reps)
                with profiled(app, args.profile == "py-spy"):
                    samples = asyncio.run(
                        closed_loop([app.base_url], "sustained", args.sustained_leads, args.clients)
                    )
                match_dms(slack, samples, wait=DM_WAIT_SECONDS)
                title = (
                    f"sustained: {args.sustained_leads} leads, {args.clients} clients "
                    "as fast as answered"
                )
                figures["sustained"] = report_run(title, samples)
            finally:
                app.terminate(timeout=60)

    return finish(args, workdir, figures, raw)


def profile_path_phase(
    workdir: Path, slack: FakeSlack, args: argparse.Namespace
) -> dict[str, float]:
    """Plain and profile intake in alternating rounds against one app: whatever else the
    machine does hits both paths alike."""
    env: dict[str, str | None] = {"LEADROUTER_TYPEFORM_SECRET": TYPEFORM_SECRET}
    app = start_app(workdir, "profile-path", slack, args.reps, args.app_command, env=env)
    totals = {"plain": [0, 0.0], "profile": [0, 0.0]}
    try:
        warm_up(app, slack, args.reps)
        for round_ in range(args.profile_rounds):
            for name, request in (("plain", plain_request), ("profile", typeform_request)):
                samples = asyncio.run(
                    closed_loop([app.base_url], f"{name}{round_}", args.profile_leads,
                                args.clients, request)
                )  # fmt: skip
                spent = max(s.answered for s in samples) - min(s.started for s in samples)
                stored = sum(1 for sample in samples if sample.status == 201)
                failed = [s for s in samples if s.status != 201][:1]
                totals[name][0] += stored
                totals[name][1] += spent
                note = f"  (e.g. {failed[0].status} {failed[0].error})" if failed else ""
                print(f"   round {round_ + 1} {name:<7} {stored} leads in {spent:.2f} s = "
                      f"{stored / spent:.1f}/s{note}")  # fmt: skip
    finally:
        app.terminate(timeout=60)
    plain, profile = (totals[name][0] / totals[name][1] for name in ("plain", "profile"))
    print(
        f"\n== profile path: {args.profile_rounds} rounds x {args.profile_leads} leads per path, "
        f"{args.clients} clients: /api/leads {plain:.1f}/s, /api/intake/typeform "
        f"{profile:.1f}/s = {profile / plain:.1%} of the plain path"
    )
    return {"plain_rate": plain, "profile_rate": profile, "ratio": profile / plain}


def finish(args: argparse.Namespace, workdir: Path, figures: dict[str, Any], raw: float) -> int:
    print("\n== against the targets")
    if "profile_path" in figures:
        ratio = figures["profile_path"]["ratio"]
        print(
            f"   profile path throughput {ratio:.1%} of the plain path (target >= "
            f"{TARGET_PROFILE_SHARE:.0%}): {verdict(ratio >= TARGET_PROFILE_SHARE)}"
        )
    if "open_loop" not in figures:
        return write_figures(args, workdir, figures)
    ceiling = args.reps * dm_budget_per_channel()
    print(
        f"   DM ceiling set by the per-channel posting budget: {args.reps} DM channels x "
        f"{dm_budget_per_channel():g}/s = {ceiling:g} DMs/s, offered {args.rate:g} leads/s"
        + ("  <- the budget alone makes the backlog grow" if ceiling < args.rate else "")
    )
    p99 = figures["open_loop"]["dm_p99"]
    missing = figures["open_loop"]["dms_missing"]
    print(
        f"   p99 POST->DM at {args.rate:g} leads/s: {p99:.1f} ms (target < "
        f"{TARGET_P99_DM_MS:.0f} ms): {verdict(p99 < TARGET_P99_DM_MS and not missing)}"
    )
    if "sustained" in figures:
        sustained = figures["sustained"]["rate"]
        share = sustained / raw
        figures["sustained_over_raw"] = share
        print(
            f"   sustained intake {sustained:.1f} leads/s / raw insert+commit {raw:.0f} rows/s "
            f"= {share:.1%} (target >= {TARGET_SUSTAINED_SHARE:.0%}): "
            f"{verdict(share >= TARGET_SUSTAINED_SHARE)}"
        )
    return write_figures(args, workdir, figures)


def write_figures(args: argparse.Namespace, workdir: Path, figures: dict[str, Any]) -> int:
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    if not args.keep and args.profile == "none":
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
