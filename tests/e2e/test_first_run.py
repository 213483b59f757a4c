"""A fresh install in Slack: the Home tab says Leadrouter is not set up, a workspace admin
sets it up from there with the New team modal, and leads start reaching people.

Why: a new install used to store leads and route them to nobody without a word; the
first person to open the app in Slack must see what to do, and the one who can do it
must be able to without a configuration file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.localslack import LocalSlack, Person
from bot.localslack.payloads import multi_users_select, static_select, text_input
from harness.app_process import AppProcess

pytestmark = pytest.mark.e2e


def _person(slack: LocalSlack, app: AppProcess, user: str) -> Person:
    return slack.person(user, f"{app.base_url}/slack/events", app.signing_secret)


def _home(slack: LocalSlack, person: Person) -> dict[str, Any]:
    published = len(slack.calls_to("views.publish"))
    assert person.open_home().status == 200
    slack.wait_for("views.publish", count=published + 1)
    home = slack.home_view(person.user_id)
    assert home is not None
    return home


def _text(view: dict[str, Any]) -> str:
    return str(view["blocks"])


def test_an_admin_sets_up_leadrouter_from_the_home_tab(
    start_app: Any, fake_slack: LocalSlack, tmp_path: Path
) -> None:
    app = start_app(db_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    fake_slack.add_user("U0OWNER", is_admin=True)
    owner, erin = _person(fake_slack, app, "U0OWNER"), _person(fake_slack, app, "U0ERIN")

    seen_by_erin = _home(fake_slack, erin)
    assert "Leadrouter is not set up yet" in _text(seen_by_erin)
    assert "setup_leadrouter" not in _text(seen_by_erin)

    home = _home(fake_slack, owner)
    assert owner.click("setup_leadrouter", view=home).status == 200
    fake_slack.wait_for("views.open")
    (modal,) = fake_slack.modals("U0OWNER")
    assert modal["callback_id"] == "admin_team"
    values = {
        "name": {"name": text_input("sales")},
        "method": {"method": static_select("push")},
        "strategy": {"strategy": static_select("round_robin")},
        "members": {"members": multi_users_select(["U0ERIN"])},
    }
    saved = owner.submit(modal, values).json()
    assert saved["response_action"] == "update", saved

    assert "Leadrouter is not set up yet" not in _text(_home(fake_slack, owner))
    assert app.post_lead({"email": "first@lead.io"}).json()["owner"] == "U0ERIN"
