"""The record of every request the local workspace received, and waiting on it.

Why: tests (and the demo page) prove what the app did by what reached Slack: which
method, with what arguments, whether it was delivered or refused. Waiting on that record
replaces sleeps ("wait for the first successful post"), and the failure message lists
the calls seen so a red test explains itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CallLog", "SlackCall", "SlackWaitTimeout"]


class SlackWaitTimeout(AssertionError):
    """Raised by ``wait_for`` when the expected calls did not arrive in time.

    An AssertionError so pytest reports it as a test failure with the message in full.
    """


@dataclass(frozen=True)
class SlackCall:
    """One request the workspace received, as a test wants to see it."""

    method: str
    """Web API method (``chat.postMessage``), or ``response_url`` / ``file_upload``."""
    params: dict[str, Any]
    """Query, form or JSON arguments merged; JSON-in-form fields (``blocks``...) decoded."""
    headers: dict[str, str]
    """Request headers, names lower-cased."""
    at: float
    """``time.monotonic()`` when the request arrived."""
    failed: bool = False
    """True when the workspace answered with an injected fault or an error."""
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
        outcome = f"FAILED({self.fault})" if self.failed else "ok"
        if self.fault and not self.failed:
            outcome = f"ok({self.fault})"  # done, but the caller never heard it
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


class CallLog:
    """Calls in arrival order, with blocking and async waits on them."""

    def __init__(self, cond: threading.Condition) -> None:
        self._cond = cond
        self._calls: list[SlackCall] = []

    def clear(self) -> None:
        with self._cond:
            self._calls = []
            self._cond.notify_all()

    def record(self, call: SlackCall) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    @property
    def calls(self) -> list[SlackCall]:
        """A snapshot of every recorded call, in arrival order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str, *, failed: bool | None = None) -> list[SlackCall]:
        """Calls to ``method`` (``*`` for any); ``failed`` filters on the outcome."""
        with self._cond:
            return self._select(method, None, failed)

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
            f"LocalSlack: waited {timeout:g}s for {count} {kind}call(s) to {method}{what}; "
            f"got {got}. Calls seen ({len(seen)}):"
        )
        if not seen:
            return head + "\n  (none: is SLACK_API_URL pointing at this workspace?)"
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
                    raise SlackWaitTimeout(f"LocalSlack: calls kept coming for {timeout:g}s")
                self._cond.wait(timeout=min(quiet - (now - last), deadline - now) + 0.01)
