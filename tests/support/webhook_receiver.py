"""A webhook receiver on loopback for tests: verifies each delivery's Standard Webhooks
signature, answers as scripted or at random (5xx, 429 with Retry-After, slow answers past
the sender's timeout), and records everything it was sent.

Like a real receiver it keeps what it accepted even when it answered too late for the
sender, so a test sees the repeats at-least-once delivery makes and checks that
`webhook-id` tells them apart.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXdlYmhvb2tzLTMyYnl0ZXM="  # base64 of 32 bytes


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: str
    verified: bool
    body: dict[str, Any]
    status: int  # what the receiver answered
    at: float  # monotonic, when it answered

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def lead_id(self) -> str | None:
        return self.body.get("data", {}).get("id")


@dataclass
class Chaos:
    """Per request, at random: fail with 500, answer 429, or answer after `slow` seconds."""

    fail: float = 0.0
    throttle: float = 0.0
    timeout: float = 0.0
    slow: float = 2.0
    seed: int = 7


class WebhookReceiver:
    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self.port = 0
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: list[Callable[[], tuple[int, float, dict[str, str]]]] = []
        self._chaos: Chaos | None = None
        self._rng = random.Random(0)
        self._down = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ behaviour

    def answer(self, status: int, *, after: float = 0.0, retry_after: int | None = None) -> None:
        """The next request gets this answer (scripted answers go first, in order)."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._script.append(lambda: (status, after, headers))

    def chaos(self, chaos: Chaos | None) -> None:
        with self._lock:
            self._chaos = chaos
            self._rng = random.Random(chaos.seed if chaos else 0)

    def down(self, down: bool = True) -> None:
        """Answer every request with 503 (a dead endpoint) until called with False."""
        with self._lock:
            self._down = down

    def _next(self) -> tuple[int, float, dict[str, str]]:
        with self._lock:
            if self._script:
                return self._script.pop(0)()
            if self._down:
                return 503, 0.0, {}
            chaos, roll = self._chaos, self._rng.random()
        if chaos is None:
            return 200, 0.0, {}
        if roll < chaos.fail:
            return 500, 0.0, {}
        if roll < chaos.fail + chaos.throttle:
            return 429, 0.0, {"retry-after": "1"}
        if roll < chaos.fail + chaos.throttle + chaos.timeout:
            return 200, chaos.slow, {}
        return 200, 0.0, {}

    # ------------------------------------------------------------ what arrived

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def accepted(self) -> list[Received]:
        """Deliveries answered 2xx, the first of each `webhook-id` only, in arrival order."""
        seen: set[str] = set()
        first = []
        for item in self.received():
            if 200 <= item.status < 300 and item.webhook_id not in seen:
                seen.add(item.webhook_id)
                first.append(item)
        return first

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(self.accepted()):
                return True
            time.sleep(0.05)
        return done(self.accepted())

    # ------------------------------------------------------------ server

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        status, after, headers = self._next()
        if after:
            await asyncio.sleep(after)
        try:
            Webhook(self.secret).verify(raw, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        item = Received(
            webhook_id=request.headers.get("webhook-id", ""),
            timestamp=request.headers.get("webhook-timestamp", ""),
            verified=verified,
            body=json.loads(raw or b"{}"),
            status=status if verified else 401,
            at=time.monotonic(),
        )
        with self._lock:
            self._received.append(item)
        return Response(f"answer {item.status}", status_code=item.status, headers=headers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()
                sock.close()

        self._thread = threading.Thread(target=run, name="webhook-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
