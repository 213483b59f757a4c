"""Card edits claimed together are one `chat.update` per card: a claim, a contact and an
SLA step a moment apart used to edit the same card three times (about 1.75 edits per
lead in the replica benchmark, more than a channel's allowance in a burst)."""

from __future__ import annotations

from types import SimpleNamespace

from domain.messages import CardUpdate, Kind, merged_card_updates
from tests.bot.outbox_stack import NOW, Stack
from tests.support.fake_slack import FakeSlack


def _row(row_id: int, kind: str, lead: str | None) -> SimpleNamespace:
    return SimpleNamespace(id=row_id, kind=kind, target=lead or "C0X", lead_id=lead)


def test_only_the_last_edit_of_each_lead_is_kept() -> None:
    rows = [
        _row(1, Kind.CARD_UPDATE, "L1"),
        _row(2, Kind.LEAD_CARD, "L1"),
        _row(3, Kind.CARD_UPDATE, "L2"),
        _row(4, Kind.CARD_UPDATE, "L1"),
        _row(5, Kind.ALERT, "L1"),
        _row(6, Kind.CARD_UPDATE, "L1"),
    ]
    assert merged_card_updates(rows) == {1, 4}
    assert merged_card_updates(rows[:3]) == set()


async def test_three_edits_claimed_together_are_one_call(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    lead_id = await stack.lead("jo@prospect.io")
    await stack.drain()
    assert len(fake_slack.delivered("chat.postMessage")) == 1  # the owner's card
    async with stack.db.transaction() as uow:
        await uow.outbox.queue([CardUpdate(lead_id, f"v{n}") for n in (2, 3, 4)], NOW)
    await stack.drain()
    assert len(fake_slack.delivered("chat.update")) == 1
    updates = [row for row in await stack.outbox() if row.kind == Kind.CARD_UPDATE]
    assert len(updates) == 3 and {row.state for row in updates} == {"sent"}
