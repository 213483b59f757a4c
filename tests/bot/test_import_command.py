"""`leadrouter import FILE.csv`: rows become leads through the intake path, bad rows are
reported by row number, and running it again stores nothing twice."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from bot.import_command import import_command
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from domain.config import load_config
from storage import tables as t
from storage.migrate import upgrade_to_head
from storage.uow import Database

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CONFIG = load_config(
    "version: 1\nreps: [{user: U0A}, {user: U0B}]\n"
    "teams: [{name: t, members: [{user: U0A}, {user: U0B}]}]\n"
    "rules: [{name: all, then: {team: t}}]\n"
)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


async def run(db: Database, path: Path) -> tuple[int, str]:
    configs = ConfigService()
    intake = IntakeService(db, configs, lambda: NOW, lambda: None)
    output = io.StringIO()
    code = await import_command(
        path, intake, CONFIG.lead_types(), "csv_import", Console(file=output, width=200)
    )
    return code, output.getvalue()


async def test_import_routes_reports_and_resumes(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}")
    await upgrade_to_head(db.engine)
    async with db.transaction() as uow:
        await ConfigService().save(uow, CONFIG, "test", NOW, "test")
    rows = [{"Email": f"p{i}@x.io", "Lead Type": "aged", "plan": "pro"} for i in range(10)]
    rows[3]["Email"] = "not-an-email"
    rows[5]["Lead Type"] = "cold_call"  # not a lead type the configuration knows
    path = tmp_path / "aged.csv"
    write_csv(path, rows)

    code, output = await run(db, path)
    assert code == 1
    assert "8 leads stored, 0 already there" in output and "2 rows refused" in output
    with (tmp_path / "aged.csv.errors.csv").open(newline="") as handle:
        report = list(csv.reader(handle))
    assert report[0] == ["row", "field", "message"]
    assert report[1][:2] == ["5", "email"]
    assert report[2][:2] == ["7", "lead_type"] and report[2][2].startswith("unknown lead type")

    async with db.snapshot() as uow:
        leads = (await uow.connection.execute(select(t.leads))).all()
        cards = await uow.connection.scalar(select(func.count()).select_from(t.outbox))
    assert {lead.owner for lead in leads} == {"U0A", "U0B"}  # routed by round robin
    assert {lead.source for lead in leads} == {"csv_import"}
    assert all(lead.fields["attributes"] == {"plan": "pro"} for lead in leads)
    assert cards == 8  # one DM each, sent when `serve` runs

    code, output = await run(db, path)  # an interrupted run is simply run again
    assert "0 leads stored, 8 already there" in output
    async with db.snapshot() as uow:
        assert await uow.connection.scalar(select(func.count()).select_from(t.leads)) == 8
    await db.dispose()


async def test_an_unreadable_file_is_refused_whole(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}")
    await upgrade_to_head(db.engine)
    code, output = await run(db, tmp_path / "missing.csv")
    assert code == 2 and "Cannot read" in output
    await db.dispose()
