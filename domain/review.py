"""The quarterly routing review: what has gone stale since the rules were written.

Territories change, reps come and go, and rules written a year ago keep routing (the
documents' pitfall 5). Storage hands over the period's counts (`ReviewData`); these pure
functions turn them into findings, each naming the admin modal that fixes it. A finding
needs evidence: a rule's SLA or conversion is flagged only when a binomial test says it is
below the average (p < 0.01), drifted weights only when a chi-square test says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scipy import stats

from domain.availability import Availability, LocalClock
from domain.config import Config, RepConfig, TeamConfig
from domain.config_fields import parse_working_hours
from domain.reports import Tally
from domain.review_config import ReviewConfig
from domain.review_findings import Finding, Fix
from domain.review_scoring import scoring_findings
from domain.scoring_report import ScoredRow
from domain.stats import gini

EVIDENCE = 0.01
"""p-value under which a rule's rate or a team's shares count as a finding."""
SLOT = timedelta(minutes=30)
GONE = ("deactivated", "deleted")


@dataclass(frozen=True)
class Misroute:
    """ "Wrong routing?" reports on leads a rule routed, by reason."""

    rule: str | None
    reason: str
    count: int


@dataclass(frozen=True)
class ReviewData:
    """The period's counts, read by storage."""

    start: datetime
    end: datetime
    rules: Mapping[str | None, Tally]
    """Leads received in the period by the rule that routed them (None: no rule)."""
    team_leads: Mapping[str, Mapping[str, int]]
    """Leads assigned in the period by team, then owner."""
    slices: Sequence[tuple[datetime, Mapping[str, int]]] = ()
    """Leads per owner in consecutive parts of the period, oldest first (the Gini trend)."""
    misroutes: Sequence[Misroute] = ()
    slack_status: Mapping[str, str] = field(default_factory=dict)
    """Reps Slack reports as `deactivated` or `deleted` (users.info), by user id."""
    scored: Sequence[ScoredRow] = ()
    """The period's scored leads (the scoring report's rows); empty without a model."""


@dataclass(frozen=True)
class RuleLine:
    """A rule's volume, % within SLA and conversion, against the whole period's."""

    rule: str
    leads: int
    share: float
    sla_rate: float | None
    conversion: float | None


@dataclass(frozen=True)
class Review:
    start: datetime
    end: datetime
    leads: int
    rules: list[RuleLine]
    average: RuleLine
    gini_trend: list[tuple[datetime, float]]
    findings: list[Finding]


def build_review(config: Config, data: ReviewData) -> Review:
    """Every finding of the period, rules first, then reps, teams, accounts, fairness and
    the scoring model."""
    settings = config.review or ReviewConfig()
    total = sum(data.rules.values(), Tally())
    lines = [_line(rule.name, data.rules.get(rule.name, Tally()), total) for rule in config.rules]
    average = _line("all leads", total, total)
    trend = gini_trend(config, data.slices)
    findings = [
        *unmatched_rules(config, data, total),
        *catch_all_share(config, data, total, settings),
        *rules_below_average(config, data, total, settings),
        *misrouted_rules(data, settings),
        *stale_reps(config, data, settings),
        *uncovered_teams(config, data.end),
        *drifted_weights(config, data, settings),
        *orphaned_accounts(config, data),
        *rising_gini(trend, settings),
        *scoring_findings(config, data.scored, settings),
    ]
    return Review(data.start, data.end, total.leads, lines, average, trend, findings)


def _line(name: str, tally: Tally, total: Tally) -> RuleLine:
    return RuleLine(
        name,
        tally.leads,
        tally.leads / total.leads if total.leads else 0.0,
        tally.sla_rate,
        tally.opportunity_rate,
    )


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.0f}%"


def unmatched_rules(config: Config, data: ReviewData, total: Tally) -> list[Finding]:
    """Rules no lead matched in a period that had leads: a territory that moved away."""
    if not total.leads:
        return []
    days = (data.end - data.start).days
    return [
        Finding(
            "rule_unmatched",
            rule.name,
            f"Rule “{rule.name}” matched no lead in {days} days: remove it or fix its conditions",
            Fix("rule", rule.name),
        )
        for rule in config.rules
        if data.rules.get(rule.name, Tally()).leads == 0
    ]


def catch_all_share(
    config: Config, data: ReviewData, total: Tally, settings: ReviewConfig
) -> list[Finding]:
    """The catch-all taking a large share means the segments no longer fit the leads."""
    if not config.rules or config.rules[-1].when or not total.leads:
        return []
    name = config.rules[-1].name
    share = data.rules.get(name, Tally()).leads / total.leads
    if share * 100 <= settings.catch_all_max:
        return []
    return [
        Finding(
            "catch_all_share",
            name,
            f"The catch-all “{name}” took {share * 100:.0f}% of leads (limit "
            f"{settings.catch_all_max:g}%): segment them with a rule before it",
            Fix("rules"),
        )
    ]


