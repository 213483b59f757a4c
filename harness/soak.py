"""The soak's driver: a steady mix of intake, pull claims, CRM contacts and SLA escalations
against N replicas on one database, sampled over time and checked for exactly-once.

Why here: `bench/soak.py` runs it for ten minutes and prints the figures; the short e2e
test (`tests/e2e/test_soak_short.py`) runs the very same driver at a low rate so CI proves
the soak's logic and its checks, not a copy of them.

The traffic, per lead (a seeded random mix, so two runs send the same thing):
- a share goes to pull teams: the card posted to the team channel is seen at the fake
  Slack and most are claimed by a signed `claim_lead` click to a random replica, some by
  two reps on two replicas at once (the compare-and-set must pick one);
- push leads, and claimed pull leads, mostly get a CRM `contacted` event before the SLA
  runs out; the rest breach and run the escalation chain (reminder, reassign, manager
  notice, repost to the channel), all on second-scale SLAs.

Exactly once is checked at the fake: every outbox post carries its outbox key in the
message metadata, so each key must be delivered once, and every accepted lead must be
announced exactly once: by its first card (key `lead_card:{id}:{target}`) or, where the
outbox folded a burst, by the one digest post that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.localslack import LocalSlack as FakeSlack
from bot.localslack import SlackCall
from bot.worker.budget import RateBudget
from storage import tables as t
from storage.engine import create_engine

from .app_process import AppProcess
from .slack_signing import block_action_body, signed_headers

__all__ = ["SoakPlan", "SoakResult", "SoakSample", "config_yaml", "run_soak", "start_replicas"]

INTAKE_KEY = "secret-1"  # AppProcess's default "webform" key
CRM_KEY = "secret-2"  # its "crm" key: the closed loop's events
REPS_PER_TEAM = 6
SLACK_RATE_SCALE = 20.0
"""The fake Slack stands for a workspace granted 20x Slack's default per-method tiers
(`LEADROUTER_SLACK_RATE_SCALE`): at the default tier 3, 50 `chat.update`s a minute, no
workspace could carry 20 leads/s of card edits, and the soak would measure that limit."""


@dataclass(frozen=True)
class SoakPlan:
    """What to send and how fast. Defaults are the issue's soak: 20 leads/s for 10 min."""

    rate: float = 20.0
    seconds: float = 600.0
    teams: int = 16
    pull_teams: int = 8
    pull_share: float = 0.15
    claim_share: float = 0.8
    double_click_share: float = 0.3
    contact_share: float = 0.85
    sla_seconds: int = 20
    repost_after_seconds: int = 10
    sample_every: float = 5.0
    seed: int = 9

    def team_names(self) -> list[str]:
        return [f"t{index:02d}" for index in range(self.teams)]

    def is_pull(self, team: str) -> bool:
        return int(team[1:]) < self.pull_teams


def _members(team: str) -> list[str]:
    return [f"U0{team.upper()}R{index}" for index in range(REPS_PER_TEAM)]


def config_yaml(plan: SoakPlan) -> str:
    """Teams of always-on reps, each with its own channel and manager so no one Slack
    channel takes more than about half a post a second; second-scale SLAs."""
    lines = ["version: 1", "admins: [U0ADMIN]", "reps:"]
    for team in plan.team_names():
        lines += [f"  - {{user: {user}}}" for user in _members(team)]
    lines.append("teams:")
    for team in plan.team_names():
        members = ", ".join(f"{{user: {user}}}" for user in _members(team))
        lines += [
            f"  - name: {team}",
            f"    channel: C0{team.upper()}",
            f"    method: {'pull' if plan.is_pull(team) else 'push'}",
            "    strategy: round_robin",
            f"    manager: U0{team.upper()}MGR",
            f"    members: [{members}]",
        ]
    lines.append("rules:")
    lines += [
        f"  - {{name: {team}, when: {{city: {team}}}, then: {{team: {team}}}}}"
        for team in plan.team_names()
    ]
    lines += [
        f"  - {{name: everyone else, then: {{team: {plan.team_names()[-1]}}}}}",
        "slas:",
        "  demo_request:",
        f"    respond_within: {plan.sla_seconds}s",
        "    remind_at: [50%]",
        "    escalation:",
        "      - {after: 0s, do: reassign}",
        "      - {after: 0s, do: notify_manager}",
        f"      - {{after: {plan.repost_after_seconds}s, do: repost_to_channel}}",
    ]
    return "\n".join(lines) + "\n"


