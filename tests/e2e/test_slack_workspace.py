"""The app in a workspace as a real install finds it: team names with spaces, a public
team channel the bot was never invited to, a private one that needs ``/invite``,
80-character names, no configuration yet, lost answers, and people who click in the Home
tab. Each test failed against the lenient fake and today's main (see docs/slack-workspace.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.localslack import LocalSlack, Person, payloads
from harness.app_process import AppProcess

pytestmark = pytest.mark.e2e

LONG = "North America Enterprise Accounts and Strategic Partnerships, Tier One (East)"
CONFIG = f"""
version: 1
admins: [U0ADMIN]
reps:
  - {{user: U0ANA}}
  - {{user: U0BEN}}
teams:
  - name: North America
    channel: C0NA
    method: pull
    manager: U0BOSS
    members: [{{user: U0ANA}}, {{user: U0BEN}}]
  - name: Secret Squad
    channel: G0SECRET
    method: pull
    manager: U0BOSS
    members: [{{user: U0ANA}}]
  - name: "{LONG}"
    method: push
    manager: U0BOSS
    members: [{{user: U0ANA}}]
rules:
  - {{name: secret, when: {{industry: secret}}, then: {{team: Secret Squad}}}}
  - {{name: big, when: {{industry: big}}, then: {{team: "{LONG}"}}}}
  - {{name: everyone, then: {{team: North America}}}}
