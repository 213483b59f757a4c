"""One facade over the local Slack workspace: start it, point the app at it, read what a
person would see, inject Slack's faults, and act as a person.

Why: the app talks to Slack only through slack_sdk's ``AsyncWebClient``, whose
``base_url`` comes from ``SLACK_API_URL``. Pointing it here runs the real app (in process
or as a subprocess) with no network: tests record every call and inject the faults Slack
really produces; the demo shows the workspace as a person would. The server is starlette
+ uvicorn on a free port in a background thread with its own event loop, so sync code,
async code and other processes can all use it::

    with LocalSlack() as slack:
        env["SLACK_API_URL"] = slack.url           # http://127.0.0.1:PORT/api/
        slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
        ...
        (call,) = slack.wait_for("chat.postMessage")   # the first *successful* post
        assert len(slack.calls_to("chat.postMessage")) == 3  # two 429s + one delivery
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from .calls import CallLog
from .faults import FaultPlan
from .http import build_http_app
from .identity import BOT_USER_ID
from .manifest import AppManifest
from .person import Person
from .rules import Rules
from .webapi import WebApi
from .workspace import Channel, Workspace, dm_channel_id

__all__ = ["LocalSlack"]


def _free_socket(host: str, port: int) -> socket.socket:
    """Bind a listening socket (port 0: the OS picks a free one) to hand to uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class LocalSlack:
    """A recording, fault-injecting Slack workspace served on ``127.0.0.1``.

    Use it as a context manager or call :meth:`start` and :meth:`stop`. ``token``, when
    given, is the only bot token accepted (others get ``invalid_auth``); any token is
    accepted otherwise, but a call with none gets ``not_authed`` as on real Slack.
    ``strict_messages=True`` makes ``chat.update``/``chat.delete`` of a message never
    posted answer ``message_not_found``.

    Strict by default: the app gets only what ``manifest`` (the repository's
    ``manifest.yml`` by default) grants, posts and reads only where the bot may, and
    Block Kit within Slack's limits (:mod:`.rules`); ``relax`` names rules to turn off.

    The parts are public for code that wants one job: ``log`` (recorded calls),
    ``faults`` (injection), ``workspace`` (state) and ``api`` (the Web API methods).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        strict_messages: bool = False,
        manifest: AppManifest | Path | str | None = None,
        relax: Iterable[str] = (),
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        cond = threading.Condition(threading.RLock())
        self.log = CallLog(cond)
        self.faults = FaultPlan(cond)
        self.workspace = Workspace(cond)
        self.manifest = (
            manifest if isinstance(manifest, AppManifest) else AppManifest.load(manifest)
        )
        self.rules = Rules(self.manifest, self.workspace, relax)
        self.api = WebApi(
            self.workspace,
            self.rules,
            lambda: self.root_url,
            expected_token=token,
            strict_messages=strict_messages,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        # The parts' own methods, on the facade (one name per job, no wrappers).
        self.calls_to = self.log.calls_to
        self.wait_for = self.log.wait_for
        self.wait_for_async = self.log.wait_for_async
        self.settle = self.log.settle
        self.fail = self.faults.fail
        self.hang = self.faults.hang
        self.lose_answer = self.faults.lose_answer
        self.drop = self.faults.drop
        self.delay = self.faults.delay
        self.chaos = self.faults.chaos
        self.limit_channel_rate = self.faults.limit_channel_rate
        self.message = self.workspace.message
        self.home_view = self.workspace.home_view
        self.view = self.workspace.view
        self.modals = self.workspace.modals
        self.add_user = self.workspace.add_user
        self.add_channel = self.workspace.add_channel
        self.relax = self.rules.relax
        self.enforce = self.rules.enforce

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start serving in a background thread; returns once the port accepts requests."""
        if self._thread is not None:
            return self
        sock = _free_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_http_app(self.api, self.log, self.faults, lambda: self.manifest.scopes_header),
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
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"local-slack-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("LocalSlack: the server thread did not start")
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
        self.log.clear()
        self.faults.clear()
        self.workspace.clear()

    # ------------------------------------------------------------------ addresses

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        if not self.port:
            raise RuntimeError("LocalSlack is not started")
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
    def calls(self) -> list[Any]:
        """Every recorded :class:`SlackCall`, in arrival order."""
        return self.log.calls

    def delivered(self, method: str) -> list[Any]:
        """Successful calls to ``method``: what really reached the workspace."""
        return self.log.calls_to(method, failed=False)

    def failures(self, method: str = "*") -> list[Any]:
        """Faulted or refused calls to ``method``."""
        return self.log.calls_to(method, failed=True)

    def clear_faults(self) -> None:
        """Remove faults, delays, chaos and the channel budget (recorded calls stay)."""
        self.faults.clear()

    # ------------------------------------------------------------------ workspace state

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted and not deleted, oldest first, each with its ``channel``."""
        return self.workspace.list_messages(channel)

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        """The bot's DMs with ``user_id``, oldest first."""
        return self.workspace.list_messages(dm_channel_id(user_id))

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict]:
        """Ephemeral messages shown to ``user`` (in ``channel``), oldest first."""
        return self.workspace.list_ephemerals(user, channel)

    def channels(self) -> list[Channel]:
        """Every channel the workspace knows (named in a call or added), DMs included."""
        with self.workspace.lock:
            return list(self.workspace.channels.values())

    def invite(self, channel: str, user: str = BOT_USER_ID) -> Channel:
        """``/invite``: add ``user`` (the bot by default) to ``channel``."""
        return self.workspace.add_channel(channel, members={user})

    def person(self, user_id: str, events_url: str, signing_secret: str) -> Person:
        """``user_id`` acting on the app at ``events_url`` (its ``/slack/events``)."""
        return Person(self, user_id, events_url, signing_secret)

    def add_file(self, name: str, content: bytes, *, size: int | None = None) -> dict[str, Any]:
        """A file as if a user had uploaded it (e.g. in a modal's ``file_input``):
        ``files.info`` describes it, and its ``url_private_download`` serves ``content``
        to a request with a bot token. ``size`` overrides the size Slack reports."""
        file_id = self.workspace.next_id("F")
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
        with self.workspace.lock:
            self.workspace.files[file_id] = (info, content)
        return info