def start_replicas(
    count: int,
    db_url: str,
    config: Path,
    slack: FakeSlack,
    log_root: Path,
    slack_rate_scale: float = SLACK_RATE_SCALE,
) -> list[AppProcess]:
    """`count` replicas of `leadrouter serve` on one database, started together (they race
    the migration and configuration locks, as replicas an orchestrator starts do), each
    waited for until `/readyz` says its database answers. The caller terminates them.
    (Settings a build does not know yet are ignored, as any unknown variable is.)"""
    apps = [
        AppProcess(
            env={
                "LEADROUTER_SLACK_RATE_SCALE": f"{slack_rate_scale:g}",
                # the per-key intake limit guards one process against a runaway sender;
                # these runs measure the system behind it, so it is off
                "LEADROUTER_RATE_LIMIT": "off",
            },
            db_url=db_url,
            config_path=config,
            slack_api_url=slack.url,
            log_dir=log_root / f"replica{index + 1}",
            startup_timeout=90,
        )
        for index in range(count)
    ]
    try:
        for app in apps:
            app.start(wait=False)
        for app in apps:
            app.wait_ready("/readyz")
    except BaseException:
        for app in apps:
            app.terminate()
        raise
    return apps


@dataclass
class SoakSample:
    """The system's state at one instant of the run."""

    elapsed: float
    rss_mb: list[float]
    outbox_pending: int
    oldest_pending_s: float
    outbox_dead: int
    deadlines_pending: int
    deadlines_overdue: int
    leads_accepted: int
    leads_stored: int

    def line(self) -> str:
        rss = " ".join(f"{value:6.1f}" for value in self.rss_mb)
        return (
            f"{self.elapsed:6.0f}s  rss MB [{rss}]  outbox {self.outbox_pending:5d} "
            f"(oldest {self.oldest_pending_s:5.1f}s, dead {self.outbox_dead})  deadlines "
            f"{self.deadlines_pending:5d} (overdue {self.deadlines_overdue})  leads "
            f"{self.leads_accepted:6d} accepted / {self.leads_stored:6d} stored"
        )


@dataclass
class SoakResult:
    samples: list[SoakSample] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # lead id -> team
    refused: list[str] = field(default_factory=list)
    claims_sent: int = 0
    double_clicks: int = 0
    contacts_sent: int = 0
    action_errors: list[str] = field(default_factory=list)
    posts_per_key: Counter[str] = field(default_factory=Counter)
    first_cards: Counter[str] = field(default_factory=Counter)  # lead id -> announcements
    digested: int = 0  # leads announced inside a digest post rather than by their own card
    untagged_posts: int = 0
    multi_claimed: int = 0
    events: Counter[str] = field(default_factory=Counter)  # timeline events by type
    channel_peaks: dict[float, tuple[int, str]] = field(default_factory=dict)  # window ->
    # (most posts one channel got within that many seconds, the channel)
    drained: bool = False
    drain_seconds: float = 0.0
    sending_seconds: float = 0.0

    @property
    def doubled_keys(self) -> list[str]:
        return [key for key, count in self.posts_per_key.items() if count > 1]

    @property
    def unnotified(self) -> list[str]:
        return [lead for lead in self.accepted if self.first_cards[lead] == 0]

    @property
    def notified_twice(self) -> list[str]:
        return [lead for lead in self.accepted if self.first_cards[lead] > 1]

    @property
    def exactly_once(self) -> bool:
        return not (self.doubled_keys or self.unnotified or self.notified_twice)


# ---------------------------------------------------------------- sampling


