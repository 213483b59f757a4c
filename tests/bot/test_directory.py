"""Email-only reps get their Slack id at load time, and every reference follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.directory import needs_resolution, resolve_emails
from domain.config import load_config
from domain.errors import InvalidInput
from tests.support.fake_slack import FakeSlack

CONFIG = """
version: 1
reps:
  - {user: U0ALICE}
  - {email: u0zed@example.com}
teams:
  - {name: t, members: [{user: U0ALICE}, {user: "email:u0zed@example.com"}]}
accounts:
  - {domain: acme.com, owner: u0zed@example.com}
rules: [{name: all, then: {team: t}}]
"""


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)


async def test_emails_become_ids_everywhere(client: AsyncWebClient) -> None:
    config = await resolve_emails(load_config(CONFIG), client)
    assert [rep.user for rep in config.reps] == ["U0ALICE", "U0ZED"]
    assert [member.user for member in config.team("t").members] == ["U0ALICE", "U0ZED"]
    assert config.accounts[0].owner == "U0ZED"


async def test_unknown_emails_are_refused_with_their_path(client: AsyncWebClient) -> None:
    unknown = CONFIG.replace("u0zed@example.com", "nobody@nowhere.example")
    with pytest.raises(InvalidInput) as caught:
        await resolve_emails(load_config(unknown), client)
    assert [str(error) for error in caught.value.errors] == [
        "reps[1].email: no Slack user has this email"
    ]


async def test_nothing_to_resolve_asks_slack_nothing(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    config = load_config(
        "version: 1\nreps: [{user: U0ALICE}]\n"
        "teams: [{name: t, members: [{user: U0ALICE}]}]\n"
        "rules: [{name: all, then: {team: t}}]\n"
    )
    assert await resolve_emails(config, client) is config
    assert fake_slack.calls == []


async def test_email_references_to_known_reps_become_ids_without_asking_slack(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    text = CONFIG.replace("{email: u0zed@example.com}", "{user: U0ZED, email: u0zed@example.com}")
    config = await resolve_emails(load_config(text), client)
    assert [member.user for member in config.team("t").members] == ["U0ALICE", "U0ZED"]
    assert fake_slack.calls == []


NAMED = """
version: 1
admins: [ops@example.com]
reps:
  - {email: u0zed@example.com}
  - {user: U0ALICE, email: alice@example.com}
teams:
  - {name: t, channel: "#sales-leads", method: pull, manager: alice@example.com,
     backup: u0zed@example.com, members: [{user: u0zed@example.com}, {user: U0ALICE}]}
rules: [{name: all, then: {team: t}}]
"""


async def test_admins_managers_backups_and_channels_are_looked_up(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0OPS", email="ops@example.com")
    fake_slack.add_channel("C0SALES", "sales-leads")
    config = await resolve_emails(load_config(NAMED), client)
    team = config.team("t")
    assert config.admins == ["U0OPS"]
    assert (team.channel, team.manager, team.backup) == ("C0SALES", "U0ALICE", "U0ZED")
    assert [member.user for member in team.members] == ["U0ZED", "U0ALICE"]
    assert not needs_resolution(config)


async def test_a_channel_the_bot_cannot_see_is_refused_with_its_path(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0OPS", email="ops@example.com")
    fake_slack.add_channel("G0SECRET", "sales-leads", private=True)  # the bot is not in it
    with pytest.raises(InvalidInput) as caught:
        await resolve_emails(load_config(NAMED), client)
    assert [str(error) for error in caught.value.errors] == [
        "teams[0].channel: no channel #sales-leads that the bot can see (a private channel "
        "needs /invite @Leadrouter first)"
    ]


async def test_the_shipped_example_loads_once_its_people_and_channels_exist(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    example = load_config((Path(__file__).parents[2] / "examples" / "config.yml").read_text())
    emails = {rep.email for rep in example.reps} | set(example.admins)
    for number, email in enumerate(sorted(str(e) for e in emails)):
        fake_slack.add_user(f"U0P{number}", email=email)
    for team in example.teams:
        fake_slack.add_channel(f"C0{team.name.upper()}", str(team.channel).lstrip("#"))
    loaded = await resolve_emails(example, client)
    assert not needs_resolution(loaded)
    assert [team.channel for team in loaded.teams] == [
        "C0ENTERPRISE",
        "C0NORTHEAST",
        "C0HEALTHCARE",
        "C0SDR",
    ]
