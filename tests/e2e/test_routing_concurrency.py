"""Issue 4: rotation lives in the database, so two replicas taking leads at once still
rotate as one would: no double turn, no skipped rep."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.app_process import AppProcess
from tests.support.fake_slack import FakeSlack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WEIGHTS = {"U0A": 3, "U0B": 2, "U0C": 1, "U0D": 1}
CONFIG = f"""
version: 1
reps: [{", ".join(f"{{user: {user}}}" for user in WEIGHTS)}]
teams:
  - name: inbound
    strategy: weighted
    members: [{", ".join(f"{{user: {u}, weight: {w}}}" for u, w in WEIGHTS.items())}]
rules: [{{name: all, then: {{team: inbound}}}}]
"""
LEADS = 500


def test_two_replicas_rotate_like_one(
    fake_slack: FakeSlack, tmp_path: Path, postgres_db: str
) -> None:
    config = tmp_path / "weights.yml"
    config.write_text(CONFIG)
    apps = [
        AppProcess(
            db_url=postgres_db,
            config_path=config,
            slack_api_url=fake_slack.url,
            log_dir=tmp_path / name,
        )
        for name in ("a", "b")
    ]
    with apps[0], apps[1], ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(
            pool.map(lambda i: apps[i % 2].post_lead({"email": f"c{i}@x.io"}), range(LEADS))
        )
    assert [r.status_code for r in responses] == [201] * LEADS
    counts = Counter(r.json()["owner"] for r in responses)
    total = sum(WEIGHTS.values())
    for user, weight in WEIGHTS.items():  # sequential quota rotation is exact to one lead
        assert abs(counts[user] - LEADS * weight / total) <= 1, counts
