"""Issue 9: the soak's driver, short and slow, so CI proves its logic on three replicas.

Three `leadrouter serve` on one PostgreSQL take a mix of intake, pull claims (some by
two reps on two replicas at once), CRM contacts and second-scale SLA escalations. Every
lead must be notified exactly once, no outbox key may reach Slack twice, no lead may get
two winning claims, and the outbox and the deadlines must drain.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harness.soak import SoakPlan, config_yaml, run_soak, start_replicas
from storage import tables as t
from storage.engine import create_engine
from tests.support.fake_slack import FakeSlack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PLAN = SoakPlan(
    rate=5.0,
    seconds=20.0,
    teams=4,
    pull_teams=2,
    pull_share=0.4,
    contact_share=0.6,
    sla_seconds=6,
    repost_after_seconds=2,
    sample_every=2.0,
)


async def _config_versions(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(t.config_versions))
    finally:
        await engine.dispose()
    return int(count or 0)


def test_three_replicas_notify_every_lead_exactly_once_and_drain(
    fake_slack: FakeSlack, postgres_db: str, tmp_path: Path
) -> None:
    config = tmp_path / "soak.yml"
    config.write_text(config_yaml(PLAN))
    apps = start_replicas(3, postgres_db, config, fake_slack, tmp_path)
    try:
        # each found the database empty; exactly one may load LEADROUTER_CONFIG
        assert asyncio.run(_config_versions(postgres_db)) == 1
        result = asyncio.run(run_soak(apps, fake_slack, postgres_db, PLAN, drain_timeout=120))
    finally:
        for app in apps:
            app.terminate()

    assert not result.refused and not result.action_errors, (result.refused, result.action_errors)
    assert len(result.accepted) == int(PLAN.rate * PLAN.seconds)
    assert result.drained, result.samples[-1]
    assert result.samples[-1].outbox_pending == 0 and result.samples[-1].outbox_dead == 0
    assert not result.doubled_keys
    assert not result.unnotified and not result.notified_twice
    assert result.multi_claimed == 0
    assert result.untagged_posts == 0
    # the mix really exercised what the soak claims to: claims, contacts and escalations
    assert result.events["claimed"] > 0 and result.events["contacted"] > 0
    assert result.events["reminded"] > 0 and result.events["reposted"] > 0
    assert result.double_clicks > 0
