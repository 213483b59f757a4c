"""A replica can die after Slack accepted a post and before its commit recorded it. The
next dispatcher finds that post by the outbox key it carries and does not post again;
a row that died before posting is still posted, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.worker.outbox import OutboxDispatcher
from bot.worker.slack_transport import tagged as _tagged
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from storage.migrate import upgrade_to_head
from storage.uow import Database
from tests.support.fake_slack import FakeSlack

T0 = datetime.now(UTC).replace(microsecond=0)  # the fake stamps messages with real time


async def _database_with_card(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}")
    await upgrade_to_head(db.engine)
    lead = LeadRecord(
        id="L1",
        created_at=T0,
        submitter="webform",
        fields=LeadInput(email="jo@x.io"),
        status=LeadStatus.ASSIGNED,
        owner="U0ALICE",
        team=None,
        method=Method.PUSH,
        decision={"reasons": ["test"]},
        sla_due_at=T0 + timedelta(minutes=5),
        assigned_at=T0,
        contacted_at=None,
        version=1,
    )
    async with db.transaction() as uow:
        await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
        await uow.outbox.add(
            dedup_key="lead_card:L1:U0ALICE",
            kind="lead_card",
            target="U0ALICE",
            lead_id="L1",
            now=T0,
        )
        # A replica leased it and died: its lease has since expired.
        await uow.outbox.claim_due("dead-replica", T0, T0 + timedelta(seconds=30), 10)
    return db


@pytest.mark.parametrize("reached_slack", [True, False])
async def test_a_send_interrupted_by_a_crash_is_never_doubled(
    tmp_path: Path, fake_slack: FakeSlack, reached_slack: bool
) -> None:
    db = await _database_with_card(tmp_path)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    async with db.snapshot() as uow:
        (row,) = await uow.outbox.claim_due("peek", T0 + timedelta(hours=1), T0, 10) or [None]
    if reached_slack:  # what the dead replica had done before it died
        await client.chat_postMessage(channel="DU0ALICE", text="card", metadata=_tagged(row))
    later = T0 + timedelta(minutes=1)
    dispatcher = OutboxDispatcher(db, client, lambda: later, "next-replica")
    assert await dispatcher.drain() == 1

    posts = fake_slack.delivered("chat.postMessage")
    assert len(posts) == 1  # the one post, whoever made it
    async with db.snapshot() as uow:
        assert await uow.outbox.depth() == 0
        assert await uow.messages.for_lead("L1") == [("DU0ALICE", posts[0].response["ts"])]
    await db.dispose()
