"""A fake Slack Web API server for offline end-to-end tests.

Why: the app talks to Slack only through slack_sdk's ``AsyncWebClient``, whose ``base_url``
comes from ``SLACK_API_URL``. Pointing it at this server lets tests run the real app (in
process or as a subprocess) with no network, record every call it makes, and inject the
faults Slack really produces (429 with ``Retry-After``, ``ok: false`` errors, 5xx, slow or
hung responses) to prove notifications are delayed but never lost nor doubled.

The server is starlette + uvicorn on ``127.0.0.1`` with a free port, in a background thread
with its own event loop, so sync tests, async tests and other processes can all use it::

    with FakeSlack() as slack:
        env["SLACK_API_URL"] = slack.url           # http://127.0.0.1:PORT/api/
        slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
        ...
        (call,) = slack.wait_for("chat.postMessage")   # the first *successful* post
        assert call.params["channel"] == "C0SALES"
        assert len(slack.calls_to("chat.postMessage")) == 3  # two 429s + one delivery

Every call is recorded as a :class:`SlackCall` (faulted ones too, with ``failed=True``), in
arrival order. The fake also keeps what a workspace would show: posted messages with their
latest edits (:meth:`FakeSlack.message`), published Home tabs (:meth:`FakeSlack.home_view`)
and a small user directory (:meth:`FakeSlack.add_user`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["FakeSlack", "SlackCall", "SlackWaitTimeout"]

TEAM_ID = "T0TEST"
TEAM_NAME = "Leadrouter Test"
TEAM_DOMAIN = "leadrouter-test"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0LEADROUTER"
DEFAULT_TZ = "America/New_York"
BOT_SCOPES = (
    "chat:write,chat:write.public,im:write,users:read,users:read.email,commands,"
    "channels:read,groups:read,files:write,files:read,im:history,channels:history,groups:history,"
    "users.profile:read,dnd:read"
)

# Fields that slack_sdk (and Slack itself) carry as JSON-encoded strings inside form posts.
JSON_STRING_FIELDS = frozenset(
    {"blocks", "attachments", "view", "metadata", "unfurls", "files", "user_auth_blocks"}
)

# Predicate over a call's parsed params, used to aim a fault at some calls only.
ParamsPredicate = Callable[[dict[str, Any]], bool]


class SlackWaitTimeout(AssertionError):
    """Raised by ``wait_for`` when the expected calls did not arrive in time.

    An AssertionError so pytest reports it as a test failure with the message in full.
    """


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received, as a test wants to see it."""

    method: str
    """Web API method (``chat.postMessage``), or ``response_url`` / ``file_upload``."""
    params: dict[str, Any]
    """Query, form or JSON arguments merged; JSON-in-form fields (``blocks``...) decoded."""
    headers: dict[str, str]
    """Request headers, names lower-cased."""
    at: float
    """``time.monotonic()`` when the request arrived."""
    failed: bool = False
    """True when the fake answered with an injected fault or an error."""
    fault: str | None = None
    """Why it failed: ``ratelimited``, ``http_500``, ``timeout``, ``error:NAME``..."""
    status: int = 200
    """HTTP status answered (0 when the client gave up before an answer)."""
    response: dict[str, Any] | None = None
    """The JSON body answered, if any."""
    body: bytes = b""
    """The raw request body."""
    target: str | None = None
    """The token of a ``response_url`` call, or the file id of an upload."""

    @property
    def ok(self) -> bool:
        """Whether the caller got a successful answer (a delivery)."""
        return not self.failed

    @property
    def token(self) -> str | None:
        """The bearer token used, from the Authorization header or a ``token`` param."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.params.get("token")
        return str(token) if token is not None else None

    @property
    def error(self) -> str | None:
        """The Slack error string answered, if any."""
        if self.response is None:
            return self.fault
        error = self.response.get("error")
        return str(error) if error is not None else None

    def summary(self) -> str:
        """One line for failure messages: method, outcome and the telling params."""
        outcome = "ok" if not self.failed else f"FAILED({self.fault})"
        keys = ("channel", "ts", "user", "user_id", "users", "text", "view_id", "trigger_id")
        parts = []
        for key in keys:
            if key in self.params:
                value = str(self.params[key])
                if len(value) > 60:
                    value = value[:57] + "..."
                parts.append(f"{key}={value!r}")
        if self.target is not None:
            parts.append(f"target={self.target!r}")
        return f"{self.method} {outcome} {' '.join(parts)}".rstrip()


class _Aimed:
    """A fault or delay aimed at some calls: a method (`*` for any), how many more times
    (None: until cleared), and optionally a predicate on the call's params."""

    method: str
    remaining: int | None
    when: ParamsPredicate | None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.remaining == 0 or self.method not in ("*", method):
            return False
        return self.when is None or bool(self.when(params))


