"""Issue 8 on PostgreSQL with two replicas: admins saving the same team at the same
instant through different processes never both win (the check and the save are one
step under an advisory lock), and the loser is told who changed it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness.app_process import AppProcess
from tests.e2e.conftest import ALWAYS_ON_CONFIG
from tests.e2e.test_admin import submit, team_values
from tests.support.fake_slack import FakeSlack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
ROUNDS = 5


def save_weight(app: AppProcess, base: int, weight: int) -> dict[str, Any]:
    """Alice's weight in team inbound, from a modal opened on version `base`."""
    modal = {
        "id": f"V{base}{weight}",
        "callback_id": "admin_team",
        "private_metadata": json.dumps({"base": base, "team": "inbound"}),
    }
    values = team_values(
        "inbound",
        ["U0ALICE", "U0BOB", "U0CARA"],
        manager="U0MANAGER",
        channel="C0INBOUND",
        weights={"U0ALICE": weight},
    )
    return submit(app, modal, values)


def test_two_replicas_saving_the_same_team_never_both_win(
    fake_slack: FakeSlack, tmp_path: Path, postgres_db: str
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(ALWAYS_ON_CONFIG)
    apps = [
        AppProcess(
            db_url=postgres_db,
            config_path=config,
            slack_api_url=fake_slack.url,
            log_dir=tmp_path / n,
        )
        for n in ("a", "b")
    ]
    with apps[0], apps[1], ThreadPoolExecutor(max_workers=2) as pool:
        base = int(apps[0].post_lead({"email": "v@x.io"}).json()["decision"]["config_version"])
        for round_ in range(ROUNDS):
            # Both edits differ from the current team, so neither is a no-op.
            weights = (10 * round_ + 2, 10 * round_ + 3)
            acks = list(pool.map(save_weight, apps, (base, base), weights))
            outcomes = sorted(ack["response_action"] for ack in acks)
            assert outcomes == ["errors", "update"], (round_, acks)
            (refused,) = [ack for ack in acks if ack["response_action"] == "errors"]
            assert "changed by @U0ADMIN" in refused["errors"]["name"]
            (saved,) = [ack for ack in acks if ack["response_action"] == "update"]
            text = saved["view"]["blocks"][0]["text"]["text"]
            base = int(text.split("configuration version ")[1].split(".")[0])
