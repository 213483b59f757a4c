"""A person acting in the local workspace: typing a slash command, clicking a button in a
message, a modal or the Home tab, submitting a modal, opening the Home tab.

Why: the demo and the end-to-end tests drive the real app the way a person drives it in
Slack. Each action is the request Slack would send to the app's request URL, signed with
the app's signing secret, with a ``response_url`` and ``trigger_id`` that lead back to
this workspace, so what the app answers shows up where the person would see it (the
message replaced, an ephemeral, a modal opened for them). Sending blocks the calling
thread; from async code use ``await asyncio.to_thread(person.click, ...)``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import payloads
from .signing import signed_headers
from .workspace import ResponseTarget, dm_channel_id

if TYPE_CHECKING:
    from .server import LocalSlack

__all__ = ["AppReply", "Person"]


@dataclass(frozen=True)
class AppReply:
    """What the app answered the request (Slack shows a 200 body as the ack)."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON (a modal's ``response_action``), or None when empty."""
        return json.loads(self.body) if self.body.strip() else None


def _elements(blocks: list[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every interactive element in blocks, with its block's id."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        for element in block.get("elements", []) or []:
            yield block_id, element
        for key in ("accessory", "element"):
            if isinstance(block.get(key), Mapping):
                yield block_id, block[key]


def find_element(blocks: list[Mapping[str, Any]], action_id: str) -> tuple[str, dict]:
    """The block id and element with ``action_id``; a LookupError names what is there."""
    seen = []
    for block_id, element in _elements(blocks):
        if element.get("action_id") == action_id:
            return block_id, dict(element)
        seen.append(str(element.get("action_id")))
    raise LookupError(f"no element {action_id!r} in these blocks (there are {seen})")


class Person:
    """One user of the workspace, acting on the app at ``events_url``."""

    def __init__(
        self,
        slack: LocalSlack,
        user_id: str,
        events_url: str,
        signing_secret: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.slack = slack
        self.user_id = user_id
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.timeout = timeout

    # ------------------------------------------------------------------ plumbing

    def _send(self, body: bytes) -> AppReply:
        headers = signed_headers(self.signing_secret, body)
        request = urllib.request.Request(self.events_url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return AppReply(answer.status, answer.read())
        except urllib.error.HTTPError as refused:
            return AppReply(refused.code, refused.read())

    def _trigger(self) -> str:
        """A trigger id the workspace knows is this person's (a modal opens for them)."""
        trigger = payloads.new_trigger_id()
        with self.slack.workspace.lock:
            self.slack.workspace.triggers[trigger] = self.user_id
        return trigger

    def _response_url(self, target: ResponseTarget) -> str:
        token = self.slack.workspace.next_id("R")
        with self.slack.workspace.lock:
            self.slack.workspace.response_targets[token] = target
        return self.slack.response_url(token)

    # ------------------------------------------------------------------ actions

    def command(self, command: str, text: str = "", channel: str | None = None) -> AppReply:
        """Type ``/command text`` in ``channel`` (the DM with the bot by default)."""
        where = channel or dm_channel_id(self.user_id)
        body = payloads.slash_command_body(
            command,
            text,
            user_id=self.user_id,
            channel_id=where,
            response_url=self._response_url(ResponseTarget(where, self.user_id)),
            trigger_id=self._trigger(),
        )
        return self._send(body)

    def click(
        self,
        action_id: str,
        *,
        message: Mapping[str, Any] | None = None,
        view: Mapping[str, Any] | None = None,
        selected: str | None = None,
    ) -> AppReply:
        """Press the element ``action_id`` in a message (as ``slack.messages()`` or
        ``slack.ephemerals()`` give it, with its ``channel``) or in a view (a modal or
        the Home tab); ``selected`` picks an option's value in a select. A click in a
        view carries no ``response_url``, as on Slack."""
        if (message is None) == (view is None):
            raise ValueError("click needs exactly one of message= or view=")
        source = message if message is not None else view
        assert source is not None
        block_id, element = find_element(list(source.get("blocks") or []), action_id)
        action: dict[str, Any] = {}
        if selected is not None:
            options = [o for o in element.get("options", []) if o.get("value") == selected]
            action["selected_option"] = options[0] if options else {"value": selected}
        if view is not None:
            body = payloads.block_action_body(
                action_id,
                value=element.get("value"),
                user_id=self.user_id,
                trigger_id=self._trigger(),
                block_id=block_id,
                action_type=str(element.get("type", "button")),
                action=action,
                view=view,
            )
            return self._send(body)
        assert message is not None
        channel = str(message["channel"])
        ephemeral = bool(message.get("is_ephemeral"))
        target = ResponseTarget(channel, self.user_id, str(message["ts"]), ephemeral)
        body = payloads.block_action_body(
            action_id,
            value=element.get("value"),
            user_id=self.user_id,
            channel_id=channel,
            message_ts=str(message["ts"]),
            response_url=self._response_url(target),
            trigger_id=self._trigger(),
            block_id=block_id,
            action_type=str(element.get("type", "button")),
            action=action,
            message={k: v for k, v in message.items() if k not in ("channel", "is_ephemeral")},
            is_ephemeral=ephemeral,
        )
        return self._send(body)

    def submit(
        self, view: Mapping[str, Any], values: Mapping[str, Mapping[str, Mapping[str, Any]]]
    ) -> AppReply:
        """Submit a modal (as ``slack.view(id)`` or ``slack.modals(user)`` give it) with
        ``values`` as ``view.state.values`` (build them with ``payloads.text_input``...)."""
        title = (view.get("title") or {}).get("text", "")
        body = payloads.view_submission_body(
            str(view.get("callback_id", "")),
            values,
            user_id=self.user_id,
            private_metadata=str(view.get("private_metadata", "")),
            view_id=str(view.get("id")),
            blocks=list(view.get("blocks") or []),
            title=title,
            external_id=str(view.get("external_id", "")),
            trigger_id=self._trigger(),
        )
        return self._send(body)

    def open_home(self) -> AppReply:
        """Open the app's Home tab (Slack sends ``app_home_opened``)."""
        home = self.slack.home_view(self.user_id)
        event = payloads.app_home_opened_event(self.user_id, view=home)
        return self._send(payloads.event_body(event))