@dataclass
class _Fault(_Aimed):
    """An injected failure waiting for matching calls."""

    method: str
    kind: str  # "http" (status + error) or "timeout"
    status: int
    error: str
    retry_after: int | None
    remaining: int | None  # None: until cleared
    when: ParamsPredicate | None
    seconds: float = 0.0  # for timeouts: how long to hold the request


@dataclass
class _Delay(_Aimed):
    """A slow (but successful) answer for matching calls."""

    method: str
    seconds: float
    remaining: int | None
    when: ParamsPredicate | None


@dataclass
class _Chaos:
    """Random faults: a share of calls gets a 429, a 500 or a hang."""

    rate: float
    rng: random.Random
    methods: frozenset[str] | None
    exempt: frozenset[str]
    kinds: tuple[str, ...]
    retry_after: int
    timeout_seconds: float


@dataclass
class _ChannelBudget:
    """Slack's per-channel posting limit (about one message a second, short bursts)."""

    per_second: float
    burst: float
    methods: frozenset[str]
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, stamp


@dataclass
class _Decision:
    """What to do with one request: answer normally, or which fault to play."""

    fault: str | None = None
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    hang_seconds: float = 0.0
    delay_seconds: float = 0.0


def _free_socket(host: str, port: int) -> socket.socket:
    """Bind a listening socket (port 0: the OS picks a free one) to hand to uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-encoded strings (``blocks`` in a form post) back into Python objects."""
    for key in JSON_STRING_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _parse_params(query: Iterable[tuple[str, str]], body: bytes, content_type: str) -> dict:
    """Merge query string and body arguments the way Slack reads them."""
    params: dict[str, Any] = dict(query)
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                params.update(decoded)
        elif ctype == "application/x-www-form-urlencoded" or not ctype:
            text = body.decode("utf-8", errors="replace")
            params.update(parse_qsl(text, keep_blank_values=True))
    return _decode_json_fields(params)


def _tz_facts(tz: str) -> tuple[int, str]:
    """Current UTC offset in seconds and a short label for a time zone name."""
    try:
        now = datetime.now(ZoneInfo(tz))
    except (KeyError, ValueError):
        return 0, tz
    offset = now.utcoffset()
    return int(offset.total_seconds()) if offset else 0, now.tzname() or tz


