"""What a Slack workspace holds, as a person would see it: channels and who is in them,
messages with their blocks and edits, DMs, ephemerals, modals and Home tabs, users, files.

Why apart from the Web API: the demo page and the tests read this state directly (what
does the channel show now? what does Jane's Home tab say?), and the Web API methods
change it; neither should know how the other is written.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .identity import BOT_USER_ID, DEFAULT_TZ, TEAM_ID

__all__ = ["Channel", "ResponseTarget", "Workspace", "dm_channel_id"]


def dm_channel_id(user_id: str) -> str:
    """The id of the bot's DM with a user (stable, so tests can name it)."""
    return "D" + user_id


@dataclass
class Channel:
    """A conversation: a public (``C``) or private (``G``) channel, or a DM (``D``)."""

    id: str
    name: str
    is_private: bool
    is_im: bool = False
    user: str | None = None
    """For a DM: the person the bot talks to."""
    members: set[str] = field(default_factory=set)
    is_archived: bool = False

    def describe(self, viewer: str = BOT_USER_ID) -> dict[str, Any]:
        """The channel object ``conversations.info`` answers."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private and not self.is_im,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_member": viewer in self.members,
            "is_archived": self.is_archived,
            **({"user": self.user} if self.user else {}),
        }


@dataclass(frozen=True)
class ResponseTarget:
    """Where a ``response_url`` answer lands: the channel and user of the command or
    action, and the message the action came from (None for a slash command)."""

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False


def _tz_facts(tz: str) -> tuple[int, str]:
    """Current UTC offset in seconds and a short label for a time zone name."""
    try:
        now = datetime.now(ZoneInfo(tz))
    except (KeyError, ValueError):
        return 0, tz
    offset = now.utcoffset()
    return int(offset.total_seconds()) if offset else 0, now.tzname() or tz


def user_object(
    user_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    real_name: str | None = None,
    tz: str = DEFAULT_TZ,
    is_admin: bool = False,
    is_bot: bool = False,
    deleted: bool = False,
) -> dict[str, Any]:
    """A user as ``users.info`` describes one."""
    offset, label = _tz_facts(tz)
    handle = name or user_id.lower()
    full = real_name or handle.replace(".", " ").title()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": handle,
        "deleted": deleted,
        "real_name": full,
        "tz": tz,
        "tz_label": label,
        "tz_offset": offset,
        "is_admin": is_admin,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1700000000,
        "profile": {
            "real_name": full,
            "display_name": handle,
            "email": email or f"{user_id.lower()}@example.com",
            "team": TEAM_ID,
        },
    }


class Workspace:
    """The workspace's state, guarded by one lock shared with the call log."""

    def __init__(self, lock: threading.RLock | threading.Condition) -> None:
        self.lock = lock
        self._last_ts_micros = 0
        self._ts_lock = threading.Lock()
        self._id_counter = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        """Forget everything; timestamps and ids keep increasing so they stay unique."""
        with self.lock:
            self.users: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, Channel] = {}
            self.messages: dict[tuple[str, str], dict[str, Any]] = {}
            self.ephemerals: list[dict[str, Any]] = []
            self.views: dict[str, dict[str, Any]] = {}
            self.home_views: dict[str, str] = {}
            self.modal_owner: dict[str, str] = {}
            """view id -> the user a modal was opened for (known from its trigger)."""
            self.triggers: dict[str, str] = {}
            """trigger id -> the user whose action issued it."""
            self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
            self.response_targets: dict[str, ResponseTarget] = {}
            """response_url token -> where an answer to it lands."""

    # ------------------------------------------------------------------ ids

    def next_ts(self) -> str:
        """Wall-clock time as Slack's are (so `oldest` filters work), strictly increasing."""
        with self._ts_lock:
            self._last_ts_micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 100)
            micros = self._last_ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    # ------------------------------------------------------------------ users

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = DEFAULT_TZ,
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Register a user for ``users.info`` / ``users.lookupByEmail``; returns the object.

        Unregistered ids still resolve in ``users.info`` (with ``<id lower>@example.com``),
        and such an email resolves back in ``users.lookupByEmail``.
        """
        user = user_object(
            user_id,
            email=email,
            name=name,
            real_name=real_name,
            tz=tz,
            is_admin=is_admin,
            is_bot=is_bot,
            deleted=deleted,
        )
        with self.lock:
            self.users[user_id] = user
        return user

    def user(self, user_id: str) -> dict[str, Any]:
        """A registered user, or one made up from the id (``<id lower>@example.com``)."""
        with self.lock:
            found = self.users.get(user_id)
        return found if found is not None else user_object(user_id)

    # ------------------------------------------------------------------ channels

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        private: bool | None = None,
        members: set[str] | None = None,
    ) -> Channel:
        """Create (or describe again) a channel; ``C`` ids are public, ``G`` private."""
        with self.lock:
            channel = self.channel(channel_id)
            if name is not None:
                channel.name = name
            if private is not None:
                channel.is_private = private
            if members is not None:
                channel.members |= members
            return channel

    def channel(self, channel_id: str) -> Channel:
        """The channel with this id, created on first mention (tests name channels in the
        configuration without creating them first); user ids mean the DM with them."""
        channel_id = self.resolve(channel_id)
        with self.lock:
            found = self.channels.get(channel_id)
            if found is None:
                if channel_id.startswith("D"):
                    user = channel_id[1:]
                    found = Channel(channel_id, user.lower(), True, True, user, {user, BOT_USER_ID})
                else:
                    found = Channel(channel_id, channel_id.lower(), channel_id.startswith("G"))
                self.channels[channel_id] = found
            return found

    @staticmethod
    def resolve(channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as on Slack."""
        if channel[:1] in ("U", "W"):
            return dm_channel_id(channel)
        return channel

    # ------------------------------------------------------------------ messages

    def store_message(self, channel: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.channel(channel)
            self.messages[(channel, message["ts"])] = message

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after ``chat.update``), or None."""
        with self.lock:
            found = self.messages.get((self.resolve(channel), ts))
            return copy.deepcopy(found) if found is not None else None

    def list_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted and not deleted, oldest first, each with its ``channel``."""
        where = self.resolve(channel) if channel is not None else None
        with self.lock:
            out = [
                {**copy.deepcopy(m), "channel": ch}
                for (ch, _ts), m in self.messages.items()
                if (where is None or ch == where) and not m.get("_deleted")
            ]
        return sorted(out, key=lambda m: float(m["ts"]))

    def add_ephemeral(self, channel: str, user: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.ephemerals.append(
                {**message, "channel": channel, "user": user, "is_ephemeral": True}
            )

    def replace_ephemeral(
        self, channel: str, user: str, ts: str, message: dict[str, Any] | None
    ) -> None:
        """A ``response_url`` answer with ``replace_original`` (``None``: deleted)."""
        with self.lock:
            for index, shown in enumerate(self.ephemerals):
                if (shown["channel"], shown["user"], shown["ts"]) == (channel, user, ts):
                    if message is None:
                        del self.ephemerals[index]
                    else:
                        self.ephemerals[index] = {**shown, **message}
                    return

    def list_ephemerals(
        self, user: str | None = None, channel: str | None = None
    ) -> list[dict[str, Any]]:
        """Ephemeral messages shown to ``user`` (in ``channel``), oldest first."""
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self.ephemerals
                if (user is None or e["user"] == user)
                and (channel is None or e["channel"] == channel)
            ]

    # ------------------------------------------------------------------ views

    def store_view(self, view: dict[str, Any], view_id: str, **extra: Any) -> dict[str, Any]:
        """Keep a modal or Home view as Slack echoes it back (with id, hash, state)."""
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id[-8:]}",
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            **extra,
        }
        with self.lock:
            self.views[view_id] = stored
        return stored

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A modal or Home view by id, as last opened/updated/published."""
        with self.lock:
            found = self.views.get(view_id)
            return copy.deepcopy(found) if found else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``, or None."""
        with self.lock:
            view_id = self.home_views.get(user_id)
            return copy.deepcopy(self.views[view_id]) if view_id else None

    def modals(self, user_id: str) -> list[dict[str, Any]]:
        """Modals opened for ``user_id`` (through a trigger the user issued), oldest first."""
        with self.lock:
            return [
                copy.deepcopy(self.views[view_id])
                for view_id, owner in self.modal_owner.items()
                if owner == user_id and view_id in self.views
            ]
