"""`simulate` streams: the same report as the in-memory replay it replaced, and memory
that does not grow with the number of leads.

The golden reports in `simulate_golden/` were printed by the in-memory implementation
(every lead parsed into a list, sorted, replayed, then summarised) for the seeded files
below; the streaming command must print them byte for byte. Regenerate them only for a
deliberate change of the report: `SIMULATE_GOLDEN=write pytest` on this file.
"""

from __future__ import annotations

import io
import os
import random
import tracemalloc
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from bot.arrival_order import in_arrival_order
from bot.simulate_command import simulate_command
from domain.config import Config, validate_config
from domain.lead import parse_lead
from domain.simulation import SimulatedLead
from tests.bot.test_simulate_command import NOW

GOLDEN = Path(__file__).parent / "simulate_golden"
REPS = [f"U0REP{index}" for index in range(6)]
LEAD = parse_lead({"email": "a@b.io"})


def candidate(shift: int = 0) -> Config:
    """Two push teams (weighted and least loaded, capped), a pull team, an experiment."""
    return validate_config(
        {
            "reps": [
                {"user": user, "capacity": 40 + 10 * index} for index, user in enumerate(REPS)
            ],
            "teams": [
                {
                    "name": "pro",
                    "strategy": "weighted",
                    "members": [
                        {"user": user, "weight": 1 + (index + shift) % 3}
                        for index, user in enumerate(REPS[:3])
                    ],
                },
                {
                    "name": "smb",
                    "strategy": "least_loaded",
                    "members": [{"user": user} for user in REPS[3:]],
                },
                {
                    "name": "pool",
                    "method": "pull",
                    "channel": "C0POOL",
                    "members": [{"user": REPS[0]}],
                },
            ],
            "rules": [
                {"name": "pro plan", "when": {"attributes.plan": "pro"}, "then": {"team": "pro"}},
                {"name": "big", "when": {"employees": {"gte": 500}}, "then": {"team": "pool"}},
                {"name": "small", "when": {"employees": {"lt": 50}}, "then": {"team": "smb"}},
                {"name": "rest", "then": {"team": "pro"}},
            ],
            "experiments": [
                {
                    "name": "pro-to-smb",
                    "segment": {"attributes.plan": "pro"},
                    "arms": [{"name": "A"}, {"name": "B", "team": "smb"}],
                    "split": [70, 30],
                    "state": "running",
                    "start": "2026-01-01",
                    "end": "2027-01-01",
                }
            ],
        }
    )


def random_csv(path: Path, count: int, seed: int, *, shuffled: bool) -> Path:
    """`count` leads over ten days, about 2% of rows refused; in arrival order or shuffled.
    No two at the same second: the in-memory replay reused a rep's verdict within a
    second, after their capacity had filled (see test_simulation)."""
    rng = random.Random(seed)
    rows = []
    seconds = rng.sample(range(0, 864_000, 30), count)
    for index in range(count):
        at = NOW - timedelta(days=10) + timedelta(seconds=seconds[index])
        email = f"lead{index}@x{rng.randrange(9)}.io" if rng.random() > 0.01 else "not-an-email"
        when = at.isoformat() if rng.random() > 0.01 else "yesterday"
        plan = rng.choice(["pro", "free", "team"])
        employees = rng.choice(["5", "120", "900", ""])
        rows.append((at, f"{email},{employees},{plan},{when}\n"))
    if not shuffled:
        rows.sort(key=lambda row: row[0])
    path.write_text("email,employees,plan,created_at\n" + "".join(row for _, row in rows))
    return path


def report(path: Path, *, show_all: bool = False) -> tuple[int, str]:
    output = io.StringIO()
    console = Console(file=output, width=200, color_system=None)
    code = simulate_command(
        path,
        candidate(),
        candidate(shift=1),
        console,
        NOW,
        show_all=show_all,
        open_for=timedelta(days=2),
    )
    return code, output.getvalue().replace(str(path), "leads.csv")


@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled"])
def test_the_report_is_the_one_the_in_memory_replay_printed(tmp_path: Path, shuffled: bool) -> None:
    name = "shuffled" if shuffled else "in_order"
    code, text = report(random_csv(tmp_path / "leads.csv", 3000, 11, shuffled=shuffled))
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("SIMULATE_GOLDEN") == "write":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(f"exit {code}\n{text}")
    assert f"exit {code}\n{text}" == golden.read_text()


def test_a_shuffled_file_sorted_on_disk_in_many_runs_gives_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "bot.simulate_command.in_arrival_order", partial(in_arrival_order, chunk=256)
    )
    code, text = report(random_csv(tmp_path / "leads.csv", 3000, 11, shuffled=True))
    assert f"exit {code}\n{text}" == (GOLDEN / "shuffled.txt").read_text()


def peak_bytes(path: Path) -> int:
    tracemalloc.start()
    try:
        report(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled"])
def test_memory_does_not_grow_with_the_number_of_leads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shuffled: bool
) -> None:
    """Five times the leads, not five times the memory: the in-memory replay held about
    5 KB per lead. What may grow is the leads open at once (both files span ten days)
    and, for a shuffled file sorted in runs of 200, one lead and a buffer per run."""
    monkeypatch.setattr(
        "bot.simulate_command.in_arrival_order", partial(in_arrival_order, chunk=200)
    )
    small = peak_bytes(random_csv(tmp_path / "small.csv", 600, 5, shuffled=shuffled))
    large = peak_bytes(random_csv(tmp_path / "large.csv", 3000, 5, shuffled=shuffled))
    assert (large - small) / (3000 - 600) < 500


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=60), st.integers(1, 7))
def test_leads_come_back_in_arrival_order_whatever_the_runs(minutes: list[int], chunk: int) -> None:
    items = [
        SimulatedLead(row, LEAD, NOW + timedelta(minutes=minute))
        for row, minute in enumerate(minutes, start=2)
    ]
    ordered = list(in_arrival_order(iter(items), chunk=chunk))
    assert [(i.at, i.row) for i in ordered] == sorted((i.at, i.row) for i in items)
