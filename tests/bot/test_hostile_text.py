"""Whatever a stranger types into a lead, and whatever a CRM sends as an event's `by` or
`note`, no Slack control sequence from it survives in any payload the app sends: cards,
card updates, alerts, reminders, escalations, digests, erasure redraws, the queue view,
the reassign modal, in blocks and in the top-level `text`.

Why a property test over the whole stack: the escaping lives in one function, but each
view decides what to pass through it; a hand-picked example checks the views someone
remembered, generated hostile strings through every path check all of them.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from bot.services.privacy import PrivacyService
from bot.services.timers import TimerSweeper
from bot.slack import views
from bot.worker.outbox import OutboxDispatcher
from domain.config import load_config
from domain.errors import DomainError, InvalidInput
from domain.lead import parse_lead
from harness.storage import migrated
from storage.uow import Database
from tests.support.fake_slack import FakeSlack

KNOWN = {"U0ALICE", "U0BOB", "U0DAN", "U0MANAGER", "U0SALESOPS", "U0WEB"}
CONFIG = load_config(
    """
version: 1
admins: [U0SALESOPS]
reps: [{user: U0ALICE, capacity: 1}, {user: U0BOB}, {user: U0DAN}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, members: [{user: U0ALICE}]}
  - {name: health, channel: C0HEALTH, method: pull, manager: U0MANAGER,
     members: [{user: U0DAN}, {user: U0BOB}]}
rules:
  - {name: health, when: {industry: healthcare}, then: {team: health}}
  - {name: all, then: {team: inbound}}
slas:
  mql:
    respond_within: 10m
    remind_at: [50%]
    escalation: [{after: 0m, do: notify_manager}, {after: 0m, do: notify_owner},
                 {after: 1m, do: reassign}, {after: 2m, do: repost_to_channel}]
"""
)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# Each hostile piece carries letters the app's own templates never write, so finding
# it verbatim in a payload can only mean lead text passed through unescaped.
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0SALESOPS>",
    "@U0SALESOPS",
    "U0SALESOPS",
    "<#C0INBOUND>",
    "<!subteam^S0QQ>",
    "<https://evil.example|qq click>",
    "<!date^1700000000^{date}|qq>",
    "*qq bold*",
    "_qq it_",
    "~qq gone~",
    "`qq code`",
    "```qq```",
    "> qq quote",
    "&lt;@U0SALESOPS&gt;",
    "\n*qq Owner:* x",
    "\u202eqq",
]
pieces = st.sampled_from(HOSTILE) | st.text(alphabet="ab <>&*_~`@!#|^\n\u202e", max_size=6)
hostile = st.lists(pieces, min_size=1, max_size=4).map("".join)
"""Hostile text for the CRM's `by` and `note` (the service takes them as they come)."""
typed_text = hostile.map(lambda text: text.replace("\n", " "))
"""Hostile text a form can get past the door (which refuses control characters)."""
long_hostile = st.builds(lambda text, count: text * count, typed_text, st.integers(1, 400))
TEXT_FIELDS = ("first_name", "last_name", "company", "city", "state", "product_interest")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", START, "test")
        yield database


def strings(value: Any) -> Iterator[str]:
    """Every string in a payload (texts of blocks, fields, elements, and `text`)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


_SEQUENCE = re.compile(r"<([^<>]*)>")
_WORD = re.compile(r"\w")
_APP_SEQUENCE = re.compile(r"^(@[UW][A-Z0-9]+|!date\^\d+\^\{[a-z_ {}]+\}( at \{time\})?\|[^|]*)$")


def assert_inert(payload: Any, typed: list[str]) -> None:
    for text in strings(payload):
        for sequence in _SEQUENCE.findall(text):
            assert _APP_SEQUENCE.match(sequence), f"<{sequence}> in {text!r}"
            if sequence.startswith("@"):
                assert sequence[1:] in KNOWN, f"<{sequence}> is no id the app knows"
        for token in {token for token in HOSTILE for piece in typed if token in piece}:
            if "&" in token or not set(token) & set("<>*_~`\n\u202e"):
                continue  # typed entities show as typed (&amp;lt;); plain words are words
            for found in re.finditer(re.escape(token), text):
                # Only between two letters may a * _ ~ stay (a_b formats nothing in Slack).
                inside = _WORD.match(text[found.start() - 1 : found.start()] or " ") and (
                    _WORD.match(text[found.end() : found.end() + 1] or " ")
                )
                assert inside and not set(token) & set("<>`\n\u202e"), (
                    f"{token!r} survived in {text!r}"
                )
        assert "\u202e" not in text
        if "U0SALESOPS" in "".join(typed):
            assert "<@U0SALESOPS>" not in text, "a typed id became a mention"


@settings(
    max_examples=25,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a shrink replays the stack: minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.fixed_dictionaries({name: typed_text for name in TEXT_FIELDS}),
    long_name=long_hostile,
    crm_by=hostile,
    crm_note=hostile,
    healthcare=st.booleans(),
)
async def test_no_typed_control_sequence_reaches_slack(
    db: Database,
    fake_slack: FakeSlack,
    fields: dict[str, str],
    long_name: str,
    crm_by: str,
    crm_note: str,
    healthcare: bool,
) -> None:
    clock = Clock()
    configs = ConfigService()
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    dispatcher = OutboxDispatcher(db, client, clock, "replica-1")
    intake = IntakeService(db, configs, clock, dispatcher.wake)
    actions = LeadActions(db, configs, clock, dispatcher.wake)
    privacy = PrivacyService(db, configs, clock, dispatcher.wake)
    timers = TimerSweeper(db, configs, clock, dispatcher.wake)
    before = len(fake_slack.calls)
    typed = [*fields.values(), long_name[:100], crm_by, crm_note]

    leads = []
    for name in (fields["first_name"], long_name[:100], "plain"):
        data = {**fields, "first_name": name, "email": f"p{uuid.uuid4().hex[:12]}@prospect.io"}
        if healthcare:
            data["industry"] = "healthcare"
        try:
            lead = parse_lead(data)
        except InvalidInput:  # refused at the door (a control character): nothing to show
            continue
        leads.append((await intake.submit("webform", lead, None)).lead)
    while await dispatcher.drain():
        pass
    for lead in leads:
        with contextlib.suppress(DomainError, InvalidInput):
            await actions.record_event(lead.id, "qualified", crm_by or "crm", None, crm_note)
    for minutes in (6, 11, 12, 13):
        clock.now = START + timedelta(minutes=minutes)
        await timers.sweep()
        while await dispatcher.drain():
            pass
    clock.now += timedelta(minutes=1)
    for lead in leads[:1]:
        await privacy.erase(lead.id, "webform")
    clock.now += timedelta(minutes=2)
    while await dispatcher.drain():
        pass

    for call in fake_slack.calls[before:]:
        assert_inert(call.params, typed)
    for lead in leads:
        stored = await actions.get(lead.id)
        assert_inert(views.lead_card(stored, clock.now), typed)
        assert_inert(views.queue_view("Your queue", [stored], clock.now, "none"), typed)
        assert_inert(views.reassign_modal(stored, clock.now), typed)