"""


def _start(slack: LocalSlack, tmp_path: Path, config: str | None) -> AppProcess:
    path = None
    if config is not None:
        path = tmp_path / "config.yml"
        path.write_text(config)
    return AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=path,
        slack_api_url=slack.url,
        log_dir=tmp_path / "app",
    )


@pytest.fixture
def app(fake_slack: LocalSlack, tmp_path: Path) -> Iterator[AppProcess]:
    fake_slack.invite("G0SECRET")  # the start-up check refuses a private channel without it
    with _start(fake_slack, tmp_path, CONFIG) as process:
        yield process


def _person(slack: LocalSlack, app: AppProcess, user: str) -> Person:
    return slack.person(user, f"{app.base_url}/slack/events", app.signing_secret)


def _in(channel: str) -> Any:
    return lambda call: call.params.get("channel") == channel


def _card_posted(slack: LocalSlack, channel: str) -> dict[str, Any]:
    slack.wait_for("chat.postMessage", predicate=_in(channel), timeout=20)
    return slack.messages(channel)[-1]


def _eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_bot_joins_public_team_channels_and_asks_to_be_invited_to_private_ones(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    """Public team channels are joined at start; a team saved with a private channel the
    bot is not in says so in the modal and in a DM to the admins."""
    fake_slack.wait_for("conversations.join", predicate=_in("C0NA"), timeout=20)
    admin = _person(fake_slack, app, "U0ADMIN")
    admin.command("/leadrouter")
    fake_slack.wait_for("views.open", timeout=20)
    (menu,) = fake_slack.modals("U0ADMIN")
    admin.click("admin_new_team", view=menu)
    fake_slack.wait_for("views.push", timeout=20)
    form = fake_slack.modals("U0ADMIN")[-1]
    values = {
        "name": {"name": payloads.text_input("Hidden Team")},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "G0NEW"}},
        "method": {"method": payloads.static_select("pull")},
        "members": {"members": payloads.multi_users_select(["U0ANA"])},
    }
    saved = admin.submit(form, values).json()
    assert saved["response_action"] == "update" and "/invite" in json.dumps(saved["view"])
    asked = fake_slack.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.params["channel"] == "DU0ADMIN" and "/invite" in c.params["text"],
        timeout=20,
    )
    assert "Hidden Team" in asked[0].params["text"]


def test_a_lost_answer_posts_the_card_once(app: AppProcess, fake_slack: LocalSlack) -> None:
    fake_slack.lose_answer("chat.postMessage", when=lambda p: p.get("channel") == "C0NA")
    assert app.post_lead({"email": "once@example.com"}).status_code == 201
    fake_slack.wait_for("chat.postMessage", predicate=_in("C0NA"), timeout=20)
    fake_slack.wait_for("conversations.history", predicate=_in("C0NA"), timeout=20)
    fake_slack.settle(quiet=3.0, timeout=30)
    assert len(fake_slack.messages("C0NA")) == 1


def test_an_unreadable_history_never_fails_the_delivery(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    """Two dropped posts, then the look-up is refused: the card still goes out, the lead
    stays in the pool and nobody is alerted."""
    fake_slack.fail("conversations.history", "not_in_channel", status=200, times=None)
    fake_slack.drop("chat.postMessage", times=2, when=lambda p: p.get("channel") == "C0NA")
    lead = app.post_lead({"email": "unreadable@example.com"}).json()
    _card_posted(fake_slack, "C0NA")
    fake_slack.settle(quiet=2.0, timeout=30)
    assert len(fake_slack.messages("C0NA")) == 1
    assert app.get_lead(lead["id"]).json()["status"] == "queued"
    assert not fake_slack.dms("U0BOSS")


@pytest.mark.parametrize(
    "argument", ["team North America", "TEAM  north america", "Team <#C0NA|north-america>"]
)
def test_leads_and_leadstats_read_names_with_spaces_and_channel_links(
    app: AppProcess, fake_slack: LocalSlack, argument: str
) -> None:
    app.post_lead({"email": "pool@example.com", "company": "Spacious Inc"})
    _card_posted(fake_slack, "C0NA")
    ana = _person(fake_slack, app, "U0ANA")
    ana.command("/leads", argument)
    ana.command("/leadstats", argument)
    fake_slack.wait_for("response_url", count=2, timeout=20)
    pool, stats = fake_slack.ephemerals(user="U0ANA")
    assert "Spacious Inc" in json.dumps(pool), pool
    assert "understand" not in json.dumps(stats) and "North America" in json.dumps(stats)


def test_a_fresh_install_opens_the_admin_menu_and_add_rule(
    fake_slack: LocalSlack, tmp_path: Path
) -> None:
    fake_slack.add_user("U0OWNER", is_admin=True)
    with _start(fake_slack, tmp_path, None) as app:
        owner = _person(fake_slack, app, "U0OWNER")
        owner.command("/leadrouter")
        fake_slack.wait_for("views.open", timeout=20)
        (menu,) = fake_slack.modals("U0OWNER")
        owner.click("admin_rules", view=menu)
        fake_slack.wait_for("views.push", timeout=20)
        rules = fake_slack.modals("U0OWNER")[-1]
        owner.click("admin_add_rule", view=rules)
        fake_slack.wait_for("views.push", count=2, timeout=20)
    assert not fake_slack.failures("views.push") and not fake_slack.failures("views.open")


def test_the_admin_menu_opens_with_the_longest_team_names(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    _person(fake_slack, app, "U0ADMIN").command("/leadrouter")
    fake_slack.wait_for("views.open", timeout=20, failed=None)
    assert not fake_slack.failures("views.open")
    (menu,) = fake_slack.modals("U0ADMIN")
    options = [o for b in menu["blocks"] for o in (b.get("accessory") or {}).get("options", [])]
    assert LONG in {o["value"] for o in options}  # the value is exact; the label fits


def test_home_tab_buttons_answer_and_the_home_is_republished(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    lead = app.post_lead({"email": "home@example.com", "industry": "big", "company": "Homey"})
    fake_slack.wait_for("chat.postMessage", predicate=_in("DU0ANA"), timeout=20)
    ana = _person(fake_slack, app, "U0ANA")
    ana.open_home()
    fake_slack.wait_for("views.publish", timeout=20)
    home = fake_slack.home_view("U0ANA")
    assert home is not None and "Homey" in json.dumps(home)
    ana.click("mark_contacted", view=home)
    fake_slack.wait_for("views.publish", count=2, timeout=20)
    assert app.get_lead(lead.json()["id"]).json()["status"] == "contacted"
    ana.click("mark_contacted", view=home)  # the old Home's button, again: a refusal
    told = _eventually(lambda: len(fake_slack.dms("U0ANA")) >= 2)
    assert told, "a refusal from the Home tab reaches the person (no response_url there)"


def test_the_home_tab_follows_changes_to_the_viewers_leads(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    ana = _person(fake_slack, app, "U0ANA")
    ana.open_home()
    fake_slack.wait_for("views.publish", timeout=20)
    app.post_lead({"email": "new@example.com", "industry": "big", "company": "Fresh Co"})
    fake_slack.wait_for("views.publish", count=2, timeout=20)
    assert "Fresh Co" in json.dumps(fake_slack.home_view("U0ANA"))


def test_a_leads_list_refreshes_after_a_claim_from_it(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    app.post_lead({"email": "listed@example.com", "company": "Listed Ltd"})
    _card_posted(fake_slack, "C0NA")
    ben = _person(fake_slack, app, "U0BEN")
    ben.command("/leads", "team North America")
    fake_slack.wait_for("response_url", timeout=20)
    (listing,) = fake_slack.ephemerals(user="U0BEN")
    assert "Listed Ltd" in json.dumps(listing)
    ben.click("claim_lead", message=listing)
    refreshed = _eventually(
        lambda: [e for e in fake_slack.ephemerals(user="U0BEN") if "Listed Ltd" not in str(e)]
    )
    assert refreshed, fake_slack.ephemerals(user="U0BEN")


def _many_teams_config(count: int) -> str:
    """``count`` pull teams with 80-character names sharing one channel, one rule each."""
    names = [f"{index:02d} {LONG}"[:80] for index in range(count)]
    teams = "\n".join(
        f'  - {{name: "{name}", channel: C0ALL, method: pull, members: [{{user: U0ANA}}]}}'
        for name in names
    )
    rules = "\n".join(
        f'  - {{name: r{index}, when: {{source: s{index}}}, then: {{team: "{name}"}}}}'
        for index, name in enumerate(names)
    )
    head = "version: 1\nadmins: [U0ADMIN]\nreps: [{user: U0ANA}]"
    rest = f'  - {{name: rest, then: {{team: "{names[0]}"}}}}'
    return f"{head}\nteams:\n{teams}\nrules:\n{rules}\n{rest}\n"


def test_a_burst_digest_for_many_long_named_teams_stays_one_valid_post(
    fake_slack: LocalSlack, tmp_path: Path
) -> None:
    with _start(fake_slack, tmp_path, _many_teams_config(40)) as app:
        leads = [{"email": f"burst{i}@example.com", "source": f"s{i}"} for i in range(40)]
        assert app.post_leads_batch({"leads": leads}).status_code in (200, 201, 207)
        fake_slack.wait_for("chat.postMessage", predicate=_in("C0ALL"), timeout=30)
        fake_slack.settle(quiet=2.0, timeout=30)
    # The batch's leads commit in a few group transactions: a first card or two may be
    # posted alone before the rest are pending, and the rest fold into the digest.
    sent = fake_slack.calls_to("chat.postMessage", failed=False)
    posts = [call.params["text"] for call in sent if _in("C0ALL")(call)]
    digests = [text for text in posts if "mql leads" in text]
    assert len(digests) == 1 and "more teams" in digests[0]
    folded = int(digests[0].split(" mql leads")[0].replace(",", ""))
    assert folded + len(posts) - 1 == 40  # every lead announced once: alone or folded
    assert not fake_slack.failures("chat.postMessage")
