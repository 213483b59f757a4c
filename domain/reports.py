"""The figures sales ops manage by (`/leadstats`, App Home, the weekly digest, `/api/stats`).

Storage hands over aggregate rows (counts per group, and only the ranked values a
percentile needs); this module turns them into a `Report`. It is pure: the period's
bounds, the clock and the caller's timezone are all parameters, so the same numbers come
out of a test, a Slack command and a JSON call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from domain.command_args import parse_argument, split_keyword
from domain.errors import DomainError
from domain.stats import gini

if TYPE_CHECKING:  # domain.scoring_report builds on this module's rates
    from domain.scoring_report import ScoringReport

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "30d"
QUANTILES = (50, 90)
"""The percentiles every report shows (median and p90); storage fetches only their ranks."""

SCOPES = ("me", "rep", "team", "source")
RESPONSE_BUCKETS = (
    ("< 1m", 60),
    ("1-5m", 300),
    ("5-15m", 900),
    ("15-30m", 1800),
    ("30-60m", 3600),
    ("1-2h", 7200),
    ("2-4h", 14400),
    ("4-24h", 86400),
    ("> 1d", None),
)
"""The digest chart's response-time distribution: (label, upper bound in seconds)."""
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_MAX_NAME = 200  # a team name (80) or its channel link with the channel's name


class StatsUsageError(DomainError):
    """The arguments do not say which figures to show; the message says how to ask."""


@dataclass(frozen=True)
class Scope:
    """Whose leads: a rep's (`me` is resolved to the caller), a team's or a source's."""

    kind: str
    value: str

    def describe(self) -> str:
        if self.kind == "rep":
            return f"<@{self.value}>"
        return f"{self.kind} {self.value}"


def parse_stats_args(text: str, caller: str) -> tuple[Scope, str]:
    """`[me|team NAME|rep @user|source NAME] [7d|30d|90d]`; default: the caller, 30 days.
    Keywords in any case; a team NAME may have spaces or be the team's channel link
    (the service finds the team, domain.command_args.find_team)."""
    words = text.split()
    period = DEFAULT_PERIOD
    if words and words[-1].lower() in PERIODS:
        period = words.pop().lower()
    kind, rest = split_keyword(" ".join(words), ("me", "team", "rep", "source"))
    if not words or (kind == "me" and not rest):
        return Scope("rep", caller), period
    if kind in (None, "me") or not rest:
        raise StatsUsageError(f"I don't understand `{' '.join(words)}`.")
    if kind == "rep":
        user = parse_argument(rest).user
        if user is None:
            raise StatsUsageError(f"`{rest}` is not a Slack user; mention them: `rep @name`.")
        return Scope("rep", user), period
    if kind == "source" and not _NAME.match(rest):
        raise StatsUsageError(f"`{rest}` is not a source name.")
    if len(rest) > _MAX_NAME:
        raise StatsUsageError(f"`{rest[:40]}…` is not a {kind} name.")
    return Scope(kind, rest), period


