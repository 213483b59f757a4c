"""End-to-end fixtures: the real `leadrouter serve` with the example configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.app_process import REPO_ROOT, AppProcess
from tests.support.fake_slack import FakeSlack

EXAMPLE_CONFIG = REPO_ROOT / "examples" / "config.yml"
ALWAYS_ON_CONFIG = """
version: 1
admins: [U0ADMIN]
reps:
  - {user: U0ALICE, email: alice@example.com}
  - {user: U0BOB, email: bob@example.com}
  - {user: U0CARA, email: cara@example.com, pto: [{from: 2000-01-01, to: 2999-12-31}]}
  - {user: U0DAN, email: dan@example.com}
teams:
  - name: inbound
    channel: C0INBOUND
    method: push
    manager: U0MANAGER
    members: [{user: U0ALICE}, {user: U0BOB}, {user: U0CARA}]
  - name: healthcare
    channel: C0HEALTH
    method: pull
    members: [{user: U0DAN}, {user: U0BOB}]
rules:
  - name: healthcare
    when: {industry: healthcare}
    then: {team: healthcare}
  - name: everyone else
    then: {team: inbound}
"""


@pytest.fixture
def always_on_config(tmp_path: Path) -> Path:
    """Reps with no working hours (always on shift), one on PTO forever."""
    path = tmp_path / "config.yml"
    path.write_text(ALWAYS_ON_CONFIG)
    return path


@pytest.fixture
def app(fake_slack: FakeSlack, always_on_config: Path, tmp_path: Path) -> Iterator[AppProcess]:
    process = AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=always_on_config,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    )
    with process:
        yield process
