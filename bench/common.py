"""What every benchmark prints first: the machine its figures were measured on (they
mean little without it). Benchmarks run from the repository root as modules,
`python -m bench.NAME`, so they import the product and the harness as installed packages
would be: no path edits."""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
from pathlib import Path


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": str(usable),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "tmp filesystem": _filesystem(Path(tempfile.gettempdir())),
        "load average": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def start_report(title: str, workdir_prefix: str) -> Path:
    """A fresh work dir, and the report's head: the title, the machine, the work dir."""
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix))
    print(title)
    for key, value in machine().items():
        print(f"   {key:15} {value}")
    print(f"   work dir        {workdir}")
    return workdir


def machine_line() -> str:
    facts = machine()
    return (
        f"machine: {facts['nproc']} cores, {facts['cpu']}, {facts['python']}, "
        f"{facts['os']}, load {facts['load average']}"
    )


def _filesystem(path: Path) -> str:
    """The mount (and its type) a path lives on: fsync cost depends on it."""
    best = ("?", "?")
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if (
                len(parts) >= 3
                and str(path.resolve()).startswith(parts[1])
                and (best[0] == "?" or len(parts[1]) >= len(best[0]))
            ):
                best = (parts[1], parts[2])
    return f"{path} on {best[0]} ({best[1]})"
