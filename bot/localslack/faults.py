"""Faults the local workspace plays on purpose: errors, 429s, hangs, slowness, chaos.

Why: the promises that matter (a notification delayed but never lost nor doubled) are
only proven against the failures Slack really produces: 429 with ``Retry-After``,
``ok: false`` errors, 5xx, slow or hung responses, and the per-channel posting budget.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decision", "FaultPlan", "ParamsPredicate"]

# Predicate over a call's parsed params, used to aim a fault at some calls only.
ParamsPredicate = Callable[[dict[str, Any]], bool]


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

    def use(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class _Fault(_Aimed):
    """An injected failure waiting for matching calls."""

    method: str
    kind: str  # "http" (status + error), "timeout", or "reset" (done, answer lost)
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

    def spend(self, channel: str) -> float:
        """Token bucket per channel: 0 if a post may go now, else seconds until it may."""
        now = time.monotonic()
        tokens, stamp = self.buckets.get(channel, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.per_second)
        if tokens >= 1:
            self.buckets[channel] = (tokens - 1, now)
            return 0.0
        self.buckets[channel] = (tokens, now)
        return (1 - tokens) / self.per_second


@dataclass
class Decision:
    """What to do with one request: answer normally, or which fault to play."""

    fault: str | None = None
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    hang_seconds: float = 0.0
    delay_seconds: float = 0.0
    reset_after: bool = False
    """Carry the call out, then cut the connection: the caller never hears it landed."""
    reset_before: bool = False
    """Cut the connection at once: nothing was done."""


class FaultPlan:
    """The faults, delays, chaos and channel budget waiting for calls."""

    def __init__(self, lock: threading.RLock | threading.Condition) -> None:
        self._lock = lock
        self.clear()

    def clear(self) -> None:
        """Remove faults, delays, chaos and the channel budget."""
        with self._lock:
            self._faults: list[_Fault] = []
            self._delays: list[_Delay] = []
            self._chaos: _Chaos | None = None
            self._budget: _ChannelBudget | None = None

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

        ``times=None`` keeps failing until :meth:`clear`. ``when`` narrows it to
        calls whose params match (e.g. ``lambda p: p.get("channel") == "C1"``).
        """
        if error is None:
            error = {429: "ratelimited", 200: "fatal_error"}.get(status, "internal_error")
        fault = _Fault(
            method=method,
            kind="http",
            status=status,
            error=error,
            retry_after=retry_after if status == 429 else None,
            remaining=times,
            when=when,
        )
        with self._lock:
            self._faults.append(fault)

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
        fault = _Fault(
            method=method,
            kind="timeout",
            status=504,
            error="request_timeout",
            retry_after=None,
            remaining=times,
            when=when,
            seconds=seconds,
        )
        with self._lock:
            self._faults.append(fault)

    def lose_answer(
        self,
        method: str,
        *,
        times: int | None = 1,
        when: ParamsPredicate | None = None,
    ) -> None:
        """Carry out the next ``times`` calls (the message is posted), then reset the
        connection before answering: the caller sees a network error for a call that
        landed, as when a connection drops after the request went out."""
        self._add_reset(method, "reset", times, when)

    def drop(
        self,
        method: str,
        *,
        times: int | None = 1,
        when: ParamsPredicate | None = None,
    ) -> None:
        """Reset the connection of the next ``times`` calls before doing anything (nothing
        is posted): the caller sees a network error, as when a connection drops."""
        self._add_reset(method, "drop", times, when)

    def _add_reset(
        self, method: str, kind: str, times: int | None, when: ParamsPredicate | None
    ) -> None:
        fault = _Fault(
            method=method,
            kind=kind,
            status=0,
            error="connection_reset",
            retry_after=None,
            remaining=times,
            when=when,
        )
        with self._lock:
            self._faults.append(fault)

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
        with self._lock:
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
        with self._lock:
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
        with self._lock:
            self._budget = _ChannelBudget(
                per_second=per_second, burst=float(burst), methods=frozenset(methods)
            )

    def decide(self, method: str, params: dict[str, Any]) -> Decision:
        """Pick the fault (if any) for a call; consumes one use of the matching fault."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, params):
                    fault.use()
                    return self._fault_decision(fault)
            chaos = self._chaos
            if (
                chaos is not None
                and method not in chaos.exempt
                and (chaos.methods is None or method in chaos.methods)
                and chaos.rng.random() < chaos.rate
            ):
                return self._chaos_decision(chaos)
            budget = self._budget
            if budget is not None and method in budget.methods:
                wait = budget.spend(str(params.get("channel", "")))
                if wait > 0:
                    return Decision("channel_rate", 429, "ratelimited", max(1, math.ceil(wait)))
            for delay in self._delays:
                if delay.matches(method, params):
                    delay.use()
                    return Decision(delay_seconds=delay.seconds)
        return Decision()

    @staticmethod
    def _fault_decision(fault: _Fault) -> Decision:
        if fault.kind == "timeout":
            return Decision("timeout", 504, fault.error, hang_seconds=fault.seconds)
        if fault.kind == "reset":
            return Decision(reset_after=True)
        if fault.kind == "drop":
            return Decision("connection_reset", 0, "connection_reset", reset_before=True)
        if fault.status == 429:
            name = fault.error
        elif fault.status == 200:
            name = f"error:{fault.error}"
        else:
            name = f"http_{fault.status}"
        return Decision(name, fault.status, fault.error, fault.retry_after)

    @staticmethod
    def _chaos_decision(chaos: _Chaos) -> Decision:
        kind = chaos.rng.choice(chaos.kinds)
        if kind == "ratelimited":
            return Decision("chaos:ratelimited", 429, "ratelimited", chaos.retry_after)
        if kind == "timeout":
            return Decision(
                "chaos:timeout", 504, "request_timeout", hang_seconds=chaos.timeout_seconds
            )
        return Decision("chaos:http_500", 500, "internal_error")
