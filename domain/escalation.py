"""What an SLA step does to a lead, decided purely: the storage layer applies it.

Steps: `remind_owner` (before the deadline), `breach` (the deadline), and the chain:
`reassign` (to the team backup, else the next eligible rep), `notify_manager`,
`repost_to_channel` (back to the channel for anyone to claim) and `notify_owner`.
A lead that was contacted (or closed) fires nothing: every later step is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.availability import Availability, LocalClock
from domain.config import Config, TeamConfig
from domain.durations import humanize
from domain.eligibility import RepFacts, TeamRules, unavailable
from domain.lead import DEFAULT_LEAD_TYPE
from domain.records import OPEN_STATUSES, LeadRecord


@dataclass(frozen=True)
class Notice:
    """A DM or channel message to queue: `target` is a user or channel id. `oversight`:
    to a manager or admin about someone else's lead, one of as many as a stranger's form
    can cause (a flood of leads breaching together), so it folds like intake alerts;
    a notice to the lead's own rep never folds."""

    target: str
    text: str
    oversight: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """Effects of one step. `fired=False` means it was cancelled with `reason`."""

    fired: bool
    event: str
    reason: str
    assign_to: str | None = None
    release: bool = False
    repost_channel: str | None = None
    notices: tuple[Notice, ...] = field(default=())
    update_card: bool = True
    missed_by: str | None = None


def _team(config: Config, lead: LeadRecord) -> TeamConfig | None:
    return config.team(lead.team) if lead.team else None


def _who(user: str | None) -> str:
    """Bare ids: the views escape lead data and then turn ids into mentions."""
    return user or "nobody"


def escalation_target(
    team: TeamConfig,
    config: Config,
    open_leads: dict[str, int],
    now: datetime,
    exclude: str | None,
    unreachable: frozenset[str] = frozenset(),
    facts: RepFacts | None = None,
    lead_type: str = DEFAULT_LEAD_TYPE,
) -> tuple[str | None, str]:
    """The team backup if they can take it, else the eligible member with fewest open leads.
    `unreachable` are reps Slack refused to deliver to: handing them the lead would stall it.
    `facts` (open leads, Slack facts, away toggles, per-day counts) decide who can take it,
    as for routing; without them, the configuration and `open_leads` alone."""
    skip = unreachable | {exclude}
    facts = facts if facts is not None else RepFacts(open_leads)
    rules = TeamRules(team.name, team.availability, team.caps)
    clock = LocalClock(now)

    def available(user: str) -> bool:
        rep = config.rep(user)
        if rep is None:
            return False
        settings = config.availability_settings
        why = unavailable(
            user, Availability(rep), rep.caps, rules, lead_type, clock, facts, settings
        )
        return why is None

    if team.backup and team.backup not in skip and available(team.backup):
        return team.backup, f"team backup {team.backup}"
    candidates = []
    for member in team.members:
        if member.user not in skip and available(member.user):
            candidates.append((facts.open_leads.get(member.user, 0), member.user))
    if not candidates:
        return None, f"nobody else in {team.name} can take it now"
    load, user = min(candidates)
    return user, f"next eligible rep {user} ({load} open leads)"


