"""Group commit: calls that arrive while a transaction is being written wait and are
written together in the next one. Alone, a call is written at once; under load, the
cost of a transaction (SQLite's write lock and fsync, a PostgreSQL lock, the async
round trips) is shared. Every caller is answered only after the commit that holds its
item, so durability is per item, exactly as with one transaction each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`write` gets a batch and returns, per item, its result or the error refusing that
    item alone (the rest of the batch commits)."""

    def __init__(
        self, write: Callable[[list[T]], Awaitable[list[R | Exception]]], max_batch: int = 64
    ):
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; return once it is committed."""
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="group-commit")
        return await answer

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            await self._write_batch(batch)

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._write([item for item, _answer in batch])
        except Exception as error:
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            # One bad item (or a unique-key race with another replica) fails only itself.
            log.warning("a batch of %d failed (%r); writing one by one", len(batch), error)
            for single in batch:
                await self._write_batch([single])
            return
        for (_item, answer), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)
