"""Configuration changes made from Slack: authorized, validated like the file, saved as
a new version with actor and time, never silently overwriting a concurrent change."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from domain.authorization import NotAllowed, authorize_change, is_admin, require_admin
from domain.config import Config, dump_config, load_config, validate_config
from domain.config_diff import diff_configs
from domain.config_edits import Document, add_pto
from domain.errors import DomainError, FieldError, InvalidInput
from storage.uow import Database, UnitOfWork

# What an edit touches, for the concurrency check: ("teams", name), ("reps", user),
# ("rules", None) (order matters, so the whole list), ("slas", lead_type),
# ("webhooks", name).
Section = tuple[str, str | None]
Edit = Callable[[Document], str]
HISTORY_LENGTH = 10
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


class StaleEdit(DomainError):
    """What the modal showed was changed by someone else since it was opened."""


class InvalidEdit(InvalidInput):
    """Validation errors plus the path of what the edit changed (`teams[2]`), so the
    modal can put each error next to its field."""

    def __init__(self, errors: list[FieldError], prefix: str):
        super().__init__(errors)
        self.prefix = prefix


@dataclass(frozen=True)
class Saved:
    version: int | None  # None: nothing to save (no configuration and no change)
    changes: list[str]  # the readable diff; empty when the edit changed nothing


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    created_at: datetime
    actor: str
    note: str | None
    changes: list[str]


def mention(actor: str) -> str:
    """`<@U0ALICE>` for a Slack user, the plain name for the CLI or the config file."""
    return f"<@{actor}>" if _SLACK_USER.match(actor) else actor


def _document(config: Config | None) -> Document:
    if config is None:
        return {}
    return config.model_dump(mode="json", by_alias=True, exclude_none=True)


def section_of(document: Document, section: Section) -> Any:
    kind, name = section
    if kind == "teams":
        return next((t for t in document.get("teams", []) if t.get("name") == name), None)
    if kind == "reps":
        return next((r for r in document.get("reps", []) if r.get("user") == name), None)
    if kind == "webhooks":
        return next((w for w in document.get("webhooks", []) if w.get("name") == name), None)
    if kind == "slas":
        return document.get("slas", {}).get(name)
    return document.get(kind)


class AdminService(ApplicationService):
    """`workspace_admin(user)` asks Slack whether a user is a workspace admin or owner
    (the bootstrap, see domain.authorization); `resolve` turns `email:` reps into ids."""

    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        workspace_admin: Callable[[str], Awaitable[bool]],
        resolve: Callable[[Config], Awaitable[Config]],
    ):
        super().__init__(db, configs, now, wake_outbox)
        self._workspace_admin = workspace_admin
        self._resolve = resolve

    async def current(self) -> tuple[int | None, Config | None]:
        async with self.db.snapshot() as uow:
            found = await self.configs.current(uow)
        return found if found is not None else (None, None)

    async def _bootstrap_admin(self, actor: str, config: Config | None) -> bool:
        """Ask Slack only while the configuration names no admins."""
        if config is not None and config.admins:
            return False
        return await self._workspace_admin(actor)

    async def open_admin(self, actor: str) -> tuple[int | None, Config | None]:
        """The configuration an admin modal is built on, or NotAllowed."""
        version, config = await self.current()
        require_admin(actor, config, await self._bootstrap_admin(actor, config))
        return version, config

    async def is_admin(self, actor: str) -> bool:
        _, config = await self.current()
        return is_admin(actor, config, await self._bootstrap_admin(actor, config))

    async def change(
        self,
        actor: str,
        edit: Edit,
        note: str,
        *,
        base: int | None = None,
        touches: Section | None = None,
        admin_only: bool = True,
    ) -> Saved:
        """Apply `edit` to the newest configuration and save the result as a new version.

        With `touches`, the edit was made on version `base` (the one the modal showed);
        if that part changed since, the edit is refused (StaleEdit) instead of
        overwriting it. The lock makes check-and-save one step across replicas."""
        _, seen = await self.current()
        bootstrap = await self._bootstrap_admin(actor, seen)
        async with self.db.transaction() as uow:
            await uow.configs.lock()
            found = await self.configs.current(uow)
            version, config = found if found is not None else (None, None)
            if admin_only:
                require_admin(actor, config, bootstrap)
            if touches is not None and base != version:
                await self._refuse_if_changed(uow, base, touches)
            before = _document(config)
            document = copy.deepcopy(before)
            prefix = edit(document)
            try:
                updated = validate_config(document)
            except InvalidInput as error:
                raise InvalidEdit(error.errors, prefix) from None
            authorize_change(actor, config, updated, bootstrap)
            if bootstrap and not updated.admins and self._needs_bootstrap(actor, config, updated):
                document["admins"] = [actor]  # the bootstrap ends with its first admin save
                updated = validate_config(document)
            changes = diff_configs(before or None, _document(updated))
            if not changes:
                return Saved(version, [])
            saved = await self.configs.save(uow, updated, actor, self.now(), note)
        return Saved(saved, changes)

    @staticmethod
    def _needs_bootstrap(actor: str, before: Config | None, after: Config) -> bool:
        """Whether only the workspace-admin bootstrap allows this change (a rep's own PTO
        does not make them an admin)."""
        try:
            authorize_change(actor, before, after, workspace_admin=False)
        except NotAllowed:
            return True
        return False

    async def _refuse_if_changed(self, uow: UnitOfWork, base: int | None, touches: Section) -> None:
        opened = await uow.config_history.get(base) if base is not None else None
        original = section_of(opened.document if opened else {}, touches)
        for later in await uow.config_history.since(base or 0):
            if section_of(later.document, touches) != original:
                what = f"{touches[0][:-1]} {touches[1]}" if touches[1] else touches[0]
                raise StaleEdit(
                    f"The {what} was changed by {mention(later.actor)} after you opened it; "
                    "nothing was saved. Reopen it to see the change."
                )

    async def set_pto(self, actor: str, user: str, start: date, end: date) -> Saved:
        """Own PTO for reps, their team's for managers, anyone's for admins (checked on
        what the change does, in authorize_change)."""
        return await self.change(
            actor,
            lambda document: add_pto(document, user, start, end),
            f"PTO {start.isoformat()}..{end.isoformat()} for {mention(user)}",
            admin_only=False,
        )

    async def history(self, actor: str, limit: int = HISTORY_LENGTH) -> list[HistoryEntry]:
        await self.open_admin(actor)
        async with self.db.snapshot() as uow:
            versions = await uow.config_history.recent(limit)
        entries = []
        for index, version in enumerate(versions[:limit]):
            previous = versions[index + 1].document if index + 1 < len(versions) else None
            entries.append(
                HistoryEntry(
                    version.id,
                    version.created_at,
                    version.actor,
                    version.note,
                    diff_configs(previous, version.document),
                )
            )
        return entries

    async def rollback(self, actor: str, version: int) -> Saved:
        """A new version equal to an old one: history only grows, so a rollback can
        itself be rolled back."""
        async with self.db.snapshot() as uow:
            old = await uow.config_history.get(version)
        if old is None:
            raise DomainError(f"There is no configuration version {version}.")

        def restore(document: Document) -> str:
            document.clear()
            document.update(copy.deepcopy(old.document))
            return ""

        return await self.change(actor, restore, f"rolled back to version {version}")

    async def export(self, actor: str) -> str:
        _, config = await self.open_admin(actor)
        if config is None:
            raise DomainError("There is no configuration yet: create a team or import a file.")
        return dump_config(config)

    async def import_file(self, actor: str, text: str | bytes, name: str) -> Saved:
        """All or nothing: the file is parsed and validated whole (every error with its
        path) before anything is saved."""
        await self.open_admin(actor)
        imported = _document(await self._resolve(load_config(text)))

        def replace(document: Document) -> str:
            document.clear()
            document.update(imported)
            return ""

        return await self.change(actor, replace, f"imported {name}")