def rss_mb(pid: int | None) -> float:
    """Resident memory of a live process (0 when it is gone)."""
    if pid is None:
        return 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _sample(
    engine: AsyncEngine, apps: Sequence[AppProcess], started: float, accepted: int
) -> SoakSample:
    now = datetime.now(UTC)
    async with engine.connect() as connection:
        pending, oldest = (
            await connection.execute(
                select(func.count(), func.min(t.outbox.c.created_at)).where(
                    t.outbox.c.state == "pending"
                )
            )
        ).one()
        dead = await connection.scalar(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.state == "dead")
        )
        deadlines, overdue = (
            await connection.execute(
                select(
                    func.count(),
                    func.count().filter(t.deadlines.c.due_at < now - timedelta(seconds=5)),
                ).where(t.deadlines.c.state == "pending")
            )
        ).one()
        stored = await connection.scalar(select(func.count()).select_from(t.leads))
    oldest_s = 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
    return SoakSample(
        elapsed=time.monotonic() - started,
        rss_mb=[rss_mb(app.pid) for app in apps],
        outbox_pending=int(pending),
        oldest_pending_s=oldest_s,
        outbox_dead=int(dead or 0),
        deadlines_pending=int(deadlines),
        deadlines_overdue=int(overdue),
        leads_accepted=accepted,
        leads_stored=int(stored or 0),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the driver


class _Driver:
    def __init__(
        self,
        apps: Sequence[AppProcess],
        slack: FakeSlack,
        plan: SoakPlan,
        clients: list[httpx.AsyncClient],
    ) -> None:
        self.apps = apps
        self.slack = slack
        self.plan = plan
        self.clients = clients
        self.random = random.Random(plan.seed)
        self.result = SoakResult()
        self.tasks: set[asyncio.Task[None]] = set()
        self.seen_calls = 0
        self.claimed: set[str] = set()
        self.contact_after_claim: set[str] = set()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        """A driver task that died of anything but an HTTP error is a bug: make it count."""
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.result.action_errors.append(f"driver task failed: {task.exception()!r}")

    def _client(self) -> httpx.AsyncClient:
        return self.random.choice(self.clients)

    async def send_leads(self, stop_at: float) -> None:
        """Open loop: lead i at start + i/rate, whatever the answers do."""
        origin = time.monotonic()
        pull = [team for team in self.plan.team_names() if self.plan.is_pull(team)]
        push = [team for team in self.plan.team_names() if not self.plan.is_pull(team)]
        index = 0
        while True:
            due = origin + index / self.plan.rate
            if due >= stop_at:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            wants_pull = pull and self.random.random() < self.plan.pull_share
            team = self.random.choice(pull if wants_pull else push)
            contact = self.random.random() < self.plan.contact_share
            client = self.clients[index % len(self.clients)]
            self._spawn(self._post_lead(client, index, team, contact))
            index += 1

    async def _post_lead(
        self, client: httpx.AsyncClient, index: int, team: str, contact: bool
    ) -> None:
        body = {
            "email": f"soak-{self.plan.seed}-{index}@prospect{index % 97}.io",
            "first_name": "Soak",
            "last_name": f"Lead {index}",
            "company": f"Prospect {index % 97}",
            "lead_type": "demo_request",
            "source": "web_form",
            "city": team,
        }
        try:
            response = await client.post(
                "/api/leads", json=body, headers={"Authorization": f"Bearer {INTAKE_KEY}"}
            )
        except httpx.HTTPError as error:
            self.result.refused.append(f"lead {index}: {type(error).__name__}: {error}")
            return
        if response.status_code != 201:
            self.result.refused.append(f"lead {index}: {response.status_code} {response.text}")
            return
        lead = response.json()
        self.result.accepted[lead["id"]] = team
        if contact and lead["owner"]:
            await self._contact_later(lead["id"])
        elif contact:
            self.contact_after_claim.add(lead["id"])  # a pull lead: contact once claimed

    async def _contact_later(self, lead_id: str) -> None:
        """The CRM reports first contact well before the SLA (so no reminder either)."""
        await asyncio.sleep(self.random.uniform(0.5, self.plan.sla_seconds * 0.4))
        self.result.contacts_sent += 1
        await self._act(
            self._client(),
            f"/api/leads/{lead_id}/events",
            json={"type": "contacted"},
            headers={"Authorization": f"Bearer {CRM_KEY}"},
        )

    async def _act(self, client: httpx.AsyncClient, path: str, **kwargs: Any) -> None:
        try:
            response = await client.post(path, **kwargs)
        except httpx.HTTPError as error:
            self.result.action_errors.append(f"{path}: {type(error).__name__}: {error}")
            return
        if response.status_code != 200:
            self.result.action_errors.append(f"{path}: {response.status_code} {response.text}")

    async def watch_cards(self, stop: asyncio.Event) -> None:
        """Claim pull cards as they appear in their team channels, as reps would."""
        while not stop.is_set():
            calls = self.slack.calls
            for call in calls[self.seen_calls :]:
                self._maybe_claim(call)
            self.seen_calls = len(calls)
            await asyncio.sleep(0.25)

    def _maybe_claim(self, call: SlackCall) -> None:
        key = outbox_key(call)
        if call.method != "chat.postMessage" or call.failed or key is None:
            return
        parts = key.split(":")
        if parts[0] != "lead_card" or len(parts) != 3 or not parts[2].startswith("C0"):
            return  # only a pull lead's first card in its team channel
        lead_id, channel = parts[1], parts[2]
        if lead_id in self.claimed or self.random.random() >= self.plan.claim_share:
            return
        self.claimed.add(lead_id)
        ts = str((call.response or {}).get("ts", ""))
        team = channel[2:].lower()
        clickers = self.random.sample(_members(team), 2)
        if self.random.random() >= self.plan.double_click_share:
            clickers = clickers[:1]
        else:
            self.result.double_clicks += 1
        then_contact = lead_id in self.contact_after_claim
        self._spawn(self._claim(lead_id, channel, ts, clickers, then_contact))

    async def _claim(
        self, lead_id: str, channel: str, ts: str, clickers: list[str], then_contact: bool
    ) -> None:
        await asyncio.sleep(self.random.uniform(0.2, 2.0))
        clients = self.random.sample(self.clients, min(len(clickers), len(self.clients)))
        clicks = []
        for number, user in enumerate(clickers):
            body = block_action_body(
                "claim_lead",
                lead_id,
                user_id=user,
                channel_id=channel,
                message_ts=ts,
                response_url=self.slack.response_url(f"claim-{lead_id}-{user}"),
            )
            headers = signed_headers(self.apps[0].signing_secret, body)
            client = clients[number % len(clients)]
            clicks.append(self._act(client, "/slack/events", content=body, headers=headers))
        self.result.claims_sent += len(clicks)
        await asyncio.gather(*clicks)
        if then_contact:
            await self._contact_later(lead_id)


def outbox_key(call: SlackCall) -> str | None:
    """The outbox row a post came from, read back from the message metadata."""
    metadata = call.params.get("metadata")
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload") or {}
    key = payload.get("outbox")
    return str(key) if key else None


PEAK_WINDOWS = (1.0, 10.0)


def channel_allowance(window: float) -> float:
    """Posts one channel may get within `window` seconds under the outbox's per-channel
    budget (its burst, then its pace), which the live replicas share between them."""
    budget = RateBudget()
    return budget.burst + window * budget.per_second


def channel_peaks(calls: Sequence[SlackCall], window: float) -> tuple[int, str]:
    """The most posts any one channel received within `window` seconds, and which channel:
    Slack allows about one post a second per channel, whichever replica sends it."""
    times: dict[str, list[float]] = {}
    for call in calls:
        times.setdefault(str(call.params.get("channel", "")), []).append(call.at)
    best = (0, "")
    for channel, stamps in times.items():
        stamps.sort()
        first = 0
        for last, stamp in enumerate(stamps):
            while stamp - stamps[first] >= window:
                first += 1
            best = max(best, (last - first + 1, channel))
    return best


async def _digests(engine: AsyncEngine) -> dict[str, str]:
    """Lead id -> the digest post that announced it instead of its own first card, where
    the outbox folds bursts into digests (an outbox row's `digest_id`); else empty."""
    digest_id = t.outbox.c.get("digest_id")
    if digest_id is None:
        return {}
    digest = t.outbox.alias("digest")
    query = select(t.outbox.c.dedup_key, digest.c.dedup_key).join(digest, digest.c.id == digest_id)
    folded: dict[str, str] = {}
    async with engine.connect() as connection:
        for card, announced_by in await connection.execute(query):
            parts = card.split(":")
            if parts[0] == "lead_card" and len(parts) == 3:
                folded[parts[1]] = announced_by
    return folded


def _tally(result: SoakResult, slack: FakeSlack, digests: dict[str, str]) -> None:
    """Count deliveries per outbox key, and per lead its first card or its digest."""
    posts = slack.delivered("chat.postMessage")
    result.channel_peaks = {window: channel_peaks(posts, window) for window in PEAK_WINDOWS}
    for call in posts:
        key = outbox_key(call)
        if key is None:
            result.untagged_posts += 1
            continue
        result.posts_per_key[key] += 1
        parts = key.split(":")
        if parts[0] == "lead_card" and len(parts) == 3:
            result.first_cards[parts[1]] += 1
    for lead, digest_key in digests.items():
        result.first_cards[lead] += result.posts_per_key[digest_key]
    result.digested = len(digests)


async def _events(engine: AsyncEngine) -> Counter[str]:
    """Timeline events by type: proof the mix really claimed, contacted and escalated."""
    query = select(t.lead_events.c.type, func.count()).group_by(t.lead_events.c.type)
    async with engine.connect() as connection:
        return Counter({kind: int(count) for kind, count in await connection.execute(query)})


async def _multi_claimed(engine: AsyncEngine) -> int:
    """Leads with more than one `claimed` event: two winners, which must never happen."""
    claimed = (
        select(t.lead_events.c.lead_id)
        .where(t.lead_events.c.type == "claimed")
        .group_by(t.lead_events.c.lead_id)
        .having(func.count() > 1)
        .subquery()
    )
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(claimed)) or 0)