def period_bounds(period: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The last N days in the reader's timezone: from local midnight N-1 days ago to now,
    so `7d` on a Monday morning means last Tuesday 00:00 local up to this instant."""
    days = PERIODS[period]
    today = now.astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=days - 1), time(0), tzinfo=tz)
    return start.astimezone(now.tzinfo), now


@dataclass(frozen=True)
class Tally:
    """Counts over one group of leads (a rep, a source, a routing method, a rule...)."""

    leads: int = 0
    contacted: int = 0
    sla_met: int = 0
    sla_decided: int = 0
    """Leads whose SLA outcome is known: contacted, or past due without contact."""
    opportunities: int = 0
    won: int = 0
    lost: int = 0
    response_seconds: float = 0.0
    """Summed over the contacted leads: with `contacted`, the mean response time."""

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def mean_response(self) -> float | None:
        return self.response_seconds / self.contacted if self.contacted else None

    @property
    def sla_rate(self) -> float | None:
        return rate(self.sla_met, self.sla_decided)

    @property
    def opportunity_rate(self) -> float | None:
        return rate(self.opportunities, self.leads)

    @property
    def win_rate(self) -> float | None:
        """Won among leads that became opportunities: the pipeline's close rate."""
        return rate(self.won, self.opportunities)


def rate(part: int, whole: int) -> float | None:
    """A share, or None when nothing was counted (shown as "no data", never as 0%)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class GroupTally:
    """One aggregate row from storage: the counts for one combination of keys."""

    owner: str | None
    source: str | None
    method: str
    rule: str | None
    tally: Tally


@dataclass(frozen=True)
class Ranked:
    """A group's count of values and the values at the ranks QUANTILES need (0-based)."""

    count: int
    at_rank: Mapping[int, float]


def needed_ranks(count: int) -> set[int]:
    """The 0-based ranks a QUANTILES percentile over `count` sorted values reads."""
    ranks: set[int] = set()
    for q in QUANTILES:
        low = (count - 1) * q // 100
        ranks.update({low, min(low + 1, count - 1)})
    return ranks


def percentile_from_ranks(ranked: Ranked, q: int) -> float | None:
    """The same interpolated percentile as `domain.stats.percentile`, from ranks only."""
    if ranked.count == 0:
        return None
    position = (ranked.count - 1) * q / 100
    low = (ranked.count - 1) * q // 100
    high = min(low + 1, ranked.count - 1)
    return ranked.at_rank[low] + (ranked.at_rank[high] - ranked.at_rank[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """How long something took: how many, the median and the 90th percentile (seconds)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, ranked: Ranked | None) -> Spread:
        if ranked is None or ranked.count == 0:
            return cls()
        return cls(
            ranked.count, percentile_from_ranks(ranked, 50), percentile_from_ranks(ranked, 90)
        )


@dataclass(frozen=True)
class QueueRow:
    """Pull or pool leads of one type: how long claims took and what still waits."""

    method: str
    lead_type: str
    claimed: int
    wait: Ranked
    unclaimed: int
    oldest_unclaimed: datetime | None


@dataclass(frozen=True)
class StageRow:
    """One lifecycle stage: how many leads reached it, how many moved on (and in how
    long, in total), and how many sit in it now."""

    stage: str
    reached: int
    left: int
    seconds_to_leave: float
    now_in: int


@dataclass(frozen=True)
class Aggregates:
    """Everything storage returns for one scope and period."""

    groups: list[GroupTally]
    response_by_owner: dict[str | None, Ranked]
    response_all: Ranked
    queues: list[QueueRow]
    stages: list[StageRow]


@dataclass(frozen=True)
class Line:
    """A row of a report table: a rep, a source, a routing method or a rule. Reps carry
    their response-time median and p90; the other tables the mean (`tally`)."""

    key: str
    tally: Tally
    response: Spread = field(default_factory=Spread)
    weight: int | None = None


@dataclass(frozen=True)
class QueueLine:
    method: str
    lead_type: str
    claimed: int
    wait: Spread
    unclaimed: int
    longest_unclaimed_seconds: float | None


@dataclass(frozen=True)
class StageLine:
    stage: str
    reached: int
    left: int
    mean_seconds: float | None
    now_in: int


@dataclass(frozen=True)
class Report:
    scope: Scope
    period: str
    start: datetime
    end: datetime
    total: Tally
    response: Spread
    gini: float | None
    """Of leads per rep; reps in the team with no leads count. None for a single rep."""
    unassigned: int
    reps: list[Line]
    sources: list[Line]
    methods: list[Line]
    rules: list[Line]
    queues: list[QueueLine]
    stages: list[StageLine]
    scoring: ScoringReport | None = None
    """Conversion by grade and band, lead quality by source: with a scoring model only."""


UNKNOWN = "(none)"


def build_report(
    scope: Scope,
    period: str,
    start: datetime,
    end: datetime,
    aggregates: Aggregates,
    weights: Mapping[str, int] | None = None,
) -> Report:
    """The report for a scope. `weights` are the team's members and their weights: they
    appear (and count in the Gini) even with no leads, since leaving out the rep who got
    nothing would hide exactly the unfairness the Gini is there to show."""
    by_owner = _roll_up(aggregates.groups, lambda g: g.owner)
    unassigned = by_owner.pop(None, Tally()).leads
    for member in weights or {}:
        by_owner.setdefault(member, Tally())
    reps = sorted(
        (
            Line(
                owner,
                tally,
                Spread.of(aggregates.response_by_owner.get(owner)),
                (weights or {}).get(owner),
            )
            for owner, tally in by_owner.items()
            if owner is not None
        ),
        key=lambda line: (-line.tally.leads, line.key),
    )
    sources = [
        Line(source or UNKNOWN, tally)
        for source, tally in _sorted(_roll_up(aggregates.groups, lambda g: g.source))
    ]
    methods = [
        Line(method or UNKNOWN, tally)
        for method, tally in _sorted(_roll_up(aggregates.groups, lambda g: g.method))
    ]
    rules = [
        Line(rule or UNKNOWN, tally)
        for rule, tally in _sorted(_roll_up(aggregates.groups, lambda g: g.rule))
    ]
    total = sum((g.tally for g in aggregates.groups), Tally())
    return Report(
        scope=scope,
        period=period,
        start=start,
        end=end,
        total=total,
        response=Spread.of(aggregates.response_all),
        gini=gini([line.tally.leads for line in reps]) if scope.kind != "rep" else None,
        unassigned=unassigned,
        reps=reps,
        sources=sources,
        methods=methods,
        rules=rules,
        queues=sorted(
            (_queue_line(row, end) for row in aggregates.queues),
            key=lambda q: (q.method, -(q.longest_unclaimed_seconds or 0), q.lead_type),
        ),
        stages=[
            StageLine(
                row.stage,
                row.reached,
                row.left,
                row.seconds_to_leave / row.left if row.left else None,
                row.now_in,
            )
            for row in aggregates.stages
        ],
    )


def _queue_line(row: QueueRow, now: datetime) -> QueueLine:
    oldest = row.oldest_unclaimed
    return QueueLine(
        row.method,
        row.lead_type,
        row.claimed,
        Spread.of(row.wait),
        row.unclaimed,
        (now - oldest).total_seconds() if oldest is not None else None,
    )


def _roll_up(
    groups: Iterable[GroupTally], key: Callable[[GroupTally], str | None]
) -> dict[str | None, Tally]:
    rolled: dict[str | None, Tally] = {}
    for group in groups:
        name = key(group)
        rolled[name] = rolled.get(name, Tally()) + group.tally
    return rolled


def _sorted(rolled: dict[str | None, Tally]) -> list[tuple[str | None, Tally]]:
    return sorted(rolled.items(), key=lambda item: (-item[1].leads, item[0] or ""))


@dataclass(frozen=True)
class Change:
    """This week against last week, for the digest. `unit` says how to show it:
    `count`, `seconds`, `rate` (0-1) or `index` (the Gini)."""

    name: str
    unit: str
    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


def changes(current: Report, previous: Report) -> list[Change]:
    """The headline figures and how they moved since the previous period."""
    now, before = current, previous
    return [
        Change("Leads", "count", now.total.leads, before.total.leads),
        Change("Median response", "seconds", now.response.median, before.response.median),
        Change("p90 response", "seconds", now.response.p90, before.response.p90),
        Change("Contacted within SLA", "rate", now.total.sla_rate, before.total.sla_rate),
        Change(
            "Lead to opportunity", "rate", now.total.opportunity_rate, before.total.opportunity_rate
        ),
        Change("Win rate", "rate", now.total.win_rate, before.total.win_rate),
        Change("Gini of leads per rep", "index", now.gini, before.gini),
    ]


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DigestWindow:
    """One week's digest: its ISO week (the once-only key), the moment it was due, and
    the two 7-day periods it compares."""

    week: str
    due_at: datetime
    current: tuple[datetime, datetime]
    previous: tuple[datetime, datetime]


def digest_window(day: str, hour: int, now: datetime, tz: ZoneInfo) -> DigestWindow | None:
    """This week's digest once its local day and hour have come (a replica that was down
    at that hour still sends it later in the week), else None."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    due_local = datetime.combine(monday + timedelta(days=_WEEKDAYS.index(day)), time(hour), tz)
    if local < due_local:
        return None
    due = due_local.astimezone(now.tzinfo)
    year, week, _ = due_local.isocalendar()
    week_ago = due - timedelta(days=7)
    return DigestWindow(
        f"{year}-W{week:02d}", due, (week_ago, due), (week_ago - timedelta(days=7), week_ago)
    )
