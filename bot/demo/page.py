"""The demo page's routes: the workspace as one person sees it, and that person's actions.

The browser polls `GET /demo/state?as=USER` and draws the Block Kit itself
(`static/demo.js`). Every action goes where Slack would send it: a lead through the
intake API (`POST /api/leads` with the demo's key), a click, a slash command, a modal
submission or opening App Home as a signed request to `/slack/events` from the local
workspace's :class:`~bot.localslack.Person`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.demo.team import CHANNELS, PEOPLE, sample_leads
from bot.localslack import LocalSlack, Person

log = logging.getLogger("leadrouter.demo")
STATIC = Path(__file__).with_name("static")
SAMPLE_COUNT = 20
SAMPLE_PACE_SECONDS = 0.25  # a burst, yet no channel gets 10 cards at once (a digest)


class DemoPage:
    """Routes of the demo page over the running app (`app_url`) and the workspace."""

    def __init__(self, slack: LocalSlack, app_url: str, signing_secret: str, api_secret: str):
        self.slack = slack
        self.app_url = app_url.rstrip("/")
        self.signing_secret = signing_secret
        self.api_secret = api_secret
        self._closed: set[str] = set()  # modal view ids closed by a submission
        self._errors: dict[str, dict[str, str]] = {}  # view id -> field errors
        self._batches = itertools.count(int(time.time()))

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/demo/demo.js", self.script, methods=["GET"]),
            Route("/demo/state", self.state, methods=["GET"]),
            Route("/demo/lead", self.lead, methods=["POST"]),
            Route("/demo/samples", self.samples, methods=["POST"]),
            Route("/demo/command", self.command, methods=["POST"]),
            Route("/demo/click", self.click, methods=["POST"]),
            Route("/demo/submit", self.submit, methods=["POST"]),
            Route("/demo/close", self.close, methods=["POST"]),
            Route("/demo/home", self.home, methods=["POST"]),
        ]

    def person(self, user: str) -> Person:
        if user not in {p.user for p in PEOPLE}:
            raise ValueError(f"unknown person {user!r}")
        return self.slack.person(user, f"{self.app_url}/slack/events", self.signing_secret)

    # ------------------------------------------------------------------ reading

    async def index(self, _request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def script(self, _request: Request) -> Response:
        return FileResponse(STATIC / "demo.js", media_type="text/javascript")

    async def state(self, request: Request) -> Response:
        viewer = request.query_params.get("as", PEOPLE[0].user)
        return JSONResponse(await asyncio.to_thread(self._state, viewer))

    def _state(self, viewer: str) -> dict[str, Any]:
        ephemerals = self.slack.ephemerals(user=viewer)

        def conversation(channel: str) -> list[dict[str, Any]]:
            mine = [e for e in ephemerals if e["channel"] == channel]
            return sorted(
                [*self.slack.messages(channel), *mine], key=lambda m: float(m.get("ts") or 0)
            )

        modal = next(
            (m for m in reversed(self.slack.modals(viewer)) if m["id"] not in self._closed), None
        )
        return {
            "people": [
                {"id": p.user, "name": p.name, "title": p.title, "admin": p.is_admin}
                for p in PEOPLE
            ],
            "channels": [
                {"id": c.id, "name": c.name, "team": c.team, "messages": conversation(c.id)}
                for c in CHANNELS
            ],
            "dms": {p.user: conversation(f"D{p.user}") for p in PEOPLE},
            "home": self.slack.home_view(viewer),
            "modal": modal,
            "modal_errors": self._errors.get(modal["id"], {}) if modal else {},
        }

    # ------------------------------------------------------------------ acting

    async def lead(self, request: Request) -> Response:
        """One lead from the form, through the real intake API; its answer shown as is."""
        fields = {k: v for k, v in (await request.json()).items() if v not in ("", None)}
        if "employees" in fields:
            fields["employees"] = _number(fields["employees"])
        if "score" in fields:
            fields["score"] = _number(fields["score"])
        status, answer = await self._post_lead(fields)
        return JSONResponse({"status": status, "answer": answer})

    async def samples(self, _request: Request) -> Response:
        """SAMPLE_COUNT varied leads, posted one by one in the background."""
        leads = sample_leads(SAMPLE_COUNT, next(self._batches))
        asyncio.get_running_loop().create_task(self._post_paced(leads), name="demo-samples")
        return JSONResponse({"queued": len(leads)}, status_code=202)

    async def _post_paced(self, leads: list[dict[str, Any]]) -> None:
        for lead in leads:
            status, answer = await self._post_lead(lead)
            if status >= 300:
                log.warning("sample lead refused: %s %s", status, answer)
            await asyncio.sleep(SAMPLE_PACE_SECONDS)

    async def _post_lead(self, fields: Mapping[str, Any]) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.api_secret}"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.app_url}/api/leads", json=fields, headers=headers) as answer,
        ):
            return answer.status, await answer.json(content_type=None)

    async def command(self, request: Request) -> Response:
        """`/leads team sdr` typed by a person, in a channel or the DM with the bot."""
        body = await request.json()
        name, _, text = str(body.get("text", "")).strip().partition(" ")
        if not name.startswith("/"):
            return JSONResponse({"error": "a slash command starts with /"}, status_code=400)
        person = self.person(str(body["as"]))
        channel = str(body.get("channel") or f"D{person.user_id}")
        reply = await asyncio.to_thread(person.command, name, text.strip(), channel)
        answer = reply.json() if reply.status == 200 and reply.body.startswith(b"{") else None
        if isinstance(answer, dict) and (answer.get("text") or answer.get("blocks")):
            # Slack shows a command's ack body to the person who typed it, privately.
            shown = {k: answer[k] for k in ("text", "blocks") if k in answer}
            message = {"type": "message", "ts": self.slack.workspace.next_ts(), **shown}
            self.slack.workspace.add_ephemeral(channel, person.user_id, message)
        return _reply(reply.status, reply.body)

    async def click(self, request: Request) -> Response:
        """A button or select in a message (`channel` and `ts`) or a view (`view_id`)."""
        body = await request.json()
        person = self.person(str(body["as"]))
        if body.get("view_id"):
            where: dict[str, Any] = {"view": self.slack.view(str(body["view_id"]))}
        else:
            where = {"message": self._message(person.user_id, body)}
        reply = await asyncio.to_thread(
            person.click, str(body["action_id"]), selected=body.get("selected"), **where
        )
        return _reply(reply.status, reply.body)

    def _message(self, viewer: str, body: Mapping[str, Any]) -> dict[str, Any]:
        channel, ts = str(body["channel"]), str(body["ts"])
        if body.get("ephemeral"):
            for message in self.slack.ephemerals(user=viewer, channel=channel):
                if message.get("ts") == ts:
                    return message
        message = self.slack.message(channel, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel}")
        return {**message, "channel": channel}

    async def submit(self, request: Request) -> Response:
        """Submit a modal with the values the page collected (`view.state.values`)."""
        body = await request.json()
        person = self.person(str(body["as"]))
        view_id = str(body["view_id"])
        view = self.slack.view(view_id)
        if view is None:
            return JSONResponse({"error": "no such view"}, status_code=404)
        reply = await asyncio.to_thread(person.submit, view, body.get("values") or {})
        self._after_submit(person.user_id, view_id, reply.json() if reply.status == 200 else None)
        return _reply(reply.status, reply.body)

    def _after_submit(self, user: str, view_id: str, answer: Any) -> None:
        """What Slack does with the ack of a view submission: close, update or push the
        modal, or show the errors beside their fields."""
        action = answer.get("response_action") if isinstance(answer, dict) else None
        self._errors.pop(view_id, None)
        if action == "errors":
            self._errors[view_id] = dict(answer.get("errors") or {})
        elif action == "update":
            self.slack.workspace.store_view(dict(answer["view"]), view_id)
        elif action == "push":
            pushed = self.slack.workspace.next_id("V")
            self.slack.workspace.store_view(dict(answer["view"]), pushed)
            with self.slack.workspace.lock:
                self.slack.workspace.modal_owner[pushed] = user
        else:  # an empty ack (or `clear`) closes every modal of the stack
            self._closed.update(m["id"] for m in self.slack.modals(user))

    async def close(self, request: Request) -> Response:
        body = await request.json()
        self._closed.add(str(body["view_id"]))
        return JSONResponse({"closed": body["view_id"]})

    async def home(self, request: Request) -> Response:
        """Open the App Home tab: Slack sends `app_home_opened`, the app publishes it."""
        person = self.person(str((await request.json())["as"]))
        reply = await asyncio.to_thread(person.open_home)
        return _reply(reply.status, reply.body)


def _number(value: Any) -> Any:
    try:
        return int(str(value))
    except ValueError:
        return value  # the intake API names the field and why


def _reply(status: int, body: bytes) -> Response:
    """The app's HTTP answer to a Slack request, passed to the page."""
    try:
        answer = json.loads(body) if body.strip() else None
    except ValueError:
        answer = body.decode("utf-8", "replace")
    return JSONResponse({"status": status, "answer": answer})
