"""The local workspace refuses what Slack refuses (strict by default, one rule relaxed by
name), and its network faults are the ones that matter: an answer lost after the post
landed, and a connection dropped before anything happened."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack import AppManifest, LocalSlack
from bot.localslack.payloads import block_action_body

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as workspace:
        yield workspace


def _client(slack: LocalSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])


async def _error(call: object) -> dict:
    with pytest.raises(SlackApiError) as refused:
        await call  # type: ignore[misc]
    return refused.value.response.data  # type: ignore[return-value]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_block_kit_limits_are_answered_with_their_path(slack: LocalSlack) -> None:
    client = _client(slack)
    too_many = await _error(client.chat_postMessage(channel="C0X", text="t", blocks=[SECTION] * 51))
    assert too_many["error"] == "invalid_blocks"
    assert "[json-pointer:/blocks]" in too_many["response_metadata"]["messages"][0]
    no_text = await _error(client.chat_postMessage(channel="C0X", blocks=[SECTION]))
    assert no_text["error"] == "invalid_arguments" and "/text" in no_text["errors"][0]
    title = {"type": "plain_text", "text": "a title longer than 24 chars"}
    modal = {"type": "modal", "title": title, "blocks": [SECTION]}
    bad_view = await _error(client.views_open(trigger_id="1.2.3", view=modal))
    assert bad_view["error"] == "invalid_arguments" and "/view" in bad_view["errors"][0]
    select = {"type": "static_select", "action_id": "pick", "options": []}
    empty = await _error(
        client.chat_postMessage(channel="C0X", text="t", blocks=[{**SECTION, "accessory": select}])
    )
    assert "/blocks/0/accessory/options" in empty["errors"][0]
    slack.relax("block_kit")
    assert (await client.chat_postMessage(channel="C0X", text="t", blocks=[SECTION] * 51))["ok"]


async def test_membership_join_and_scopes(slack: LocalSlack) -> None:
    client = _client(slack)
    assert (await client.chat_postMessage(channel="C0PUBLIC", text="hi"))["ok"]  # .public
    history = await _error(client.conversations_history(channel="C0PUBLIC"))
    assert history["error"] == "not_in_channel"
    assert (await _error(client.chat_postMessage(channel="G0SECRET", text="hi")))[
        "error"
    ] == "not_in_channel"
    joined = await client.conversations_join(channel="C0PUBLIC")
    assert joined["channel"]["is_member"] and "warning" not in joined.data
    assert len((await client.conversations_history(channel="C0PUBLIC"))["messages"]) == 1
    assert (await _error(client.conversations_join(channel="G0SECRET")))[
        "error"
    ] == "method_not_supported_for_channel_type"
    slack.invite("G0SECRET")
    assert (await client.chat_postMessage(channel="G0SECRET", text="hi"))["ok"]
    missing = await _error(client.conversations_info(channel="DU0ALICE"))  # im:read: not granted
    assert missing["error"] == "missing_scope" and missing["needed"] == "im:read"


async def test_a_manifest_without_the_public_scope_keeps_the_bot_out() -> None:
    manifest = AppManifest(frozenset({"chat:write"}), frozenset(), None)
    with LocalSlack(manifest=manifest) as slack:
        refused = await _error(_client(slack).chat_postMessage(channel="C0PUBLIC", text="hi"))
    assert refused["error"] == "not_in_channel"


async def test_external_selects_need_an_options_url(slack: LocalSlack) -> None:
    picker = {"type": "external_select", "action_id": "team"}
    home = {"type": "home", "blocks": [{**SECTION, "accessory": picker}]}
    client = _client(slack)
    assert (await client.views_publish(user_id="U0A", view=home))["ok"]  # the repo's has one
    bare = AppManifest(slack.manifest.bot_scopes, frozenset(), None)
    with LocalSlack(manifest=bare) as strict:
        refused = await _error(_client(strict).views_publish(user_id="U0A", view=home))
    assert "message_menu_options_url" in refused["errors"][0]


async def test_ephemerals_cannot_be_edited(slack: LocalSlack) -> None:
    client = _client(slack)
    shown = await client.chat_postEphemeral(channel="C0X", user="U0A", text="only you")
    refused = await _error(client.chat_update(channel="C0X", ts=shown["message_ts"], text="x"))
    assert refused["error"] == "message_not_found"


async def test_a_lost_answer_landed_and_a_drop_did_not(slack: LocalSlack) -> None:
    client = _client(slack)
    slack.lose_answer("chat.postMessage")
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel="C0X", text="landed")
    slack.drop("chat.postMessage")
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel="C0X", text="dropped")
    assert [m["text"] for m in slack.messages("C0X")] == ["landed"]
    assert [c.fault for c in slack.calls_to("chat.postMessage")] == [
        "answer_lost",
        "connection_reset",
    ]


def test_an_unknown_rule_name_is_refused(slack: LocalSlack) -> None:
    with pytest.raises(ValueError, match="no such rule"):
        slack.relax("membershp")


def test_a_home_click_never_carries_a_response_url() -> None:
    home = {"id": "VH1", "type": "home", "blocks": []}
    with pytest.raises(ValueError, match="App Home"):
        block_action_body("claim_lead", "1", view=home, response_url="http://x/resp")
    assert b"response_url" not in block_action_body("claim_lead", "1", view=home)