def run_step(
    action: str,
    lead: LeadRecord,
    config: Config,
    open_leads: dict[str, int],
    now: datetime,
    missed_by: str | None = None,
    facts: RepFacts | None = None,
) -> StepOutcome:
    """Decide one due step for `lead` at `now`. `missed_by` is who owned the lead when
    the SLA breached (recorded by the breach step), so later steps blame the right rep
    even after a reassignment. Notice texts say "this lead" and never quote the lead:
    the alert view names it (escaped) beside the text, and Slack ids in the text become
    mentions, which a stranger's name must never do. `facts`: who can take a reassigned
    lead (escalation_target)."""
    if lead.status not in OPEN_STATUSES or lead.contacted_at is not None:
        return StepOutcome(False, "cancelled", f"lead already {lead.status}", update_card=False)
    team = _team(config, lead)
    due = lead.sla_due_at or now
    late = humanize(now - due)
    if action == "remind_owner":
        left = humanize(due - now)
        if lead.owner is None:
            return StepOutcome(True, "reminded", f"{left} left to respond; nobody has claimed it")
        text = f"Reminder: this lead is waiting for you — {left} left to respond."
        return StepOutcome(
            True,
            "reminded",
            f"reminded {lead.owner}: {left} left",
            notices=(Notice(lead.owner, text),),
        )
    culprit = missed_by if missed_by is not None else lead.owner
    if action == "breach":
        return StepOutcome(
            True,
            "breached",
            f"no contact within the SLA; {_who(lead.owner)} had it",
            missed_by=lead.owner,
        )
    if action == "reassign":
        return _reassign(lead, team, config, open_leads, now, late, culprit, facts)
    if action == "notify_manager":
        managers = [team.manager] if team and team.manager else list(config.admins)
        holder = "" if lead.owner == culprit else f" It is now with {_who(lead.owner)}."
        text = (
            f"SLA breached on this {lead.fields.lead_type.replace('_', ' ')} lead: "
            f"{_who(culprit)} did not make contact; overdue by {late}.{holder}"
        )
        return StepOutcome(
            True,
            "manager_notified",
            f"told {', '.join(managers) or 'nobody'}",
            notices=tuple(Notice(m, text, oversight=True) for m in managers),
            update_card=False,
        )
    if action == "notify_owner":
        if lead.owner is None:
            return StepOutcome(False, "cancelled", "no owner to notify", update_card=False)
        text = f"You missed the response SLA on this lead by {late}. Please reach out now."
        return StepOutcome(
            True,
            "owner_notified",
            f"told {lead.owner} the SLA was missed",
            notices=(Notice(lead.owner, text),),
            update_card=False,
        )
    if action == "repost_to_channel":
        if team is None or team.channel is None:
            return StepOutcome(
                False, "cancelled", "no team channel to repost to", update_card=False
            )
        return StepOutcome(
            True,
            "reposted",
            f"still untouched {late} after the SLA: reposted to {team.channel} "
            f"for anyone to claim (was with {_who(lead.owner)})",
            release=lead.owner is not None,
            repost_channel=team.channel,
        )
    raise ValueError(f"unknown SLA step action {action!r}")


def _reassign(
    lead: LeadRecord,
    team: TeamConfig | None,
    config: Config,
    open_leads: dict[str, int],
    now: datetime,
    late: str,
    culprit: str | None,
    facts: RepFacts | None,
) -> StepOutcome:
    if team is None:
        return StepOutcome(
            True, "escalation_failed", "no team to escalate within", update_card=False
        )
    target, why = escalation_target(
        team, config, open_leads, now, lead.owner, facts=facts, lead_type=lead.fields.lead_type
    )
    if target is None:
        return StepOutcome(
            True, "escalation_failed", f"could not reassign: {why}", update_card=False
        )
    text = (
        f"This lead was escalated to you: {_who(culprit)} did not respond "
        f"within the SLA (overdue by {late})."
    )
    return StepOutcome(
        True,
        "reassigned",
        f"SLA missed by {_who(culprit)}; reassigned to {why}",
        assign_to=target,
        notices=(Notice(target, text),),
    )


def undeliverable(
    lead: LeadRecord,
    target: str,
    error: str,
    config: Config,
    open_leads: dict[str, int],
    now: datetime,
    unreachable: frozenset[str] = frozenset(),
    facts: RepFacts | None = None,
) -> StepOutcome:
    """Slack refused the lead's notification for good (`error`): escalate now rather than
    wait for the SLA, since nobody can act on a message that never arrived.

    Only a notification that is still the lead's way to a human counts: the owner's DM,
    or the channel post of a lead nobody owns. The lead goes to the team backup (else the
    least-loaded eligible rep, never one in `unreachable`) and the manager is told."""
    if lead.status not in OPEN_STATUSES or lead.contacted_at is not None:
        return StepOutcome(False, "cancelled", f"lead already {lead.status}", update_card=False)
    stranded = target == lead.owner or (lead.owner is None and target[:1] in "CG")
    if not stranded:
        return StepOutcome(
            False, "cancelled", f"{target} no longer holds the lead", update_card=False
        )
    team = _team(config, lead)
    managers = [team.manager] if team and team.manager else list(config.admins)
    if team is None:
        assign_to, why = None, "no team to escalate within"
    else:
        assign_to, why = escalation_target(
            team,
            config,
            open_leads,
            now,
            exclude=lead.owner,
            unreachable=unreachable | {target},
            facts=facts,
            lead_type=lead.fields.lead_type,
        )
    outcome = f"reassigned to {why}" if assign_to else f"could not reassign: {why}"
    text = (
        f"Slack could not deliver this lead to {target} ({error}); {outcome}. "
        "Please check the Slack setup."
    )
    return StepOutcome(
        True,
        "reassigned" if assign_to else "escalation_failed",
        f"notification to {target} failed ({error}); {outcome}",
        assign_to=assign_to,
        notices=tuple(Notice(m, text, oversight=True) for m in managers),
        update_card=assign_to is not None,
    )