async def run_soak(
    apps: Sequence[AppProcess],
    slack: FakeSlack,
    db_url: str,
    plan: SoakPlan,
    on_sample: Callable[[SoakSample], None] = lambda sample: None,
    drain_timeout: float = 180.0,
) -> SoakResult:
    """Send `plan` at `apps` (round-robin), sample every `plan.sample_every` s, then wait
    for the outbox and the deadlines to drain and tally what reached the fake Slack."""
    engine = create_engine(db_url)
    clients = [
        httpx.AsyncClient(
            base_url=app.base_url, timeout=60.0, limits=httpx.Limits(max_connections=200)
        )
        for app in apps
    ]
    driver = _Driver(apps, slack, plan, clients)
    result = driver.result
    stop_watching = asyncio.Event()
    started = time.monotonic()
    try:
        watcher = asyncio.create_task(driver.watch_cards(stop_watching))
        sender = asyncio.create_task(driver.send_leads(started + plan.seconds))
        next_sample = started
        while not sender.done():
            await asyncio.wait({sender}, timeout=max(0.0, next_sample - time.monotonic()))
            if time.monotonic() >= next_sample:
                sample = await _sample(engine, apps, started, len(result.accepted))
                result.samples.append(sample)
                on_sample(sample)
                next_sample += plan.sample_every
        await sender
        result.sending_seconds = time.monotonic() - started
        drained_by = time.monotonic() + drain_timeout
        while time.monotonic() < drained_by:
            await asyncio.sleep(1.0)
            sample = await _sample(engine, apps, started, len(result.accepted))
            quiet = not driver.tasks and not sample.outbox_pending
            if quiet and not sample.deadlines_pending:
                result.samples.append(sample)
                on_sample(sample)
                result.drained = True
                break
        result.drain_seconds = time.monotonic() - started - result.sending_seconds
        stop_watching.set()
        await watcher
        with contextlib.suppress(Exception):
            slack.settle(quiet=1.0, timeout=30)
        _tally(result, slack, await _digests(engine))
        result.multi_claimed = await _multi_claimed(engine)
        result.events = await _events(engine)
    finally:
        stop_watching.set()
        for task in list(driver.tasks):
            task.cancel()
        for client in clients:
            await client.aclose()
        await engine.dispose()
    return result
