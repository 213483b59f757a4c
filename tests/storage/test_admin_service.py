"""AdminService against a real database (SQLite and PostgreSQL): versions with actor
and diff, refusals that change nothing, stale edits refused, rollback, bootstrap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.services.admin import AdminService, InvalidEdit, StaleEdit
from bot.services.configuration import ConfigService
from domain.authorization import NotAllowed
from domain.config import Config, validate_config
from domain.config_edits import Document, upsert_team
from domain.errors import InvalidInput
from harness.storage import T0, migrated
from storage.uow import Database

START = {
    "admins": ["U0ADMIN", "U0ADMIN2"],
    "reps": [{"user": "U0ALICE"}, {"user": "U0BOB"}],
    "teams": [{"name": "sales", "manager": "U0MGR", "members": [{"user": "U0ALICE"}]}],
    "rules": [{"name": "rest", "then": {"team": "sales"}}],
}


async def _no_workspace_admins(_user: str) -> bool:
    return False


async def _unchanged(config: Config) -> Config:
    return config


def service(db: Database, workspace_admins: frozenset[str] = frozenset()) -> AdminService:
    async def workspace_admin(user: str) -> bool:
        return user in workspace_admins

    return AdminService(db, ConfigService(), lambda: T0, lambda: None, workspace_admin, _unchanged)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            await ConfigService().save(uow, validate_config(START), "cli", T0, "initial")
        yield database


def team_edit(strategy: str, members: list[dict[str, Any]] | None = None) -> Any:
    def edit(document: Document) -> str:
        team = {
            "name": "sales",
            "manager": "U0MGR",
            "strategy": strategy,
            "members": members or [{"user": "U0ALICE"}],
        }
        return upsert_team(document, "sales", team)

    return edit


async def versions(db: Database) -> int:
    async with db.snapshot() as uow:
        return len(await uow.config_history.recent(100))


async def test_an_admin_change_is_a_new_version_with_actor_and_diff(db: Database) -> None:
    admin = service(db)
    saved = await admin.change("U0ADMIN", team_edit("weighted"), "team sales", base=1)
    assert saved.version == 2
    assert saved.changes == ["~ teams[sales].strategy: round_robin → weighted"]
    (latest, *_) = await admin.history("U0ADMIN")
    assert (latest.version, latest.actor, latest.note) == (2, "U0ADMIN", "team sales")
    assert latest.changes == saved.changes


async def test_a_refused_or_invalid_change_saves_nothing(db: Database) -> None:
    admin = service(db)
    with pytest.raises(NotAllowed):
        await admin.change("U0ALICE", team_edit("weighted"), "team sales", base=1)
    with pytest.raises(InvalidEdit) as caught:
        await admin.change("U0ADMIN", team_edit("sideways"), "team sales", base=1)
    assert caught.value.prefix == "teams[0]"
    assert [error.path for error in caught.value.errors] == ["teams[0].strategy"]
    assert await versions(db) == 1


async def test_the_second_of_two_saves_of_the_same_team_is_refused(db: Database) -> None:
    first, second = service(db), service(db)
    await first.change(
        "U0ADMIN", team_edit("weighted"), "team sales", base=1, touches=("teams", "sales")
    )
    with pytest.raises(StaleEdit, match="changed by <@U0ADMIN> after you opened it"):
        await second.change(
            "U0ADMIN2", team_edit("least_loaded"), "team sales", base=1, touches=("teams", "sales")
        )
    _, config = await first.current()
    assert config is not None and config.teams[0].strategy == "weighted"


async def test_concurrent_saves_of_the_same_team_never_both_win(db: Database) -> None:
    admin = service(db)
    results = await asyncio.gather(
        *(
            admin.change(actor, team_edit(strategy), "race", base=1, touches=("teams", "sales"))
            for actor, strategy in (("U0ADMIN", "weighted"), ("U0ADMIN2", "least_loaded"))
        ),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == ["Saved", "StaleEdit"]
    assert await versions(db) == 2


async def test_an_edit_of_another_part_is_not_refused_as_stale(db: Database) -> None:
    admin = service(db)
    await admin.set_pto("U0ALICE", "U0ALICE", date(2026, 12, 1), date(2026, 12, 5))
    saved = await admin.change(
        "U0ADMIN", team_edit("weighted"), "team sales", base=1, touches=("teams", "sales")
    )
    assert saved.version == 3


async def test_pto_by_the_rep_or_their_manager_but_not_by_a_stranger(db: Database) -> None:
    admin = service(db)
    own = await admin.set_pto("U0ALICE", "U0ALICE", date(2026, 12, 1), date(2026, 12, 5))
    assert own.changes == ['~ reps[U0ALICE].pto: [] → [{"from": "2026-12-01", "to": "2026-12-05"}]']
    await admin.set_pto("U0MGR", "U0ALICE", date(2027, 1, 1), date(2027, 1, 2))
    with pytest.raises(NotAllowed):
        await admin.set_pto("U0BOB", "U0ALICE", date(2027, 2, 1), date(2027, 2, 2))
    with pytest.raises(InvalidEdit, match="must not be before"):
        await admin.set_pto("U0ALICE", "U0ALICE", date(2027, 2, 5), date(2027, 2, 1))
    assert await versions(db) == 3


async def test_rollback_is_a_new_version_equal_to_the_old_one(db: Database) -> None:
    admin = service(db)
    await admin.change("U0ADMIN", team_edit("weighted"), "team sales")
    saved = await admin.rollback("U0ADMIN", 1)
    assert saved.version == 3
    assert saved.changes == ["~ teams[sales].strategy: weighted → round_robin"]
    async with db.snapshot() as uow:
        restored = await uow.config_history.get(3)
        original = await uow.config_history.get(1)
    assert restored is not None and original is not None
    assert restored.document == original.document
    assert restored.note == "rolled back to version 1"
    with pytest.raises(NotAllowed):
        await admin.rollback("U0MGR", 2)


async def test_workspace_admins_bootstrap_an_empty_database(db_url: str) -> None:
    async with migrated(db_url) as empty:
        with pytest.raises(NotAllowed):
            await service(empty).open_admin("U0OWNER")
        admin = service(empty, frozenset({"U0OWNER"}))
        assert await admin.open_admin("U0OWNER") == (None, None)
        saved = await admin.change(
            "U0OWNER",
            lambda document: upsert_team(
                document, None, {"name": "sales", "members": [{"user": "U0OWNER"}]}
            ),
            "first team",
        )
        assert saved.version == 1
        _, config = await admin.current()
        assert config is not None and config.admins == ["U0OWNER"]
        # The bootstrap is over: a configuration with admins ignores workspace roles.
        with pytest.raises(NotAllowed):
            await service(empty, frozenset({"U0OTHER"})).open_admin("U0OTHER")


async def test_import_is_all_or_nothing_and_export_round_trips(db: Database) -> None:
    admin = service(db)
    exported = await admin.export("U0ADMIN")
    broken = exported.replace("name: rest", "name: rest\n  when: {employees: {gte: many}}")
    with pytest.raises(Exception, match="rules"):
        await admin.import_file("U0ADMIN", broken, "broken.yml")
    assert await versions(db) == 1
    assert (await admin.import_file("U0ADMIN", exported, "same.yml")).changes == []
    assert await admin.export("U0ADMIN") == exported
    with pytest.raises(NotAllowed):
        await admin.export("U0ALICE")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nteams: [{name: a}, {name: a}]\nrules: [{name: r, then: {team: a}}]\n",
            "duplicate team",
        ),
        ("version: 1\nrules: [{name: r, then: {team: nowhere}}]\n", "no team named 'nowhere'"),
        ("version: 1\nsurprise: true\n", "unknown key"),
        ("version: 1\nreps: [{user: U0A, capacity: lots}]\n", "expected a number"),
        ("version: 1\nadmins: &a [U0ADMIN]\nx: *a\n", "anchors and aliases"),
        ("version: 1\nadmins: !!python/object/apply:os.system [true]\n", "not valid YAML"),
        ("#" * 10_000_000, "file larger than"),
    ],
)
async def test_a_hostile_import_saves_nothing(db: Database, text: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        await service(db).import_file("U0ADMIN", text, "hostile.yml")
    assert await versions(db) == 1


async def test_a_workspace_admin_setting_own_pto_does_not_become_an_admin(db_url: str) -> None:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            start = {**START, "admins": [], "reps": [*START["reps"], {"user": "U0OWNER"}]}
            await ConfigService().save(uow, validate_config(start), "cli", T0, "no admins")
        admin = service(database, frozenset({"U0OWNER"}))
        await admin.set_pto("U0OWNER", "U0OWNER", date(2026, 12, 1), date(2026, 12, 2))
        _, config = await admin.current()
        assert config is not None and config.admins == []
        await admin.set_pto("U0OWNER", "U0ALICE", date(2026, 12, 1), date(2026, 12, 2))
        _, config = await admin.current()
        assert config is not None and config.admins == ["U0OWNER"]
