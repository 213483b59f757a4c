"""`leadrouter import` killed mid-run, then run again: every row stored and queued for
Slack exactly once, on SQLite and PostgreSQL.

Why: a bulk import of thousands of aged leads is exactly what gets interrupted (a
deploy, a closed laptop, an OOM kill); the promise is that running it again is always
safe, whatever instant the first run died at.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.services.configuration import ConfigService
from domain.config import load_config
from harness.app_process import REPO_ROOT
from harness.storage import T0, migrated
from storage import tables as t
from storage.uow import Database

ROWS = 3000
CONFIG = load_config(
    "version: 1\nreps: [{user: U0A}, {user: U0B}]\n"
    "teams: [{name: t, members: [{user: U0A}, {user: U0B}]}]\n"
    "rules: [{name: all, then: {team: t}}]\n"
)


def _write(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "first_name", "lead_type"])
        # Phone only: no email, so only the import's own keys can catch a repeat.
        writer.writerows([f"+1 555 {i:07d}", f"P{i}", "aged"] for i in range(rows))


def _command(db_url: str, path: Path) -> tuple[list[str], dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEADROUTER_"))}
    env.update(LEADROUTER_DATABASE_URL=db_url, PYTHONPATH=str(REPO_ROOT))
    command = [sys.executable, "-m", "bot.cli", "import", str(path)]
    return command, {
        "env": env,
        "cwd": REPO_ROOT,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.PIPE,
    }


def _run(db_url: str, path: Path) -> subprocess.CompletedProcess[bytes]:
    command, options = _command(db_url, path)
    return subprocess.run(command, **options, timeout=300)  # type: ignore[call-overload]


def _import(db_url: str, path: Path) -> subprocess.Popen[bytes]:
    command, options = _command(db_url, path)
    return subprocess.Popen(command, **options)  # type: ignore[call-overload]


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.snapshot() as uow:
        leads = await uow.connection.scalar(select(func.count()).select_from(t.leads))
        keys = await uow.connection.scalar(
            select(func.count(func.distinct(t.leads.c.idempotency_key)))
        )
        cards = await uow.connection.scalar(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.kind == "lead_card")
        )
    return int(leads or 0), int(keys or 0), int(cards or 0)


async def test_an_import_killed_midway_then_rerun_stores_each_row_once(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "aged.csv"
    _write(path, ROWS)
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", T0, "test")

        first = _import(db_url, path)
        deadline = time.monotonic() + 120
        while (await _counts(db))[0] < ROWS // 10:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() < deadline, "the import stored nothing in 2 minutes"
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        stored_before, _, _ = await _counts(db)
        assert stored_before < ROWS, "the import finished before it could be interrupted"

        second = _import(db_url, path)
        _, errors = await asyncio.to_thread(second.communicate, timeout=300)
        assert second.returncode == 0, errors.decode()[-2000:]
        assert await _counts(db) == (ROWS, ROWS, ROWS)


async def test_rerunning_a_corrected_file_stores_only_the_corrected_rows(
    db_url: str, tmp_path: Path
) -> None:
    """The error report's usual sequel: fix the refused rows in the file, import again."""
    path = tmp_path / "aged.csv"
    _write(path, 50)
    lines = path.read_text().splitlines()
    lines[10] = "+1 555 bad,P9,aged"
    path.write_text("\n".join(lines) + "\n")
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", T0, "test")
        first = await asyncio.to_thread(_run, db_url, path)
        assert first.returncode == 1  # one row refused, reported
        assert (await _counts(db))[0] == 49
        lines[10] = "+1 555 0000009,P9,aged"
        path.write_text("\n".join(lines) + "\n")
        second = await asyncio.to_thread(_run, db_url, path)
        assert second.returncode == 0, second.stderr.decode()[-2000:]
        assert await _counts(db) == (50, 50, 50)
