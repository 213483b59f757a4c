"""Leads from a file in any order, handed on in arrival order with bounded memory.

Why: a replay must see leads in the order they arrived, but an export may list them
newest first or by account, and a year of leads does not fit in memory once parsed.
Sorted runs of `chunk` leads are spilled to private temporary files and merged
(an external merge sort); at most one chunk, plus one lead per run, is in memory.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import IO

from domain.simulation import SimulatedLead, arrival

CHUNK = 20_000


def in_arrival_order(leads: Iterable[SimulatedLead], chunk: int = CHUNK) -> Iterator[SimulatedLead]:
    """`leads` sorted by arrival time, ties by row."""
    with ExitStack() as files:
        runs: list[IO[bytes]] = []
        buffer: list[SimulatedLead] = []
        for lead in leads:
            buffer.append(lead)
            if len(buffer) >= chunk:
                runs.append(_spill(buffer, files.enter_context(tempfile.TemporaryFile())))
                buffer.clear()
        buffer.sort(key=arrival)
        yield from heapq.merge(*map(_read, runs), buffer, key=arrival)


def _spill(run: list[SimulatedLead], handle: IO[bytes]) -> IO[bytes]:
    """The run, sorted, in an unnamed temporary file (gone when closed or on exit)."""
    for lead in sorted(run, key=arrival):
        pickle.dump(lead, handle, pickle.HIGHEST_PROTOCOL)
    handle.seek(0)
    return handle


def _read(handle: IO[bytes]) -> Iterator[SimulatedLead]:
    while True:
        try:
            yield pickle.load(handle)
        except EOFError:
            return