def rules_below_average(
    config: Config, data: ReviewData, total: Tally, settings: ReviewConfig
) -> list[Finding]:
    """Rules whose % within SLA or conversion is below the period's average, by a
    one-sided binomial test against the average rate."""
    findings = []
    measures = (
        ("rule_sla", "contacted within SLA", "sla_met", "sla_decided", total.sla_rate),
        (
            "rule_conversion",
            "lead-to-opportunity",
            "opportunities",
            "leads",
            total.opportunity_rate,
        ),
    )
    for rule in config.rules:
        tally = data.rules.get(rule.name, Tally())
        for kind, label, part, whole, average in measures:
            hits, trials = getattr(tally, part), getattr(tally, whole)
            if average is None or trials < settings.min_leads or not 0 < average < 1:
                continue
            test = stats.binomtest(hits, trials, average, alternative="less")
            if test.pvalue < EVIDENCE:
                findings.append(
                    Finding(
                        kind,
                        rule.name,
                        f"Rule “{rule.name}”: {_percent(hits / trials)} {label} against "
                        f"{_percent(average)} on average ({trials} leads)",
                        Fix("rule", rule.name),
                    )
                )
    return findings


def misrouted_rules(data: ReviewData, settings: ReviewConfig) -> list[Finding]:
    """Rules reps keep flagging with "Wrong routing?", with their most given reasons."""
    by_rule: dict[str | None, Counter[str]] = {}
    for report in data.misroutes:
        by_rule.setdefault(report.rule, Counter())[report.reason] += report.count
    findings = []
    for rule, reasons in sorted(by_rule.items(), key=lambda item: -item[1].total()):
        if reasons.total() < settings.misroute_reports:
            continue
        top = ", ".join(f"{reason} ({count})" for reason, count in reasons.most_common(3))
        name = rule or "(no rule)"
        findings.append(
            Finding(
                "misroute_feedback",
                name,
                f"Reps flagged {reasons.total()} leads of rule “{name}” as wrongly routed: {top}",
                Fix("rule", rule) if rule else Fix("rules"),
            )
        )
    return findings


def pto_days(rep: RepConfig, start: date, end: date) -> int:
    """Days of [start, end] the rep is on PTO (ranges may overlap)."""
    days = set()
    for pto in rep.pto:
        first, last = max(pto.start, start), min(pto.end, end)
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return len(days)


def stale_reps(config: Config, data: ReviewData, settings: ReviewConfig) -> list[Finding]:
    """Reps gone from Slack, switched off yet still in a team, away most of the period, or
    members of a team that got leads while they got none."""
    findings = []
    member_of: dict[str, list[str]] = {}
    for team in config.teams:
        for member in team.members:
            rep = config.rep(member.user.removeprefix("email:"))
            member_of.setdefault(rep.key if rep else member.user, []).append(team.name)
    start, end = data.start.date(), data.end.date()
    period_days = (end - start).days + 1
    for rep in config.reps:
        teams = member_of.get(rep.key, [])
        status = data.slack_status.get(rep.user or "")
        if status in GONE:
            findings.append(
                Finding(
                    "rep_gone",
                    rep.key,
                    f"{rep.key} is {status} in Slack but still a configured rep: switch them off",
                    Fix("rep", rep.key),
                )
            )
        elif not rep.active and teams:
            findings.append(
                Finding(
                    "rep_inactive",
                    rep.key,
                    f"{rep.key} is inactive but still a member of {', '.join(teams)}",
                    Fix("team", teams[0]),
                )
            )
        away = pto_days(rep, start, end)
        mostly_away = away * 100 > settings.pto_share * period_days
        if rep.active and mostly_away:
            findings.append(
                Finding(
                    "rep_mostly_away",
                    rep.key,
                    f"{rep.key} was on PTO {away} of {period_days} days: "
                    "are they still on the team?",
                    Fix("pto", rep.key),
                )
            )
        # A rep gone from Slack or away most of the period is already a finding; that they
        # got no leads follows from it.
        quiet = not rep.active or status in GONE or mostly_away
        for team in teams:
            leads = data.team_leads.get(team, {})
            if not quiet and sum(leads.values()) and not leads.get(rep.key):
                findings.append(
                    Finding(
                        "rep_no_leads",
                        rep.key,
                        f"{rep.key} got none of team {team}'s {sum(leads.values())} leads",
                        Fix("team", team),
                    )
                )
    return findings


