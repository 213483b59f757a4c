"""A small cache keyed by an object's identity, for plans compiled from a configuration.

A Config (or a scoring model) is treated as immutable once used, and admin changes build
a new object, so the object itself is the key. Holding the object beside its plan keeps
its id from being reused while the entry lives; the oldest entry goes first when full."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

SourceT = TypeVar("SourceT")
PlanT = TypeVar("PlanT")


class IdentityCache(Generic[SourceT, PlanT]):
    def __init__(self, build: Callable[[SourceT], PlanT], size: int = 16):
        self._build = build
        self._size = size
        self._entries: dict[int, tuple[SourceT, PlanT]] = {}

    def __call__(self, source: SourceT) -> PlanT:
        """The plan for this very object, built on first use and then reused."""
        cached = self._entries.get(id(source))
        if cached is not None and cached[0] is source:
            return cached[1]
        plan = self._build(source)
        if len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        self._entries[id(source)] = (source, plan)
        return plan
