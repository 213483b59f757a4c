"""`leadrouter counters check [--repair]`: exit 1 when a counter differs from the leads,
0 once repaired; what differs is printed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.cli import run
from domain.lead import LeadStatus
from harness.storage import make_lead, migrated
from storage import tables as t


async def _seed(url: str) -> None:
    async with migrated(url) as db:
        async with db.transaction() as uow:
            leads = [make_lead(owner="U0ALICE", status=LeadStatus.ASSIGNED) for _ in range(2)]
            await uow.leads.add_many([(lead, None, None) for lead in leads])
        async with db.transaction() as uow:
            await uow.connection.execute(update(t.open_lead_counts).values(count=7))


def test_check_reports_drift_and_repair_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}"
    asyncio.run(_seed(url))
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
    assert run(["counters", "check"]) == 1
    assert "open leads of U0ALICE: stored 7, counted 2" in capsys.readouterr().out
    assert run(["counters", "check", "--repair"]) == 0
    assert run(["counters", "check"]) == 0
    assert capsys.readouterr().out.endswith("counters match the leads\n")