def uncovered_teams(config: Config, now: datetime) -> list[Finding]:
    """Teams with business hours in which no active member is on shift (PTO and load
    aside: this is the standing roster), over the week before `now`; and teams with no
    active member at all."""
    findings = []
    for team in config.teams:
        reps = [config.rep(member.user.removeprefix("email:")) for member in team.members]
        roster = [rep for rep in reps if rep is not None and rep.active]
        if not roster:
            findings.append(
                Finding(
                    "team_empty",
                    team.name,
                    f"Team {team.name} has no active member",
                    Fix("team", team.name),
                )
            )
            continue
        gaps = _uncovered_slots(team, roster, now)
        if gaps:
            zone = _zone(team)
            first = min(
                (gap.astimezone(ZoneInfo(zone)) for gap in gaps),
                key=lambda local: (local.weekday(), local.time()),
            )
            hours = len(gaps) * SLOT / timedelta(hours=1)
            findings.append(
                Finding(
                    "team_uncovered",
                    team.name,
                    f"Team {team.name} has nobody on shift for {hours:g}h a week of its "
                    f"business hours (e.g. {first:%a %H:%M} {zone})",
                    Fix("team", team.name),
                )
            )
    return findings


def _zone(team: TeamConfig) -> str:
    return team.business_hours.timezone if team.business_hours else "UTC"


def _uncovered_slots(team: TeamConfig, roster: list[RepConfig], now: datetime) -> list[datetime]:
    if team.business_hours is None:
        return []
    hours = parse_working_hours(team.business_hours.hours)
    zone = ZoneInfo(team.business_hours.timezone)
    standing = [
        Availability(rep.model_copy(update={"pto": [], "capacity": None})) for rep in roster
    ]
    start = now - timedelta(days=7)
    start -= timedelta(
        minutes=start.minute % 30, seconds=start.second, microseconds=start.microsecond
    )
    gaps = []
    for step in range(7 * 48):
        slot = start + step * SLOT
        local = slot.astimezone(zone)
        open_now = any(a <= local.time() < b for a, b in hours.get(local.weekday(), ()))
        clock = LocalClock(slot)
        if open_now and all(availability.reason(clock, 0) for availability in standing):
            gaps.append(slot)
    return gaps


def drifted_weights(config: Config, data: ReviewData, settings: ReviewConfig) -> list[Finding]:
    """Weighted teams whose leads were not shared as the weights say (chi-square against
    the weights), naming the rep furthest from their share."""
    findings = []
    for team in config.teams:
        if team.strategy != "weighted" or len(team.members) < 2:
            continue
        received = data.team_leads.get(team.name, {})
        total = sum(received.get(m.user, 0) for m in team.members)
        if total < settings.min_leads:
            continue
        weight_total = sum(m.weight for m in team.members)
        observed = [received.get(m.user, 0) for m in team.members]
        expected = [total * m.weight / weight_total for m in team.members]
        gaps = [
            (o / total - e / total, m.user, m.weight)
            for o, e, m in zip(observed, expected, team.members, strict=True)
        ]
        gap, user, weight = max(gaps, key=lambda g: abs(g[0]))
        drifted = abs(gap) * 100 >= settings.weight_drift
        if drifted and stats.chisquare(observed, expected).pvalue < EVIDENCE:
            share = received.get(user, 0) / total
            findings.append(
                Finding(
                    "weight_drift",
                    team.name,
                    f"Team {team.name}: {user} has weight {weight} of {weight_total} "
                    f"({weight / weight_total * 100:.0f}%) but got {share * 100:.0f}% of "
                    f"{total} leads",
                    Fix("team", team.name),
                )
            )
    return findings


def orphaned_accounts(config: Config, data: ReviewData) -> list[Finding]:
    """Accounts whose owner left: not a rep any more, inactive, or gone from Slack."""
    findings = []
    for account in config.accounts:
        rep = config.rep(account.owner)
        gone = rep is not None and data.slack_status.get(rep.user or "") in GONE
        if rep is None or not rep.active or gone:
            why = "is not a rep" if rep is None else "left" if gone else "is inactive"
            findings.append(
                Finding(
                    "account_orphaned",
                    account.domain,
                    f"Account {account.domain}: its owner {account.owner} {why}; its leads "
                    "fall through to the next rule",
                    Fix("import"),
                )
            )
    return findings


def gini_trend(
    config: Config, slices: Sequence[tuple[datetime, Mapping[str, int]]]
) -> list[tuple[datetime, float]]:
    """Gini of leads per rep in each part of the period that had leads; active team
    members who got nothing count, since leaving them out would hide the unfairness."""
    members = {
        member.user
        for team in config.teams
        for member in team.members
        if (rep := config.rep(member.user)) is not None and rep.active
    }
    return [
        (at, gini([counts.get(user, 0) for user in members | set(counts)]))
        for at, counts in slices
        if any(counts.values())
    ]


def rising_gini(trend: list[tuple[datetime, float]], settings: ReviewConfig) -> list[Finding]:
    if len(trend) < 2 or trend[-1][1] - trend[0][1] < settings.gini_rise:
        return []
    (first_at, first), (_, last) = trend[0], trend[-1]
    return [
        Finding(
            "gini_rising",
            "fairness",
            f"Leads per rep grew less even: Gini {first:.2f} from {first_at:%Y-%m-%d} to "
            f"{last:.2f} now",
            Fix("rules"),
        )
    ]
