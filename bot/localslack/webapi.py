"""The Web API methods the app calls, answered from and into the workspace's state.

Why one class of small methods: each ``m_<method>`` is what Slack does for that method
(the arguments it needs, the errors it answers, the state it changes), so a reader can
compare one against Slack's documentation. A method not modelled answers ``ok``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .identity import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, TEAM_NAME
from .rules import Rules
from .workspace import Workspace, dm_channel_id, user_object

__all__ = ["WebApi"]

Answer = dict[str, Any]


def _error(name: str, **extra: Any) -> Answer:
    return {"ok": False, "error": name, **extra}


class WebApi:
    """Slack's Web API over a :class:`Workspace`."""

    def __init__(
        self,
        workspace: Workspace,
        rules: Rules,
        root_url: Callable[[], str],
        *,
        expected_token: str | None,
        strict_messages: bool,
    ) -> None:
        self.workspace = workspace
        self.rules = rules
        self._root_url = root_url
        self.expected_token = expected_token
        self.strict_messages = strict_messages

    def check_auth(self, params: Mapping[str, Any], auth_header: str) -> str | None:
        """Slack's answer to a missing or wrong token, or None when the token is fine."""
        token = auth_header[7:].strip() if auth_header.lower().startswith("bearer ") else None
        token = token or params.get("token")
        if not token:
            return "not_authed"
        if self.expected_token is not None and token != self.expected_token:
            return "invalid_auth"
        return None

    def answer(
        self, method: str, params: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, Answer]:
        """The answer to a Web API call that passed fault injection: auth first, then the
        strict rules (scopes, membership, Block Kit), then the method's own checks and
        result (a catch-all ``ok`` for methods not modelled)."""
        auth_error = self.check_auth(params, headers.get("authorization", ""))
        if auth_error is not None:
            return 200, _error(auth_error)
        refusal = self.rules.refusal(method, params)
        if refusal is not None:
            return 200, refusal
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": True}
        return 200, handler(params)

    def respond(self, token: str, p: dict[str, Any]) -> Answer:
        """An answer to a ``response_url``: replace or delete the message the action came
        from, post in the channel (``in_channel``) or show the user an ephemeral."""
        with self.workspace.lock:
            target = self.workspace.response_targets.get(token)
        refusal = self.rules.response_refusal(p)
        if refusal is not None:
            return refusal
        if target is None:
            return {"ok": True}
        shown = {k: p[k] for k in ("text", "blocks", "attachments") if k in p}
        replace = p.get("replace_original") in (True, "true")
        delete = p.get("delete_original") in (True, "true")
        if target.message_ts and target.ephemeral and (replace or delete):
            self.workspace.replace_ephemeral(
                target.channel, target.user, target.message_ts, None if delete else shown
            )
        elif delete and target.message_ts:
            self.m_chat_delete({"channel": target.channel, "ts": target.message_ts})
        elif replace and target.message_ts:
            self.m_chat_update({"channel": target.channel, "ts": target.message_ts, **shown})
        elif p.get("response_type") == "in_channel":
            self.m_chat_postMessage({"channel": target.channel, **shown})
        else:
            self.workspace.add_ephemeral(
                target.channel,
                target.user,
                {"type": "message", "ts": self.workspace.next_ts(), **shown},
            )
        return {"ok": True}

    # ------------------------------------------------------------------ identity

    def m_api_test(self, p: dict[str, Any]) -> Answer:
        return {"ok": True, "args": {k: v for k, v in p.items() if k != "token"}}

    def m_auth_test(self, p: dict[str, Any]) -> Answer:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "leadrouter",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    # ------------------------------------------------------------------ conversations

    def m_conversations_open(self, p: dict[str, Any]) -> Answer:
        if p.get("channel"):
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": p["channel"]},
            }
        users = p.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
        if not ids:
            return _error("users_list_not_supplied")
        channel_id = dm_channel_id(ids[0]) if len(ids) == 1 else "G" + "".join(ids)[:20]
        channel: dict[str, Any] = {"id": channel_id}
        if str(p.get("return_im", "")).lower() in ("1", "true"):
            channel.update({"is_im": len(ids) == 1, "user": ids[0], "created": 1700000000})
        return {"ok": True, "no_op": True, "already_open": True, "channel": channel}

    def m_conversations_history(self, p: dict[str, Any]) -> Answer:
        """Newest first; `metadata` only with include_all_metadata, as on Slack."""
        channel = self.workspace.resolve(str(p.get("channel") or ""))
        oldest = float(p.get("oldest") or 0)
        limit = int(p.get("limit") or 100)
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        with self.workspace.lock:
            found = [
                {
                    k: v
                    for k, v in message.items()
                    if not k.startswith("_") and (with_metadata or k != "metadata")
                }
                for (where, ts), message in self.workspace.messages.items()
                if where == channel and float(ts) >= oldest and not message.get("_deleted")
            ]
        found.sort(key=lambda message: float(message["ts"]), reverse=True)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def m_conversations_join(self, p: dict[str, Any]) -> Answer:
        """Public channels only; joining twice warns ``already_in_channel``."""
        channel_id = str(p.get("channel") or "")
        if not channel_id:
            return _error("channel_not_found")
        channel = self.workspace.channel(channel_id)
        if channel.is_private or channel.is_im:
            return _error("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _error("is_archived")
        with self.workspace.lock:
            already = BOT_USER_ID in channel.members
            channel.members.add(BOT_USER_ID)
        answer: Answer = {"ok": True, "channel": channel.describe()}
        if already:
            answer["warning"] = "already_in_channel"
            answer["response_metadata"] = {"warnings": ["already_in_channel"]}
        return answer

    def m_conversations_info(self, p: dict[str, Any]) -> Answer:
        channel = str(p.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        return {"ok": True, "channel": self.workspace.channel(channel).describe()}

    def m_conversations_list(self, p: dict[str, Any]) -> Answer:
        """Channels of the asked `types` (default public), as the bot sees them: a private
        channel only when the bot is in it. One page holds them all (no cursor)."""
        types = set(str(p.get("types") or "public_channel").split(","))
        skip_archived = str(p.get("exclude_archived", "")).lower() in ("1", "true")
        with self.workspace.lock:
            channels = [
                c.describe()
                for c in self.workspace.channels.values()
                if not c.is_im
                and ("private_channel" if c.is_private else "public_channel") in types
                and (not c.is_private or BOT_USER_ID in c.members)
                and not (skip_archived and c.is_archived)
            ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    # ------------------------------------------------------------------ chat

    def m_chat_postMessage(self, p: dict[str, Any]) -> Answer:
        channel = str(p.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            return _error("no_text")
        channel = self.workspace.resolve(channel)
        ts = self.workspace.next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": p.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if key in p:
                message[key] = p[key]
        self.workspace.store_message(channel, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def m_chat_update(self, p: dict[str, Any]) -> Answer:
        channel, ts = str(p.get("channel") or ""), str(p.get("ts") or "")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        channel = self.workspace.resolve(channel)
        with self.workspace.lock:
            message = self.workspace.messages.get((channel, ts))
            if message is None or message.get("_deleted"):
                if self.strict_messages:
                    return _error("message_not_found")
                message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts}
                self.workspace.store_message(channel, message)
            for key in ("text", "blocks", "attachments", "metadata"):
                if key in p:
                    message[key] = p[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": self.workspace.next_ts()}
            snapshot = {k: v for k, v in message.items() if not k.startswith("_")}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": snapshot.get("text", ""),
            "message": snapshot,
        }

    def m_chat_delete(self, p: dict[str, Any]) -> Answer:
        channel = self.workspace.resolve(str(p.get("channel") or ""))
        ts = str(p.get("ts") or "")
        with self.workspace.lock:
            message = self.workspace.messages.get((channel, ts))
            if message is None:
                if self.strict_messages:
                    return _error("message_not_found")
            else:
                message["_deleted"] = True
        return {"ok": True, "channel": channel, "ts": ts}

    def m_chat_postEphemeral(self, p: dict[str, Any]) -> Answer:
        if not p.get("channel"):
            return _error("channel_not_found")
        if not p.get("user"):
            return _error("user_not_found")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            return _error("no_text")
        ts = self.workspace.next_ts()
        shown = {"type": "message", "text": p.get("text", ""), "ts": ts}
        for key in ("blocks", "attachments", "thread_ts"):
            if key in p:
                shown[key] = p[key]
        self.workspace.add_ephemeral(str(p["channel"]), str(p["user"]), shown)
        return {"ok": True, "message_ts": ts}

    def m_chat_getPermalink(self, p: dict[str, Any]) -> Answer:
        channel, ts = str(p.get("channel", "")), str(p.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p"
            + ts.replace(".", ""),
        }

    # ------------------------------------------------------------------ views

    def _store_view(self, view: Any, view_id: str, **extra: Any) -> dict[str, Any]:
        return self.workspace.store_view(
            view if isinstance(view, dict) else {},
            view_id,
            app_id=APP_ID,
            app_installed_team_id=TEAM_ID,
            bot_id=BOT_ID,
            **extra,
        )

    def m_views_publish(self, p: dict[str, Any]) -> Answer:
        user = str(p.get("user_id") or "")
        if not user or not isinstance(p.get("view"), dict):
            return _error("invalid_arguments")
        with self.workspace.lock:
            view_id = self.workspace.home_views.get(user) or self.workspace.next_id("VH")
            self.workspace.home_views[user] = view_id
        return {"ok": True, "view": self._store_view(p["view"], view_id, type="home")}

    def m_views_open(self, p: dict[str, Any]) -> Answer:
        trigger = p.get("trigger_id") or p.get("interactivity_pointer")
        if not trigger or not isinstance(p.get("view"), dict):
            return _error("invalid_arguments")
        view_id = self.workspace.next_id("VM")
        with self.workspace.lock:
            owner = self.workspace.triggers.get(str(trigger))
            if owner is not None:
                self.workspace.modal_owner[view_id] = owner
        return {"ok": True, "view": self._store_view(p["view"], view_id)}

    def m_views_push(self, p: dict[str, Any]) -> Answer:
        return self.m_views_open(p)

    def m_views_update(self, p: dict[str, Any]) -> Answer:
        if not isinstance(p.get("view"), dict):
            return _error("invalid_arguments")
        view_id = str(p.get("view_id") or "")
        external_id = p.get("external_id")
        with self.workspace.lock:
            views = self.workspace.views
            if not view_id and external_id:
                view_id = next(
                    (k for k, v in views.items() if v.get("external_id") == external_id), ""
                )
            if not view_id or (view_id not in views and self.strict_messages):
                return _error("not_found")
        return {"ok": True, "view": self._store_view(p["view"], view_id)}

    # ------------------------------------------------------------------ users

    def m_users_info(self, p: dict[str, Any]) -> Answer:
        user_id = str(p.get("user") or "")
        if not user_id:
            return _error("user_not_found")
        return {"ok": True, "user": self.workspace.user(user_id)}

    def m_users_lookupByEmail(self, p: dict[str, Any]) -> Answer:
        email = str(p.get("email") or "").strip().lower()
        with self.workspace.lock:
            for user in self.workspace.users.values():
                if user["profile"]["email"].lower() == email:
                    return {"ok": True, "user": user}
        local, _, domain = email.partition("@")
        guess = local.upper()
        if domain == "example.com" and guess[:1] in ("U", "W") and guess.isalnum():
            return {"ok": True, "user": user_object(guess)}
        return _error("users_not_found")

    def m_users_list(self, p: dict[str, Any]) -> Answer:
        with self.workspace.lock:
            members = list(self.workspace.users.values())
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    # ------------------------------------------------------------------ files

    def m_files_getUploadURLExternal(self, p: dict[str, Any]) -> Answer:
        if not p.get("filename") or not p.get("length"):
            return _error("invalid_arguments")
        file_id = self.workspace.next_id("F")
        return {
            "ok": True,
            "upload_url": f"{self._root_url()}/upload/{file_id}",
            "file_id": file_id,
        }

    def m_files_completeUploadExternal(self, p: dict[str, Any]) -> Answer:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        return {
            "ok": True,
            "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files],
        }

    def m_files_info(self, p: dict[str, Any]) -> Answer:
        with self.workspace.lock:
            found = self.workspace.files.get(str(p.get("file") or ""))
        if found is None:
            return _error("file_not_found")
        return {"ok": True, "file": found[0]}
