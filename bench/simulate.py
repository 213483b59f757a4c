"""`leadrouter simulate` at scale: leads per second and peak memory for a CSV of 100,000
leads and of 1,000,000, each run in a fresh child process, with the 1 M run's ratios
against the 100 k run of the same invocation.

Run: `python -m bench.simulate [--leads 100000 1000000] [--newest-first] [--seed 7]`.

Each child runs the command as the CLI does (`simulate_command`, printing to /dev/null)
over a CSV written here: the 50-rule, 200-rep configuration of `bench/routing.py` as the
candidate, a reweighted copy as the live one, a lead every 26 s, open for three days.
Peak RSS is the child's `ru_maxrss` from `wait4`, so it includes the interpreter, the
imports and the configuration (measured alone as the `0 leads` floor). Flat memory
means the 1 M run's peak stays near the 100 k run's; leads/s is the whole command,
CSV parsing and validation included.

Target (issue 20): 1,000,000 leads in under 60 s with flat memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.common import machine_line, start_report
from bench.routing import COUNTRIES, INDUSTRIES, SOURCES, START, STATES, build_config

SPACING = timedelta(seconds=26)
COLUMNS = (
    "email",
    "country",
    "state",
    "industry",
    "employees",
    "score",
    "source",
    "product_interest",
    "plan",
    "created_at",
)


def write_csv(path: Path, count: int, seed: int, newest_first: bool = False) -> None:
    """`count` leads like `bench.routing.make_leads`, written row by row; `newest_first`
    lists them as many exports do, so the command must sort them (on disk) first."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(count):
            domain = f"account{rng.randrange(50)}.com" if rng.random() < 0.05 else "prospect.io"
            writer.writerow(
                (
                    f"lead{index}@{domain}",
                    rng.choice(COUNTRIES),
                    rng.choice(STATES),
                    rng.choice(INDUSTRIES),
                    rng.choice([5, 40, 120, 300, 800, 5000]),
                    rng.randint(0, 100),
                    rng.choice(SOURCES),
                    rng.choice(["api", "analytics suite", "crm"]),
                    rng.choice(["free", "pro", "enterprise"]),
                    (START + SPACING * (count - 1 - index if newest_first else index)).isoformat(),
                )
            )


def child(csv_path: Path, seed: int) -> None:
    """One run of the command, as `leadrouter simulate --config candidate` runs it."""
    from rich.console import Console

    from bot.simulate_command import simulate_command

    candidate = build_config(random.Random(seed))
    live = build_config(random.Random(seed), weight_shift=1)
    if not csv_path.name.startswith("0-"):
        with open(os.devnull, "w") as sink:
            began = time.perf_counter()
            simulate_command(
                csv_path, candidate, live, Console(file=sink), START, open_for=timedelta(days=3)
            )
            print(f"{time.perf_counter() - began:.3f}")
    else:
        print("0")


def run_child(csv_path: Path, seed: int) -> tuple[float, float, float]:
    """Wall seconds of the command, CPU seconds of the child and its peak RSS in MB."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.simulate", "--child", str(csv_path), "--seed", str(seed)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the child failed with exit code {process.returncode}")
    return float(output), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--newest-first", action="store_true", help="rows in reverse order")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seed)
        return
    workdir = start_report("simulate: leads/s and peak RSS per run", "bench-simulate-")
    runs: list[tuple[int, float, float, float]] = []
    for count in [0, *args.leads]:
        path = workdir / f"{count}-leads.csv"
        write_csv(path, count, args.seed, args.newest_first)
        wall, cpu, peak = run_child(path, args.seed)
        path.unlink()
        runs.append((count, wall, cpu, peak))
        rate = f"{count / wall:9,.0f} leads/s" if count else " " * 16
        print(
            f"{count:>9,} leads: {wall:6.1f} s wall, {cpu:6.1f} s CPU, {rate}, "
            f"peak RSS {peak:7.1f} MB  ({machine_line().split(', load ')[1]} load)"
        )
    if len(runs) > 2:
        base_count, base_wall, _, base_peak = runs[1]
        for count, wall, _, peak in runs[2:]:
            print(
                f"{count:,} vs {base_count:,} leads: {count / base_count:.0f}x the leads, "
                f"{wall / base_wall:.2f}x the time, {peak / base_peak:.2f}x the peak RSS "
                f"(target: under 60 s, flat memory)"
            )
    workdir.rmdir()


if __name__ == "__main__":
    main()
