"""The test doubles are only worth something if the real clients accept them.

These tests drive :mod:`tests.support.fake_slack` with slack_sdk's own ``AsyncWebClient``
and feed :mod:`harness.slack_signing` bodies to slack_sdk's ``SignatureVerifier`` and
to a real Bolt ``AsyncApp``, so a mismatch with Slack's shapes shows up here first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from harness import slack_signing as ss
from tests.support.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, SlackWaitTimeout

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def client(fake: FakeSlack, **kwargs: object) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.url, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- Web API shapes


async def test_post_update_and_open_with_the_real_client(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New lead*"}}]

    auth = await web.auth_test()
    assert auth["user_id"] == BOT_USER_ID and auth["team_id"] == TEAM_ID and auth["bot_id"]

    first = await web.chat_postMessage(channel="C0SALES", text="New lead", blocks=blocks)
    second = await web.chat_postMessage(channel="C0SALES", text="Another")
    assert first["ok"] and first["channel"] == "C0SALES"
    assert float(second["ts"]) > float(first["ts"])  # unique and increasing
    assert first["message"]["blocks"] == blocks

    updated = await web.chat_update(channel="C0SALES", ts=first["ts"], text="Claimed by Alice")
    assert updated["ts"] == first["ts"] and updated["text"] == "Claimed by Alice"
    assert fake_slack.message("C0SALES", first["ts"])["text"] == "Claimed by Alice"  # type: ignore[index]
    assert [m["text"] for m in fake_slack.messages("C0SALES")] == ["Claimed by Alice", "Another"]

    dm = await web.conversations_open(users="U0ALICE")
    assert dm["channel"]["id"] == "DU0ALICE"
    eph = await web.chat_postEphemeral(channel="C0SALES", user="U0BOB", text="Already claimed")
    assert eph["message_ts"]

    (post,) = fake_slack.wait_for(
        "chat.postMessage", predicate=lambda c: c.params["text"] == "Another"
    )
    assert post.token == "xoxb-test" and post.headers["authorization"] == "Bearer xoxb-test"
    assert post.params == {"channel": "C0SALES", "text": "Another"}
    assert [c.method for c in fake_slack.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "conversations.open",
        "chat.postEphemeral",
    ]


async def test_posting_to_a_user_id_lands_in_the_dm(fake_slack: FakeSlack) -> None:
    resp = await client(fake_slack).chat_postMessage(channel="U0ALICE", text="yours")
    assert resp["channel"] == "DU0ALICE"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_slack_validation_errors(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C1")  # no text, blocks nor attachments
    assert err.value.response["error"] == "no_text"
    assert fake_slack.delivered("chat.postMessage") == []
    assert fake_slack.failures()[0].error == "no_text"


async def test_users_views_and_files(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    fake_slack.add_user("U0ALICE", email="alice@example.com", tz="Europe/Berlin")

    info = await web.users_info(user="U0ALICE")
    assert info["user"]["profile"]["email"] == "alice@example.com"
    assert info["user"]["tz"] == "Europe/Berlin" and info["user"]["tz_offset"] in (3600, 7200)
    other = await web.users_info(user="U0BOB")
    assert other["user"]["tz"] == "America/New_York"
    assert other["user"]["profile"]["email"] == "u0bob@example.com"

    found = await web.users_lookupByEmail(email="alice@example.com")
    assert found["user"]["id"] == "U0ALICE"
    assert (await web.users_lookupByEmail(email="u0bob@example.com"))["user"]["id"] == "U0BOB"
    with pytest.raises(SlackApiError) as err:
        await web.users_lookupByEmail(email="nobody@elsewhere.org")
    assert err.value.response["error"] == "users_not_found"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "q"}}],
    }
    published = await web.views_publish(user_id="U0ALICE", view=home)
    again = await web.views_publish(user_id="U0ALICE", view=home)
    assert published["view"]["id"] == again["view"]["id"] and published["view"]["type"] == "home"
    assert fake_slack.home_view("U0ALICE")["blocks"] == home["blocks"]  # type: ignore[index]

    modal = {"type": "modal", "callback_id": "admin", "title": {"type": "plain_text", "text": "A"}}
    opened = await web.views_open(trigger_id="1.2.3", view=modal)
    view_id = opened["view"]["id"]
    updated = await web.views_update(view_id=view_id, view={**modal, "private_metadata": "x"})
    assert updated["view"]["id"] == view_id and updated["view"]["private_metadata"] == "x"

    upload = await web.files_upload_v2(filename="stats.csv", content="a,b\n1,2\n", channel="C1")
    assert upload["ok"] and upload["file"]["id"]
    assert fake_slack.delivered("file_upload")[0].body == b"a,b\n1,2\n"


async def test_form_posts_decode_json_fields(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "divider"}]
    await client(fake_slack).api_call(
        "chat.postMessage", data={"channel": "C1", "text": "t", "blocks": json.dumps(blocks)}
    )
    (call,) = fake_slack.delivered("chat.postMessage")
    assert call.params["blocks"] == blocks
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")


async def test_missing_or_wrong_token_is_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=fake_slack.url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_authed"

    with FakeSlack(token="xoxb-right") as strict:
        with pytest.raises(SlackApiError) as err:
            await client(strict).auth_test()
        assert err.value.response["error"] == "invalid_auth"
        assert strict.failures("auth.test")[0].failed


# ---------------------------------------------------------------------- faults


async def test_429_surfaces_status_and_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=7, times=2)
    web = client(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await web.chat_postMessage(channel="C1", text="x")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "7"
        assert err.value.response["error"] == "ratelimited"
    ok = await web.chat_postMessage(channel="C1", text="x")
    assert ok["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert [c.fault for c in fake_slack.failures("chat.postMessage")] == ["ratelimited"] * 2


async def test_ok_false_and_server_errors(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    fake_slack.fail("chat.postMessage", "channel_not_found", status=200)
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C404", text="x")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "channel_not_found"

    fake_slack.fail("chat.update", status=500, times=1)
    with pytest.raises(SlackApiError) as err:
        await web.chat_update(channel="C1", ts="1.1", text="x")
    assert err.value.response.status_code == 500
    assert (await web.chat_update(channel="C1", ts="1.1", text="x"))["ok"]

    assert [(c.method, c.failed, c.fault) for c in fake_slack.calls] == [
        ("chat.postMessage", True, "error:channel_not_found"),
        ("chat.update", True, "http_500"),
        ("chat.update", False, None),
    ]


async def test_faults_aimed_by_params_and_forever(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    fake_slack.fail("*", status=503, times=None, when=lambda p: p.get("channel") == "CBAD")
    for _ in range(3):
        with pytest.raises(SlackApiError):
            await web.chat_postMessage(channel="CBAD", text="x")
    assert (await web.chat_postMessage(channel="CGOOD", text="x"))["ok"]
    fake_slack.clear_faults()
    assert (await web.chat_postMessage(channel="CBAD", text="x"))["ok"]
    assert len(fake_slack.delivered("chat.postMessage")) == 2


async def test_hang_makes_the_client_time_out(fake_slack: FakeSlack) -> None:
    fake_slack.hang("chat.postMessage", seconds=5)
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await client(fake_slack, timeout=1).chat_postMessage(channel="C1", text="x")
    assert time.monotonic() - started < 4
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.failed and call.fault == "timeout"
    assert (await client(fake_slack).chat_postMessage(channel="C1", text="x"))["ok"]


async def test_delay_is_slow_but_delivered(fake_slack: FakeSlack) -> None:
    fake_slack.delay("chat.postMessage", 0.4, times=1)
    started = time.monotonic()
    await client(fake_slack).chat_postMessage(channel="C1", text="x")
    assert time.monotonic() - started >= 0.4
    assert len(fake_slack.delivered("chat.postMessage")) == 1


async def test_chaos_is_repeatable_and_mixed(fake_slack: FakeSlack) -> None:
    async def run(seed: int) -> list[str | None]:
        fake_slack.reset()
        fake_slack.chaos(rate=0.5, seed=seed, timeout_seconds=0.05)
        web = client(fake_slack, timeout=5)
        for i in range(40):
            with contextlib.suppress(SlackApiError):
                await web.chat_postMessage(channel="C1", text=str(i))
        return [c.fault for c in fake_slack.calls_to("chat.postMessage")]

    first, second = await run(3), await run(3)
    assert first == second
    kinds = {f.split(":")[-1] for f in first if f}
    assert kinds == {"ratelimited", "http_500", "timeout"}
    assert 8 <= sum(f is None for f in first) <= 32

    fake_slack.chaos(0)
    assert (await client(fake_slack).chat_postMessage(channel="C1", text="x"))["ok"]
    assert (await client(fake_slack).auth_test())["ok"]


async def test_channel_budget(fake_slack: FakeSlack) -> None:
    fake_slack.limit_channel_rate(per_second=1.0, burst=1)
    web = client(fake_slack)
    await web.chat_postMessage(channel="C1", text="a")
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C1", text="b")
    assert err.value.response.status_code == 429
    assert int(err.value.response.headers["Retry-After"]) >= 1
    await web.chat_postMessage(channel="C2", text="other channel is fine")


# ---------------------------------------------------------------------- waiting


def test_wait_for_blocks_until_calls_arrive_from_another_thread(fake_slack: FakeSlack) -> None:
    async def later() -> None:
        await asyncio.sleep(0.3)
        web = client(fake_slack)
        fake_slack.fail("chat.postMessage", status=429)
        for text in ("a", "b", "c"):
            with contextlib.suppress(SlackApiError):
                await web.chat_postMessage(channel="C1", text=text)

    thread = threading.Thread(target=asyncio.run, args=(later(),))
    thread.start()
    try:
        calls = fake_slack.wait_for("chat.postMessage", count=2, timeout=10)
        assert [c.params["text"] for c in calls] == ["b", "c"]  # the 429 on "a" not counted
        assert len(fake_slack.wait_for("chat.postMessage", failed=None, count=3)) == 3
    finally:
        thread.join()


def test_wait_for_times_out_with_the_calls_seen(fake_slack: FakeSlack) -> None:
    asyncio.run(client(fake_slack).chat_postMessage(channel="C1", text="hello"))
    with pytest.raises(SlackWaitTimeout) as err:
        fake_slack.wait_for("chat.update", timeout=0.3)
    message = str(err.value)
    assert "chat.update" in message and "chat.postMessage ok" in message and "C1" in message


async def test_wait_for_async_and_settle(fake_slack: FakeSlack) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        await client(fake_slack).chat_postMessage(channel="C1", text="x")

    task = asyncio.create_task(later())
    (call,) = await fake_slack.wait_for_async("chat.postMessage", timeout=5)
    await task
    assert call.params["channel"] == "C1"
    assert len(fake_slack.settle(quiet=0.1)) == 1


async def test_reset_forgets_everything(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    first = await web.chat_postMessage(channel="C1", text="x")
    fake_slack.fail("chat.postMessage", times=None)
    fake_slack.reset()
    assert fake_slack.calls == [] and fake_slack.messages() == []
    second = await web.chat_postMessage(channel="C1", text="y")
    assert float(second["ts"]) > float(first["ts"])


async def test_response_url_endpoint(fake_slack: FakeSlack) -> None:
    hook = AsyncWebhookClient(fake_slack.response_url("abc123"))
    resp = await hook.send(text="Claimed!", response_type="ephemeral", replace_original=False)
    assert resp.status_code == 200 and resp.body == "ok"
    (call,) = fake_slack.wait_for("response_url")
    assert call.target == "abc123" and call.params["text"] == "Claimed!"

    fake_slack.fail("response_url", status=500)
    assert (await hook.send(text="again")).status_code == 500
    assert len(fake_slack.delivered("response_url")) == 1


def test_reachable_from_another_process(fake_slack: FakeSlack) -> None:
    code = (
        "import json, sys, urllib.request as u\n"
        "req = u.Request(sys.argv[1] + 'chat.postMessage', method='POST',"
        " data=json.dumps({'channel': 'C9', 'text': 'from child'}).encode(),"
        " headers={'Authorization': 'Bearer xoxb-child', 'Content-Type': 'application/json'})\n"
        "print(json.load(u.urlopen(req, timeout=10))['ts'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, fake_slack.url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    (call,) = fake_slack.wait_for("chat.postMessage")
    assert call.params["text"] == "from child" and call.token == "xoxb-child"
    assert out.stdout.strip() == call.response["ts"]  # type: ignore[index]


# ---------------------------------------------------------------------- signing and bodies


def test_signatures_verify_with_slack_sdk() -> None:
    verifier = SignatureVerifier(SECRET)
    now = int(time.time())
    bodies = [
        ss.block_action_body("claim_lead", "42", "U0ALICE"),
        ss.slash_command_body("/leads", "", "U0ALICE", "C1"),
        ss.view_submission_body("admin", {"b": {"a": ss.text_input("x")}}, "U0ADMIN"),
        ss.event_body(ss.app_home_opened_event("U0ALICE")),
        ss.url_verification_body("challenge-me"),
    ]
    for body in bodies:
        assert verifier.is_valid_request(body, ss.sign(SECRET, body, now))
        assert verifier.is_valid_request(body, ss.signed_headers(SECRET, body))
        assert not verifier.is_valid_request(body, ss.sign("another-secret", body, now))
        assert not verifier.is_valid_request(body + b"x", ss.sign(SECRET, body, now))
        assert not verifier.is_valid_request(body, ss.sign(SECRET, body, now - 6 * 60))
    # The known answer from Slack's documentation of the scheme.
    assert ss.signature(SECRET, b"a=b", 1531420618) == (
        "v0=" + __import__("hmac").new(SECRET.encode(), b"v0:1531420618:a=b", "sha256").hexdigest()
    )


def test_body_shapes() -> None:
    action = json.loads(
        parse_qs(
            ss.block_action_body(
                "claim_lead",
                "42",
                "U0ALICE",
                channel_id="C0SALES",
                message_ts="1700000000.000100",
                response_url="http://x/r",
                trigger_id="t1",
            ).decode()
        )["payload"][0]
    )
    assert action["type"] == "block_actions"
    assert action["user"]["id"] == "U0ALICE" and action["user"]["team_id"] == TEAM_ID
    assert action["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0SALES",
        "is_ephemeral": False,
    }
    assert action["channel"]["id"] == "C0SALES" and action["message"]["ts"] == "1700000000.000100"
    assert action["response_url"] == "http://x/r" and action["trigger_id"] == "t1"
    (act,) = action["actions"]
    assert (act["action_id"], act["value"], act["type"]) == ("claim_lead", "42", "button")
    assert act["block_id"] and act["action_ts"]

    home_click = json.loads(
        parse_qs(
            ss.block_action_body(
                "claim_lead", "7", "U1", view={"id": "V1", "type": "home"}
            ).decode()
        )["payload"][0]
    )
    assert home_click["container"] == {"type": "view", "view_id": "V1"}
    assert "channel" not in home_click and home_click["view"]["type"] == "home"

    command = {
        k: v[0]
        for k, v in parse_qs(
            ss.slash_command_body(
                "/leadstats", "team sdr 30d", "U1", "C1", "http://x/r", "t"
            ).decode()
        ).items()
    }
    assert command["command"] == "/leadstats" and command["text"] == "team sdr 30d"
    assert command["user_id"] == "U1" and command["channel_id"] == "C1"
    assert command["response_url"] == "http://x/r" and command["trigger_id"] == "t"
    assert command["team_id"] == TEAM_ID and command["api_app_id"]

    submission = json.loads(
        parse_qs(
            ss.view_submission_body(
                "admin_modal",
                {"cap": {"capacity": ss.number_input(40)}, "who": {"u": ss.users_select("U2")}},
                "U0ADMIN",
                private_metadata='{"team": "sdr"}',
                view_id="V9",
            ).decode()
        )["payload"][0]
    )
    view = submission["view"]
    assert submission["type"] == "view_submission" and view["id"] == "V9"
    assert view["callback_id"] == "admin_modal" and view["private_metadata"] == '{"team": "sdr"}'
    assert view["state"]["values"]["cap"]["capacity"] == {"type": "number_input", "value": "40"}

    envelope = json.loads(ss.event_body({"type": "app_home_opened", "user": "U1"}, "Ev1"))
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["event"]["user"] == "U1" and envelope["team_id"] == TEAM_ID
    assert json.loads(ss.url_verification_body("c"))["challenge"] == "c"
    assert ss.content_type_of(ss.event_body({"type": "x"})) == ss.JSON
    assert ss.content_type_of(ss.slash_command_body("/leads")) == ss.FORM


async def test_bolt_dispatches_every_body_kind(fake_slack: FakeSlack) -> None:
    """A real Bolt app, its client on the fake, routes each built body to its listener."""
    seen: list[str] = []
    app = AsyncApp(signing_secret=SECRET, client=client(fake_slack))

    @app.action("claim_lead")
    async def on_claim(ack, body, action, respond):  # type: ignore[no-untyped-def]
        await ack()
        seen.append(f"action {action['value']} by {body['user']['id']}")
        await respond(text="Claimed", replace_original=False)

    @app.command("/leads")
    async def on_leads(ack, command):  # type: ignore[no-untyped-def]
        await ack(text="your queue")
        seen.append(f"command {command['text']}")

    @app.view("admin_modal")
    async def on_submit(ack, view):  # type: ignore[no-untyped-def]
        await ack()
        seen.append(f"view {view['state']['values']['b']['a']['value']}")

    @app.event("app_home_opened")
    async def on_home(event, client):  # type: ignore[no-untyped-def]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})
        seen.append(f"home {event['user']}")

    async def dispatch(body: bytes) -> int:
        headers = ss.signed_headers(SECRET, body)
        resp = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return resp.status

    assert (
        await dispatch(
            ss.block_action_body(
                "claim_lead", "42", "U0ALICE", response_url=fake_slack.response_url("r1")
            )
        )
        == 200
    )
    assert await dispatch(ss.slash_command_body("/leads", "me", "U0ALICE")) == 200
    assert (
        await dispatch(ss.view_submission_body("admin_modal", {"b": {"a": ss.text_input("v")}}))
        == 200
    )
    assert await dispatch(ss.event_body(ss.app_home_opened_event("U0ALICE"))) == 200

    challenge = ss.url_verification_body("xyz")
    req = AsyncBoltRequest(body=challenge.decode(), headers=ss.signed_headers(SECRET, challenge))
    resp = await app.async_dispatch(req)
    assert resp.status == 200 and "xyz" in resp.body

    forged = ss.slash_command_body("/leads")
    bad = AsyncBoltRequest(body=forged.decode(), headers=ss.signed_headers("wrong", forged))
    assert (await app.async_dispatch(bad)).status == 401

    await fake_slack.wait_for_async("views.publish")
    await fake_slack.wait_for_async("response_url")
    await asyncio.sleep(0.05)
    assert sorted(seen) == sorted(["action 42 by U0ALICE", "command me", "view v", "home U0ALICE"])
