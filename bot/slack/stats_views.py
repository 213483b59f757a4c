"""Block Kit for the figures: `/leadstats`, the caller's own figures under `/leads` and in
App Home, and the Home tab itself. Pure functions, so tests assert on blocks.

Long tables are summarised (top rows, then "…and N more") so a message stays within
Slack's 50 blocks and 3,000 characters a section, and a Home view within 100 blocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.slack.admin.forms import pto_button
from bot.slack.blocks import Blocks, context, escape, section, slack_date
from bot.slack.views import MAX_QUEUE_LEADS, humanize_seconds, queue_view
from domain.records import LeadRecord
from domain.reports import Change, Line, Report, Spread, Tally
from domain.scoring_report import Conversion, ScoringReport

MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100
TABLE_ROWS = 15
"""Rows per table shown in Slack; the full table is in `GET /api/stats`."""
_SECTION = 3000

USAGE = (
    "Usage: `/leadstats [me | team NAME | rep @user | source NAME] [7d | 30d | 90d]`\n"
    "For example `/leadstats team enterprise 30d`, `/leadstats rep @jane 7d` or "
    "`/leadstats source paid_ads`. Without arguments: your own last 30 days."
)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else humanize_seconds(seconds)


def _spread(spread: Spread) -> str:
    return f"median {duration(spread.median)} · p90 {duration(spread.p90)}"


def _conversion(tally: Tally) -> str:
    return (
        f"{tally.leads} leads · {percent(tally.opportunity_rate)} to opportunity · "
        f"win rate {percent(tally.win_rate)}"
    )


def _table(title: str, lines: list[str]) -> Blocks:
    """A titled list in as few sections as fit 3,000 characters, cut at TABLE_ROWS."""
    shown = lines[:TABLE_ROWS]
    if len(lines) > TABLE_ROWS:
        shown.append(f"_…and {len(lines) - TABLE_ROWS} more (all of them: `GET /api/stats`)_")
    blocks: Blocks = []
    text = f"*{title}*"
    for line in shown:
        if len(text) + len(line) + 1 > _SECTION:
            blocks.append(section(text))
            text = ""
        text = f"{text}\n{line}" if text else line
    blocks.append(section(text))
    return blocks


def _rep_line(line: Line) -> str:
    weight = f" (weight {line.weight})" if line.weight is not None else ""
    t = line.tally
    return (
        f"• <@{line.key}>{weight}: {t.leads} leads · {_spread(line.response)} · "
        f"{percent(t.sla_rate)} in SLA · {percent(t.opportunity_rate)} to opportunity"
    )


def _scope_mrkdwn(report: Report) -> str:
    """A rep as a mention (their id was checked when parsed); names escaped."""
    scope = report.scope
    return f"<@{scope.value}>" if scope.kind == "rep" else escape(scope.describe())


def _title(report: Report) -> str:
    """Plain text (a header cannot show a mention): a rep is named in the line below."""
    scope = report.scope
    who = "one rep" if scope.kind == "rep" else scope.describe()
    return f"Lead stats — {who}, last {report.period.removesuffix('d')} days"


def summary_fields(report: Report) -> dict[str, Any]:
    t = report.total
    unassigned = f" ({report.unassigned} unassigned)" if report.unassigned else ""
    pairs = [
        ("Leads", f"{t.leads}{unassigned}"),
        ("Response time", _spread(report.response)),
        ("Contacted within SLA", f"{percent(t.sla_rate)} ({t.sla_met} of {t.sla_decided})"),
        ("Lead → opportunity", percent(t.opportunity_rate)),
        ("Win rate", percent(t.win_rate)),
    ]
    if report.gini is not None:
        pairs.append(("Gini of leads per rep", f"{report.gini:.2f} (0 = equal)"))
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in pairs],
    }


def report_view(report: Report) -> dict[str, Any]:
    """The full figures for `/leadstats`: summary, then per rep, source, method, rule,
    queues and lifecycle stages."""
    title = _title(report)
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        context(
            f"{_scope_mrkdwn(report)} · {slack_date(report.start)} → "
            f"{slack_date(report.end)} (your local days)"
        ),
    ]
    if report.total.leads == 0:
        blocks.append(
            section(
                f"No leads for {_scope_mrkdwn(report)} in this period. Try a longer "
                f"period (`/leadstats {_args(report)} 90d`) or another scope.\n{USAGE}"
            )
        )
        return {"text": title, "blocks": blocks}
    blocks += [summary_fields(report), {"type": "divider"}]
    if report.scope.kind != "rep":
        blocks += _table("Per rep", [_rep_line(line) for line in report.reps])
    blocks += _table(
        "Per source",
        [
            f"• {escape(line.key)}: {line.tally.leads} leads · mean response "
            f"{duration(line.tally.mean_response)} · {percent(line.tally.sla_rate)} in SLA"
            for line in report.sources
        ],
    )
    blocks += _table(
        "Conversion by routing method",
        [f"• {line.key}: {_conversion(line.tally)}" for line in report.methods],
    )
    blocks += _table(
        "Conversion by rule",
        [f"• {escape(line.key)}: {_conversion(line.tally)}" for line in report.rules],
    )
    if report.queues:
        blocks += _table(
            "Pull and pool queues (longest unclaimed first)",
            [
                f"• {q.method} · {q.lead_type.replace('_', ' ')}: {q.claimed} claimed, wait "
                f"{_spread(q.wait)} · {q.unclaimed} unclaimed"
                + (
                    f", oldest waiting {duration(q.longest_unclaimed_seconds)}"
                    if q.unclaimed
                    else ""
                )
                for q in report.queues
            ],
        )
    if report.scoring is not None:
        for table_title, lines in scoring_tables(report.scoring):
            blocks += _table(table_title, lines)
    blocks += _table(
        "Where leads stall (time in each stage)",
        [
            f"• {s.stage}: {s.reached} reached · {s.left} moved on after "
            f"{duration(s.mean_seconds)} on average · {s.now_in} still there"
            for s in report.stages
        ],
    )
    return {"text": title, "blocks": blocks[:MESSAGE_BLOCKS]}


def _args(report: Report) -> str:
    scope = report.scope
    return f"rep <@{scope.value}>" if scope.kind == "rep" else f"{scope.kind} {scope.value}"


def own_figures(report: Report) -> Blocks:
    """A rep's own last 30 days: under `/leads` and in App Home."""
    t = report.total
    if t.leads == 0:
        return [context("Your figures appear here once you have worked leads this month.")]
    return [
        {"type": "divider"},
        section(
            f"*Your last 30 days:* {t.leads} leads · response {_spread(report.response)} · "
            f"{percent(t.sla_rate)} contacted within SLA · "
            f"{percent(t.opportunity_rate)} to opportunity"
        ),
        context("More: `/leadstats me 90d`"),
    ]


