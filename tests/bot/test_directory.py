"""Email-only reps get their Slack id at load time, and every reference follows."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.directory import resolve_emails
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
