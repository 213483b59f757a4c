"""Bulk intake end to end: `leadrouter import` of a large CSV of aged leads while `serve`
runs. The channel and the reps get a handful of digest posts, not thousands of cards, and
every lead is stored, routed and announced exactly once (counted at the fake)."""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.app_process import REPO_ROOT, AppProcess
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

ROWS = 10_000


def _announced(fake: FakeSlack) -> Counter[str]:
    """Leads announced per channel: a card counts one, a digest the number it states."""
    told: Counter[str] = Counter()
    for call in fake.delivered("chat.postMessage"):
        counted = re.match(r"([\d,]+) .* at once", call.params.get("text", ""))
        told[call.params["channel"]] += int(counted.group(1).replace(",", "")) if counted else 1
    return told


def test_importing_ten_thousand_aged_leads_posts_a_handful_of_digests(
    app: AppProcess, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = tmp_path / "aged.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "lead_type", "industry"])
        for row in range(ROWS):
            writer.writerow([f"aged{row}@x.io", "aged", "healthcare" if row % 2 else ""])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", str(path)],
        env=app.build_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{ROWS} leads stored" in " ".join(done.stdout.split())

    expected = {"C0HEALTH": ROWS // 2, "DU0ALICE": ROWS // 4, "DU0BOB": ROWS // 4}
    deadline = time.monotonic() + 90
    while _announced(fake_slack) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    fake_slack.settle(quiet=3.0, timeout=30)
    assert _announced(fake_slack) == expected
    posts = fake_slack.delivered("chat.postMessage")
    print(f"imported {ROWS} leads in {took:.1f}s; Slack saw {len(posts)} posts")
    # The first few cards may go out one by one before a burst is seen; a slow import
    # (over DIGEST.max_hold) makes a second digest per target.
    posted = [f"{call.params['channel']} {call.params['text'][:50]}" for call in posts]
    assert len(posts) <= 20, "\n".join(posted)

    database = sqlite3.connect(app.db_url.split("///", 1)[1])
    try:
        by_team = dict(database.execute("SELECT team, count(*) FROM leads GROUP BY team"))
        cards = dict(
            database.execute(
                "SELECT state, count(*) FROM outbox WHERE kind = 'lead_card' GROUP BY state"
            )
        )
    finally:
        database.close()
    assert by_team == {"healthcare": ROWS // 2, "inbound": ROWS // 2}
    assert sum(cards.values()) == ROWS and set(cards) <= {"sent", "digested"}


def test_a_batch_of_a_thousand_becomes_digests_not_a_thousand_cards(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    leads = [
        {"email": f"b{i}@x.io", "lead_type": "aged", "industry": "healthcare" if i % 2 else None}
        for i in range(1000)
    ]
    response = app.post_leads_batch(
        {"leads": [{k: v for k, v in lead.items() if v} for lead in leads]}
    )
    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["results"]] == [201] * 1000
    expected = {"C0HEALTH": 500, "DU0ALICE": 250, "DU0BOB": 250}
    deadline = time.monotonic() + 60
    while _announced(fake_slack) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    fake_slack.settle(quiet=3.0, timeout=30)
    assert _announced(fake_slack) == expected
    posts = fake_slack.delivered("chat.postMessage")
    print(f"a batch of 1,000: Slack saw {len(posts)} posts")
    assert len(posts) <= 20