def queue_with_figures(leads: list[LeadRecord], report: Report, now: datetime) -> dict[str, Any]:
    """`/leads`: the queue, then the rep's own figures, within one message's 50 blocks."""
    figures = own_figures(report)
    message = queue_view(
        "Your open leads",
        leads,
        now,
        "Nothing waiting for you. New leads arrive here as DMs.",
        limit=min(MAX_QUEUE_LEADS, (MESSAGE_BLOCKS - 2 - len(figures)) // 3),
    )
    return {**message, "blocks": message["blocks"] + figures}


HOME_LEADS = 30  # three blocks each: 90 of the 100 a Home view allows, with room for figures


def home_view(leads: list[LeadRecord], report: Report, now: datetime) -> dict[str, Any]:
    """The Home tab: the rep's open leads, most urgent first, then their own figures."""
    figures = own_figures(report)
    queue = queue_view(
        "Your open leads",
        leads,
        now,
        "Nothing waiting for you right now. New leads arrive as DMs from this app; "
        "`/leads team` shows unclaimed leads of your teams.",
        limit=min(HOME_LEADS, (HOME_BLOCKS - 3 - len(figures)) // 3),
    )
    return {"type": "home", "blocks": queue["blocks"] + figures + [pto_button()]}


def digest_message(team: str, report: Report, moves: list[Change]) -> dict[str, Any]:
    """The weekly digest: how the headline figures moved against last week, then this
    week's full figures."""
    lines = [f"• {c.name}: {_shown(c.unit, c.current)}{_delta(c)}" for c in moves]
    title = f"Weekly lead digest — {team}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section("*Against the previous week*\n" + "\n".join(lines)),
        *report_view(report)["blocks"][1:],
    ]
    return {"text": title, "blocks": blocks[:MESSAGE_BLOCKS]}


def _shown(unit: str, value: float | None) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return duration(value)
    if unit == "rate":
        return percent(value)
    return f"{value:.2f}" if unit == "index" else f"{value:.0f}"


def _delta(change: Change) -> str:
    delta = change.delta
    if delta is None:
        return ""
    if change.unit == "seconds":
        return f" ({'+' if delta >= 0 else '−'}{humanize_seconds(abs(delta))})"
    if change.unit == "rate":
        return f" ({delta * 100:+.0f} pts)"
    return f" ({delta:+.2f})" if change.unit == "index" else f" ({delta:+.0f})"


def scoring_tables(report: ScoringReport) -> list[tuple[str, list[str]]]:
    """The scoring section of `/leadstats` and the digest, as (title, lines) tables:
    conversion by grade and band, lead quality by source, the spread of A-leads."""
    graded = [line for line in report.grades if line.leads]
    banded = [line for line in report.bands if line.leads]
    tables = [
        (
            f"Qualification: {report.leads} scored, {report.nurtured} in nurture "
            f"(MQL line {report.mql_at})",
            [_conversion_line(line) for line in graded],
        ),
        ("By score band", [_conversion_line(line) for line in banded]),
    ]
    flagged = [inversion for inversion in report.inversions if inversion.significant]
    if flagged:
        tables.append(
            (
                ":warning: Converting out of order (review the model: `leadrouter scoring report`)",
                [
                    f"• {i.worse.key} qualifies {percent(i.worse.qualified_rate)}, above "
                    f"{i.better.key} at {percent(i.better.qualified_rate)} (p = {i.p_value:.3f})"
                    for i in flagged
                ],
            )
        )
    tables.append(
        (
            "Lead quality by source",
            [
                f"• {escape(line.conversion.key)}: {line.conversion.leads} leads · "
                f"{percent(line.conversion.qualified_rate)} qualified · "
                f"{line.disqualified} disqualified"
                + (f" ({_reasons(line.reasons)})" if line.reasons else "")
                for line in report.sources
            ],
        )
    )
    gini = report.mix.a_gini
    spread = "no A-grade leads" if gini is None else f"Gini {gini:.2f} (0 = evenly shared)"
    tables.append(
        (
            f"A-grade leads per rep: {spread}",
            [
                f"• <@{rep}>: {mix['A']} A · {mix['B']} B · {mix['C']} C"
                for rep, mix in sorted(report.mix.letters.items(), key=lambda i: -i[1]["A"])
            ],
        )
    )
    return tables


def _conversion_line(line: Conversion) -> str:
    return (
        f"• {line.key}: {line.leads} leads, {line.worked} worked · "
        f"{percent(line.contact_rate)} contacted · {percent(line.qualified_rate)} qualified · "
        f"{percent(line.opportunity_rate)} to opportunity · {percent(line.won_rate)} won"
    )


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{escape(reason)} {count}" for reason, count in reasons.items())