class FakeSlack:
    """A recording, fault-injecting stand-in for ``https://slack.com/api/``.

    Use it as a context manager or call :meth:`start` and :meth:`stop`. ``token``, when
    given, is the only bot token accepted (others get ``invalid_auth``); any token is
    accepted otherwise, but a call with none gets ``not_authed`` as on real Slack.
    ``strict_messages=True`` makes ``chat.update``/``chat.delete`` of a message this fake
    never posted answer ``message_not_found`` (off by default, since tests often click
    buttons on messages they made up).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        strict_messages: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        self.expected_token = token
        self.strict_messages = strict_messages
        self._cond = threading.Condition(threading.RLock())
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_ts_micros = 0
        self._ts_lock = threading.Lock()
        self._id_counter = itertools.count(1)
        self._clear_state()

    # ------------------------------------------------------------------ lifecycle

    def _clear_state(self) -> None:
        """Forget calls, faults and workspace state (the server keeps running)."""
        with self._cond:
            self._calls: list[SlackCall] = []
            self._faults: list[_Fault] = []
            self._delays: list[_Delay] = []
            self._chaos: _Chaos | None = None
            self._budget: _ChannelBudget | None = None
            self._messages: dict[tuple[str, str], dict[str, Any]] = {}
            self._views: dict[str, dict[str, Any]] = {}
            self._home_views: dict[str, str] = {}
            self._users: dict[str, dict[str, Any]] = {}
            self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
            self._statuses: dict[str, dict[str, Any]] = {}
            self._dnd: dict[str, dict[str, Any]] = {}
            self._presence: dict[str, str] = {}
            self._cond.notify_all()

    def start(self) -> Self:
        """Start serving in a background thread; returns once the port accepts requests."""
        if self._thread is not None:
            return self
        sock = _free_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._build_app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"fake-slack-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FakeSlack: the server thread did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server and join its thread (hung requests are cut after a second)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        self._server = None
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget calls, faults, delays, chaos, messages, views and users; keep serving.

        Message timestamps keep increasing across resets, so they stay unique.
        """
        self._clear_state()

    # ------------------------------------------------------------------ addresses

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        if not self.port:
            raise RuntimeError("FakeSlack is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"{self.root_url}/api/"

    def response_url(self, token: str = "resp") -> str:
        """A ``response_url`` for slash command or interaction payloads; calls to it are
        recorded as method ``response_url`` with ``target=token``."""
        return f"{self.root_url}/response_url/{token}"

    # ------------------------------------------------------------------ recorded calls

    @property
    def calls(self) -> list[SlackCall]:
        """A snapshot of every recorded call, in arrival order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str, *, failed: bool | None = None) -> list[SlackCall]:
        """Calls to ``method`` (``*`` for any); ``failed`` filters on the outcome."""
        with self._cond:
            return self._select(method, None, failed)

    def delivered(self, method: str) -> list[SlackCall]:
        """Successful calls to ``method``: what really reached the workspace."""
        return self.calls_to(method, failed=False)

    def failures(self, method: str = "*") -> list[SlackCall]:
        """Faulted or refused calls to ``method``."""
        return self.calls_to(method, failed=True)

    def _select(
        self,
        method: str | None,
        predicate: Callable[[SlackCall], bool] | None,
        failed: bool | None,
    ) -> list[SlackCall]:
        out = []
        for call in self._calls:
            if method not in (None, "*") and call.method != method:
                continue
            if failed is not None and call.failed != failed:
                continue
            if predicate is not None and not predicate(call):
                continue
            out.append(call)
        return out

    def _timeout_message(
        self,
        method: str,
        count: int,
        timeout: float,
        predicate: Callable[[SlackCall], bool] | None,
        failed: bool | None,
        got: int,
    ) -> str:
        kind = {False: "successful ", True: "failed ", None: ""}[failed]
        what = " matching the predicate" if predicate is not None else ""
        seen = self._calls
        head = (
            f"FakeSlack: waited {timeout:g}s for {count} {kind}call(s) to {method}{what}; "
            f"got {got}. Calls seen ({len(seen)}):"
        )
        if not seen:
            return head + "\n  (none: is SLACK_API_URL pointing at this fake?)"
        start = seen[0].at
        lines = [f"  +{c.at - start:7.3f}s {c.summary()}" for c in seen[-60:]]
        if len(seen) > 60:
            lines.insert(0, f"  ... {len(seen) - 60} earlier calls left out")
        return "\n".join([head, *lines])

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[SlackCall], bool] | None = None,
        *,
        failed: bool | None = False,
    ) -> list[SlackCall]:
        """Block until ``count`` matching calls were recorded; return all matching so far.

        By default only successful calls count (``failed=False``), since a test waiting
        for a post wants the delivery, not the 429 before it; ``failed=None`` counts all.
        Raises :class:`SlackWaitTimeout` listing the calls seen. Blocking: from a test whose
        event loop runs the app, use :meth:`wait_for_async` instead.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._select(method, predicate, failed)
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SlackWaitTimeout(
                        self._timeout_message(method, count, timeout, predicate, failed, len(found))
                    )
                self._cond.wait(timeout=min(left, 0.5))

    async def wait_for_async(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 (same signature as wait_for on purpose)
        predicate: Callable[[SlackCall], bool] | None = None,
        *,
        failed: bool | None = False,
    ) -> list[SlackCall]:
        """Like :meth:`wait_for` but yields to the event loop while waiting."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = self._select(method, predicate, failed)
                if len(found) >= count:
                    return found
                if time.monotonic() >= deadline:
                    raise SlackWaitTimeout(
                        self._timeout_message(method, count, timeout, predicate, failed, len(found))
                    )
            await asyncio.sleep(0.02)

    def settle(self, quiet: float = 0.5, timeout: float = 10.0) -> list[SlackCall]:
        """Wait until no call arrived for ``quiet`` seconds; return all calls.

        Why: "nothing more is sent" (no double page) can only be checked after the app had
        the time to send it; this waits for that rather than sleeping a fixed time.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                last = self._calls[-1].at if self._calls else 0.0
                now = time.monotonic()
                if now - last >= quiet:
                    return list(self._calls)
                if now >= deadline:
                    raise SlackWaitTimeout(f"FakeSlack: calls kept coming for {timeout:g}s")
                self._cond.wait(timeout=min(quiet - (now - last), deadline - now) + 0.01)

    # ------------------------------------------------------------------ workspace state

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
        user = self._user_object(
            user_id,
            email=email,
            name=name,
            real_name=real_name,
            tz=tz,
            is_admin=is_admin,
            is_bot=is_bot,
            deleted=deleted,
        )
        with self._cond:
            self._users[user_id] = user
        return user

    @staticmethod
    def _user_object(
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

    def set_status(self, user_id: str, text: str, emoji: str = "", expiration: int = 0) -> None:
        """A user's custom status, as ``users.profile.get`` reports it (expiration: epoch
        seconds, 0 = never)."""
        with self._cond:
            self._statuses[user_id] = {
                "status_text": text,
                "status_emoji": emoji,
                "status_expiration": expiration,
            }

    def set_dnd(self, user_id: str, start_ts: int, end_ts: int) -> None:
        """A user's do-not-disturb window, as ``dnd.info`` reports it."""
        with self._cond:
            self._dnd[user_id] = {
                "dnd_enabled": True,
                "next_dnd_start_ts": start_ts,
                "next_dnd_end_ts": end_ts,
                "snooze_enabled": False,
            }

    def set_presence(self, user_id: str, presence: str) -> None:
        """``active`` or ``away``, as ``users.getPresence`` reports it for other users."""
        with self._cond:
            self._presence[user_id] = presence

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after ``chat.update``), or None."""
        with self._cond:
            found = self._messages.get((channel, ts))
            return json.loads(json.dumps(found)) if found is not None else None

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted and not deleted, oldest first, each with its ``channel``."""
        with self._cond:
            out = [
                {**m, "channel": ch}
                for (ch, _ts), m in self._messages.items()
                if (channel is None or ch == channel) and not m.get("_deleted")
            ]
        return sorted(out, key=lambda m: m["ts"])

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``, or None."""
        with self._cond:
            view_id = self._home_views.get(user_id)
            return dict(self._views[view_id]) if view_id else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A modal or Home view by id, as last opened/updated/published."""
        with self._cond:
            found = self._views.get(view_id)
            return dict(found) if found else None

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        error: str | None = None,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int | None = 1,
        when: ParamsPredicate | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` (``*``: any) fail.

        - ``status=429``: ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``.
        - ``status=200`` and ``error="channel_not_found"``: Slack's ``ok: false`` answer.
        - ``status=500`` (any 5xx): a server error.

        ``times=None`` keeps failing until :meth:`clear_faults`. ``when`` narrows it to
        calls whose params match (e.g. ``lambda p: p.get("channel") == "C1"``).
        """
        if error is None:
            error = {429: "ratelimited", 200: "fatal_error"}.get(status, "internal_error")
        with self._cond:
            self._faults.append(
                _Fault(
                    method=method,
                    kind="http",
                    status=status,
                    error=error,
                    retry_after=retry_after if status == 429 else None,
                    remaining=times,
                    when=when,
                )
            )

    def hang(
        self,
        method: str,
        seconds: float = 5.0,
        *,
        times: int | None = 1,
        when: ParamsPredicate | None = None,
    ) -> None:
        """Make calls time out: hold them ``seconds`` (or until the client gives up),
        then answer 504 ``request_timeout``. Nothing is delivered."""
        with self._cond:
            self._faults.append(
                _Fault(
                    method=method,
                    kind="timeout",
                    status=504,
                    error="request_timeout",
                    retry_after=None,
                    remaining=times,
                    when=when,
                    seconds=seconds,
                )
            )

    def delay(
        self,
        method: str,
        seconds: float,
        *,
        times: int | None = None,
        when: ParamsPredicate | None = None,
    ) -> None:
        """Answer calls to ``method`` successfully but only after ``seconds``.

        The call is recorded when answered (with ``at`` still its arrival time), so
        ``wait_for`` returns once the caller has its answer.
        """
        with self._cond:
            self._delays.append(_Delay(method, seconds, times, when))

    def chaos(
        self,
        rate: float = 0.3,
        seed: int | None = None,
        *,
        methods: Iterable[str] | None = None,
        exempt: Iterable[str] = ("auth.test",),
        kinds: Iterable[str] = ("ratelimited", "server_error", "timeout"),
        retry_after: int = 1,
        timeout_seconds: float = 2.0,
    ) -> None:
        """Fail a random share ``rate`` of calls with a mix of ``kinds``.

        Kinds: ``ratelimited`` (429 + Retry-After), ``server_error`` (500), ``timeout``
        (held ``timeout_seconds``, then 504). ``seed`` makes the sequence repeatable;
        ``methods`` limits it; ``exempt`` (default ``auth.test``) is never hit so the app
        can start. ``chaos(0)`` turns it off.
        """
        with self._cond:
            if rate <= 0:
                self._chaos = None
                return
            self._chaos = _Chaos(
                rate=rate,
                rng=random.Random(seed),
                methods=frozenset(methods) if methods is not None else None,
                exempt=frozenset(exempt),
                kinds=tuple(kinds),
                retry_after=retry_after,
                timeout_seconds=timeout_seconds,
            )

    def limit_channel_rate(
        self,
        per_second: float = 1.0,
        burst: int = 1,
        methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        """Enforce Slack's per-channel posting budget: beyond ``burst`` messages, a channel
        takes ``per_second``; excess posts get 429 with the wait as ``Retry-After``."""
        with self._cond:
            self._budget = _ChannelBudget(
                per_second=per_second, burst=float(burst), methods=frozenset(methods)
            )

    def clear_faults(self) -> None:
        """Remove faults, delays, chaos and the channel budget (recorded calls stay)."""
        with self._cond:
            self._faults.clear()
            self._delays.clear()
            self._chaos = None
            self._budget = None

    # ------------------------------------------------------------------ request handling

    def _decide(self, method: str, params: dict[str, Any]) -> _Decision:
        """Pick the fault (if any) for a call; consumes one use of the matching fault."""
        with self._cond:
            for fault in self._faults:
                if fault.matches(method, params):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    if fault.kind == "timeout":
                        return _Decision("timeout", 504, fault.error, hang_seconds=fault.seconds)
                    name = fault.error if fault.status == 429 else None
                    if name is None:
                        name = (
                            f"error:{fault.error}"
                            if fault.status == 200
                            else f"http_{fault.status}"
                        )
                    return _Decision(name, fault.status, fault.error, fault.retry_after)
            chaos = self._chaos
            if (
                chaos is not None
                and method not in chaos.exempt
                and (chaos.methods is None or method in chaos.methods)
                and chaos.rng.random() < chaos.rate
            ):
                kind = chaos.rng.choice(chaos.kinds)
                if kind == "ratelimited":
                    return _Decision("chaos:ratelimited", 429, "ratelimited", chaos.retry_after)
                if kind == "timeout":
                    return _Decision(
                        "chaos:timeout", 504, "request_timeout", hang_seconds=chaos.timeout_seconds
                    )
                return _Decision("chaos:http_500", 500, "internal_error")
            budget = self._budget
            if budget is not None and method in budget.methods:
                wait = self._spend_channel_budget(budget, str(params.get("channel", "")))
                if wait > 0:
                    return _Decision("channel_rate", 429, "ratelimited", max(1, math.ceil(wait)))
            for delay in self._delays:
                if delay.matches(method, params):
                    if delay.remaining is not None:
                        delay.remaining -= 1
                    return _Decision(delay_seconds=delay.seconds)
        return _Decision()

    @staticmethod
    def _spend_channel_budget(budget: _ChannelBudget, channel: str) -> float:
        """Token bucket per channel: 0 if a post may go now, else seconds until it may."""
        now = time.monotonic()
        tokens, stamp = budget.buckets.get(channel, (budget.burst, now))
        tokens = min(budget.burst, tokens + (now - stamp) * budget.per_second)
        if tokens >= 1:
            budget.buckets[channel] = (tokens - 1, now)
            return 0.0
        budget.buckets[channel] = (tokens, now)
        return (1 - tokens) / budget.per_second

    def _record(self, call: SlackCall) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _next_ts(self) -> str:
        """Wall-clock time as Slack's are (so `oldest` filters work), strictly increasing."""
        with self._ts_lock:
            self._last_ts_micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 100)
            micros = self._last_ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    @staticmethod
    async def _hold(request: Request, seconds: float) -> bool:
        """Hold a request up to ``seconds``; True if the client hung up meanwhile."""

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        try:
            await asyncio.wait_for(disconnected(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _play(
        self,
        request: Request,
        method: str,
        params: dict[str, Any],
        headers: dict[str, str],
        body: bytes,
        arrived: float,
        target: str | None,
        answer: Callable[[str, dict[str, Any], Mapping[str, str]], tuple[int, dict[str, Any]]],
        text_reply: str | None = None,
    ) -> Response:
        """Apply faults/delays, then answer with ``answer(method, params)`` and record."""
        decision = self._decide(method, params)
        common = {"headers": headers, "at": arrived, "body": body, "target": target}
        if decision.fault is not None:
            payload = {"ok": False, "error": decision.error}
            status = decision.status
            if decision.hang_seconds:
                self._record(
                    SlackCall(method, params, failed=True, fault=decision.fault, status=0, **common)
                )
                if await self._hold(request, decision.hang_seconds):
                    return Response(status_code=499)
                return JSONResponse(payload, status_code=status)
            resp_headers = {"x-oauth-scopes": BOT_SCOPES}
            if decision.retry_after is not None:
                resp_headers["Retry-After"] = str(decision.retry_after)
            self._record(
                SlackCall(
                    method,
                    params,
                    failed=True,
                    fault=decision.fault,
                    status=status,
                    response=payload,
                    **common,
                )
            )
            return JSONResponse(payload, status_code=status, headers=resp_headers)
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        status, payload = answer(method, params, headers)
        failed = not payload.get("ok", False)
        self._record(
            SlackCall(
                method,
                params,
                failed=failed,
                fault=f"error:{payload.get('error')}" if failed else None,
                status=status,
                response=payload,
                **common,
            )
        )
        if text_reply is not None and not failed:
            return PlainTextResponse(text_reply, status_code=status)
        return JSONResponse(payload, status_code=status, headers={"x-oauth-scopes": BOT_SCOPES})

    def _build_app(self) -> Starlette:
        async def api(request: Request) -> Response:
            arrived = time.monotonic()
            method = request.path_params["method"]
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            params = _parse_params(
                request.query_params.multi_items(), body, headers.get("content-type", "")
            )
            return await self._play(
                request, method, params, headers, body, arrived, None, self._answer
            )

        async def response_url(request: Request) -> Response:
            arrived = time.monotonic()
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            params = _parse_params((), body, headers.get("content-type", "") or "application/json")
            return await self._play(
                request,
                "response_url",
                params,
                headers,
                body,
                arrived,
                request.path_params["token"],
                lambda _m, _p, _h: (200, {"ok": True}),
                text_reply="ok",
            )

        async def upload(request: Request) -> Response:
            arrived = time.monotonic()
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            file_id = request.path_params["file_id"]
            return await self._play(
                request,
                "file_upload",
                {"file_id": file_id, "size": len(body)},
                headers,
                body,
                arrived,
                file_id,
                lambda _m, _p, _h: (200, {"ok": True}),
                text_reply=f"OK - {len(body)}",
            )

        async def download(request: Request) -> Response:
            # url_private_download: the bytes, only with a bot token (as on Slack).
            headers = {k.lower(): v for k, v in request.headers.items()}
            file_id = request.path_params["file_id"]
            with self._cond:
                found = self._files.get(file_id)
            denied = self._check_auth({}, headers.get("authorization", ""))
            status = 404 if found is None else 403 if denied else 200
            self._record(
                SlackCall(
                    "file_download",
                    {"file_id": file_id},
                    headers=headers,
                    at=time.monotonic(),
                    failed=status != 200,
                    status=status,
                    target=file_id,
                )
            )
            if found is None or denied:
                return PlainTextResponse("no", status_code=status)
            return Response(found[1], media_type="application/octet-stream")

        return Starlette(
            routes=[
                Route("/api/{method:path}", api, methods=["GET", "POST"]),
                Route("/response_url/{token:path}", response_url, methods=["POST"]),
                Route("/upload/{file_id}", upload, methods=["POST"]),
                Route("/files/{file_id}/{name}", download, methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------------ Web API answers

    def _check_auth(self, params: dict[str, Any], auth_header: str) -> str | None:
        """Slack's answer to a missing or wrong token, or None when the token is fine."""
        token = auth_header[7:].strip() if auth_header.lower().startswith("bearer ") else None
        token = token or params.get("token")
        if not token:
            return "not_authed"
        if self.expected_token is not None and token != self.expected_token:
            return "invalid_auth"
        return None

    def _answer(
        self, method: str, params: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """The answer to a Web API call that passed fault injection: auth first, then the
        method's own checks and result (a catch-all ``ok`` for methods not modelled)."""
        auth_error = self._check_auth(params, headers.get("authorization", ""))
        if auth_error is not None:
            return 200, {"ok": False, "error": auth_error}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": True}
        return 200, handler(params)

    # Each _m_<method> returns the JSON body for a call that passed fault injection.

    def _m_api_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in p.items() if k != "token"}}

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
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

    @staticmethod
    def _dm_channel(user: str) -> str:
        return "D" + user

    def _m_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
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
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = self._dm_channel(ids[0]) if len(ids) == 1 else "G" + "".join(ids)[:20]
        channel: dict[str, Any] = {"id": channel_id}
        if str(p.get("return_im", "")).lower() in ("1", "true"):
            channel.update({"is_im": len(ids) == 1, "user": ids[0], "created": 1700000000})
        return {"ok": True, "no_op": True, "already_open": True, "channel": channel}

    def _resolve_channel(self, channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as on Slack."""
        if channel[:1] in ("U", "W"):
            return self._dm_channel(channel)
        return channel

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            return {"ok": False, "error": "no_text"}
        channel = self._resolve_channel(channel)
        ts = self._next_ts()
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
        with self._cond:
            self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        """Newest first; `metadata` only with include_all_metadata, as on Slack."""
        channel = self._resolve_channel(str(p.get("channel") or ""))
        oldest = float(p.get("oldest") or 0)
        limit = int(p.get("limit") or 100)
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._cond:
            found = [
                {
                    k: v
                    for k, v in message.items()
                    if not k.startswith("_") and (with_metadata or k != "metadata")
                }
                for (where, ts), message in self._messages.items()
                if where == channel and float(ts) >= oldest and not message.get("_deleted")
            ]
        found.sort(key=lambda message: float(message["ts"]), reverse=True)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(p.get("channel") or ""), str(p.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        channel = self._resolve_channel(channel)
        with self._cond:
            message = self._messages.get((channel, ts))
            if message is None or message.get("_deleted"):
                if self.strict_messages:
                    return {"ok": False, "error": "message_not_found"}
                message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts}
                self._messages[(channel, ts)] = message
            for key in ("text", "blocks", "attachments", "metadata"):
                if key in p:
                    message[key] = p[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
            snapshot = {k: v for k, v in message.items() if not k.startswith("_")}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": snapshot.get("text", ""),
            "message": snapshot,
        }

    def _m_chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(p.get("channel") or ""))
        ts = str(p.get("ts") or "")
        with self._cond:
            message = self._messages.get((channel, ts))
            if message is None:
                if self.strict_messages:
                    return {"ok": False, "error": "message_not_found"}
            else:
                message["_deleted"] = True
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(p.get("channel", "")), str(p.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p"
            + ts.replace(".", ""),
        }

    def _store_view(self, view: Any, view_id: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(view, dict):
            view = {}
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
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            **extra,
        }
        with self._cond:
            self._views[view_id] = stored
        return stored

    def _m_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = str(p.get("user_id") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(p.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        with self._cond:
            view_id = self._home_views.get(user) or self._next_id("VH")
            self._home_views[user] = view_id
        return {"ok": True, "view": self._store_view(p["view"], view_id, {"type": "home"})}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id") and not p.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(p.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._store_view(p["view"], self._next_id("VM"), {})}

    def _m_views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._m_views_open(p)

    def _m_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(p.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = str(p.get("view_id") or "")
        external_id = p.get("external_id")
        with self._cond:
            if not view_id and external_id:
                view_id = next(
                    (k for k, v in self._views.items() if v.get("external_id") == external_id), ""
                )
            if not view_id:
                return {"ok": False, "error": "not_found"}
            if view_id not in self._views and self.strict_messages:
                return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": self._store_view(p["view"], view_id, {})}

    def _user(self, user_id: str) -> dict[str, Any]:
        with self._cond:
            found = self._users.get(user_id)
        return found if found is not None else self._user_object(user_id)

    def _m_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = str(p.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user(user_id)}

    def _m_users_profile_get(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = str(p.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        with self._cond:
            status = self._statuses.get(user_id, {})
        empty = {"status_text": "", "status_emoji": "", "status_expiration": 0}
        return {"ok": True, "profile": {**self._user(user_id)["profile"], **empty, **status}}

    def _m_dnd_info(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            dnd = self._dnd.get(str(p.get("user") or ""))
        return {"ok": True, **(dnd or {"dnd_enabled": False, "snooze_enabled": False})}

    def _m_users_getPresence(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            presence = self._presence.get(str(p.get("user") or ""), "active")
        return {"ok": True, "presence": presence}

    def _m_users_lookupByEmail(self, p: dict[str, Any]) -> dict[str, Any]:
        email = str(p.get("email") or "").strip().lower()
        with self._cond:
            for user in self._users.values():
                if user["profile"]["email"].lower() == email:
                    return {"ok": True, "user": user}
        local, _, domain = email.partition("@")
        guess = local.upper()
        if domain == "example.com" and guess[:1] in ("U", "W") and guess.isalnum():
            return {"ok": True, "user": self._user_object(guess)}
        return {"ok": False, "error": "users_not_found"}

    def _m_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            members = list(self._users.values())
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_group": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_private": not channel.startswith("C"),
                "is_member": True,
                "is_archived": False,
            },
        }

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("filename") or not p.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        return {
            "ok": True,
            "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files],
        }

    def add_file(self, name: str, content: bytes, *, size: int | None = None) -> dict[str, Any]:
        """A file as if a user had uploaded it (e.g. in a modal's ``file_input``):
        ``files.info`` describes it, and its ``url_private_download`` serves ``content``
        to a request with a bot token. ``size`` overrides the size Slack reports."""
        file_id = self._next_id("F")
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": "text/plain",
            "filetype": name.rpartition(".")[2],
            "size": len(content) if size is None else size,
            "url_private": f"{self.root_url}/files/{file_id}/{name}",
            "url_private_download": f"{self.root_url}/files/{file_id}/{name}",
        }
        with self._cond:
            self._files[file_id] = (info, content)
        return info

    def _m_files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            found = self._files.get(str(p.get("file") or ""))
        if found is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": found[0]}
