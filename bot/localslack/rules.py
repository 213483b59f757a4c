"""Slack's refusals that have nothing to do with faults: scopes the manifest does not
grant, channels the bot is not in, ephemerals that cannot be edited, Block Kit limits.

Why: these are the answers a real workspace gives on day one that a lenient fake hides.
Every rule is on by default; a test (or the demo) may relax one by name with
:meth:`Rules.relax`. Sources: each method's page on docs.slack.dev (its "Scopes" and
"Errors" facts, e.g. https://docs.slack.dev/reference/methods/conversations.join:
bot scope ``channels:join``, ``method_not_supported_for_channel_type`` for private
channels); ``chat:write.public`` lets ``chat.postMessage`` reach a public channel the bot
is not in (https://docs.slack.dev/reference/scopes/chat.write.public); a channel message's
history needs the bot in the channel (``not_in_channel``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .blockkit import Problem, message_problems, view_problems
from .identity import BOT_USER_ID
from .manifest import AppManifest
from .workspace import Workspace

__all__ = ["RULES", "Rules", "needed_scope"]

RULES = frozenset({"block_kit", "scopes", "membership", "ephemeral_updates", "options_url"})

# Bot scope a method needs; a dict picks it by the conversation's kind (id prefix).
METHOD_SCOPES: dict[str, str | dict[str, str]] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "conversations.join": "channels:join",
    "conversations.history": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.info": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
    "conversations.members": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
    # (by the kinds of channel listed: the app lists public and private ones)
    "conversations.list": {"C": "channels:read", "G": "groups:read"},
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
}
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})

Answer = dict[str, Any]


def needed_scope(method: str, params: dict[str, Any]) -> str | None:
    """The bot scope ``method`` needs with these arguments (None: no scope needed)."""
    needed = METHOD_SCOPES.get(method)
    if isinstance(needed, dict):
        channel = str(params.get("channel") or "")
        kind = "D" if channel[:1] in ("U", "W") else channel[:1]
        return needed.get(kind)
    return needed


def _refusal(error: str, problems: list[Problem]) -> Answer:
    return {
        "ok": False,
        "error": error,
        "errors": [str(p) for p in problems],
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


class Rules:
    """The strict rules in force, over the manifest and the workspace's state."""

    def __init__(self, manifest: AppManifest, workspace: Workspace, relax: Iterable[str]) -> None:
        self.manifest = manifest
        self.workspace = workspace
        self.enabled = set(RULES)
        self.relax(*relax)

    def relax(self, *names: str) -> None:
        """Turn rules off by name (``membership``, ``scopes``, ``block_kit``...)."""
        unknown = set(names) - RULES
        if unknown:
            raise ValueError(f"no such rule: {sorted(unknown)}; rules are {sorted(RULES)}")
        self.enabled -= set(names)

    def enforce(self, *names: str) -> None:
        """Turn rules back on."""
        self.enabled |= set(names) & RULES

    def refusal(self, method: str, params: dict[str, Any]) -> Answer | None:
        """Slack's refusal of this call, or None when it may go ahead."""
        for check in (self._scopes, self._membership, self._ephemeral, self._block_kit):
            answer = check(method, params)
            if answer is not None:
                return answer
        return None

    def _scopes(self, method: str, params: dict[str, Any]) -> Answer | None:
        if "scopes" not in self.enabled:
            return None
        needed = needed_scope(method, params)
        if needed is None or needed in self.manifest.bot_scopes:
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": needed,
            "provided": self.manifest.scopes_header,
        }

    def _is_member(self, channel_id: str) -> bool:
        return BOT_USER_ID in self.workspace.channel(channel_id).members

    def _membership(self, method: str, params: dict[str, Any]) -> Answer | None:
        channel = str(params.get("channel") or "")
        if "membership" not in self.enabled or channel[:1] not in ("C", "G"):
            return None
        if self._is_member(channel):
            return None
        if method == "conversations.history":
            return {"ok": False, "error": "not_in_channel"}
        if method == "conversations.info" and channel.startswith("G"):
            return {"ok": False, "error": "channel_not_found"}  # invisible to non-members
        if method == "chat.postMessage":
            public_reach = channel.startswith("C") and "chat:write.public" in (
                self.manifest.bot_scopes
            )
            if not public_reach:
                return {"ok": False, "error": "not_in_channel"}
        return None

    def _ephemeral(self, method: str, params: dict[str, Any]) -> Answer | None:
        if method != "chat.update" or "ephemeral_updates" not in self.enabled:
            return None
        channel = self.workspace.resolve(str(params.get("channel") or ""))
        ts = str(params.get("ts") or "")
        if any(e["channel"] == channel and e["ts"] == ts for e in self.workspace.ephemerals):
            return {"ok": False, "error": "message_not_found"}  # ephemerals are not stored
        return None

    def response_refusal(self, params: dict[str, Any]) -> Answer | None:
        """Slack's refusal of a message sent to a ``response_url`` (same Block Kit rules)."""
        return self._block_kit("chat.postEphemeral", params)

    def _block_kit(self, method: str, params: dict[str, Any]) -> Answer | None:
        if "block_kit" not in self.enabled:
            return None
        options_url = "options_url" not in self.enabled or bool(self.manifest.options_url)
        if method in MESSAGE_METHODS:
            problems = message_problems(params, options_url=options_url)
            in_blocks = [p for p in problems if p.pointer.startswith("/blocks")]
            if in_blocks:
                return _refusal("invalid_blocks", in_blocks)
            if problems:
                return _refusal("invalid_arguments", problems)
        elif method in VIEW_METHODS and "view" in params:
            problems = view_problems(params["view"], options_url=options_url)
            if problems:
                return _refusal("invalid_arguments", problems)
        return None
