"""Issue 7's weekly digest end to end: the manager's DM with the figures and the chart,
sent once for the week even when the app restarts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.app_process import AppProcess
from tests.e2e.conftest import ALWAYS_ON_CONFIG
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e
MANAGER_TZ = "Asia/Tokyo"


@pytest.fixture
def digest_app(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[AppProcess]:
    """The inbound team's digest is due from 00:00 today in the manager's timezone."""
    today = datetime.now(ZoneInfo(MANAGER_TZ)).strftime("%a").lower()
    config = ALWAYS_ON_CONFIG.replace(
        "    manager: U0MANAGER\n",
        f"    manager: U0MANAGER\n    digest: {{day: {today}, hour: 0}}\n",
    )
    path = tmp_path / "digest.yml"
    path.write_text(config)
    fake_slack.add_user("U0MANAGER", tz=MANAGER_TZ)
    with AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=path,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    ) as process:
        yield process


def test_the_manager_gets_the_weekly_digest_and_its_chart_once(
    digest_app: AppProcess, fake_slack: FakeSlack
) -> None:
    (post,) = fake_slack.wait_for(
        "chat.postMessage", predicate=lambda c: c.params.get("text", "").startswith("Weekly")
    )
    assert post.params["text"] == "Weekly lead digest — inbound"
    blocks = json.dumps(post.params["blocks"])
    assert "Against the previous week" in blocks and "Contacted within SLA" in blocks
    (upload,) = fake_slack.wait_for("file_upload")
    assert upload.params["size"] > 1000  # a real PNG, not an empty body
    (shared,) = fake_slack.wait_for("files.completeUploadExternal")
    assert shared.params["channel_id"] == post.params["channel"]  # the manager's DM
    asked = len(fake_slack.calls_to("users.info"))

    digest_app.restart()  # the new process checks again at once: asking Slack for the tz
    fake_slack.wait_for("users.info", count=asked + 1)
    fake_slack.settle(quiet=1.0)
    digests = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("text", "").startswith("Weekly")
    ]
    assert len(digests) == 1 and len(fake_slack.calls_to("files.completeUploadExternal")) == 1
