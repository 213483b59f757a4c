"""Experiments as the CLI, Slack and the API use them: the report, stop, promote, and the
guardrail watch that alerts the admins once per breach.

Stop and promote are configuration changes: saved as new versions under the
configuration lock, like any admin edit, so history and rollback see them. Promotion
keeps the report as it stood and links it from the version's note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.services.base import ApplicationService
from domain.config import Config
from domain.experiment_document import to_document
from domain.experiment_lifecycle import (
    ExperimentError,
    promote_arm,
    stop_experiment,
    winner,
)
from domain.experiment_report import (
    ExperimentReport,
    build_experiment_report,
    guardrail_breaches,
)
from storage.experiment_queries import ExperimentQueries

log = logging.getLogger(__name__)


class ExperimentService(ApplicationService):
    async def _config(self) -> Config:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
        if current is None:
            raise ExperimentError("There is no configuration yet, so no experiment.")
        return current[1]

    async def report(self, name: str) -> ExperimentReport:
        """The experiment's report on every lead it has taken so far."""
        config = await self._config()
        experiment = config.experiment(name)
        if experiment is None:
            known = ", ".join(e.name for e in config.experiments or ()) or "none"
            raise ExperimentError(f"No experiment named {name!r} (configured: {known})")
        now = self.now()
        async with self.db.snapshot() as uow:
            leads = await ExperimentQueries(uow.connection).leads(name, now)
        return build_experiment_report(experiment, leads)

    async def watch_guardrails(self) -> int:
        """Alert every admin, once per experiment, arm and metric, of a breached
        guardrail (the outbox keeps one row per key); returns the breaches seen."""
        config = await self._config()
        now = self.now()
        breaches = []
        for experiment in config.experiments or ():
            if experiment.state != "running" or not experiment.guardrails:
                continue
            async with self.db.snapshot() as uow:
                leads = await ExperimentQueries(uow.connection).leads(experiment.name, now)
            breaches += [(experiment.name, b) for b in guardrail_breaches(experiment, leads)]
        if not breaches or not config.admins:
            return len(breaches)
        async with self.db.transaction() as uow:
            for name, breach in breaches:
                for admin in config.admins:
                    await uow.outbox.add(
                        dedup_key=f"guardrail:{name}:{breach.arm}:{breach.guardrail.metric}:{admin}",
                        kind="alert",
                        target=admin,
                        now=now,
                        payload={
                            "text": f"Experiment {name}: {breach.text}. "
                            f"See `/leadstats experiment {name}`; "
                            f"`leadrouter experiment stop {name}` ends it."
                        },
                    )
        self.wake_outbox()
        return len(breaches)

    async def saved_report(self, report_id: int) -> dict[str, Any] | None:
        """A report as it stood when its experiment was promoted (linked from history)."""
        async with self.db.snapshot() as uow:
            return await ExperimentQueries(uow.connection).report(report_id)

    async def stop(self, name: str, actor: str) -> int:
        """End the experiment now; returns the new configuration version."""
        return await self._save(
            actor, lambda config: (stop_experiment(config, name), f"experiment {name}: stopped")
        )

    async def promote(self, name: str, arm: str | None, actor: str) -> tuple[int, str]:
        """Make the arm (by default the one the report found better) the live routing;
        returns the new version and its history note, which links the saved report."""
        report = await self.report(name)
        chosen = arm or winner(report.verdicts)
        notes: list[str] = []

        def change(config: Config) -> tuple[Config, str]:
            promoted, note = promote_arm(config, name, chosen)
            notes.append(note)
            return promoted, note

        version = await self._save(actor, change, to_document(report))
        return version, notes[-1]

    async def _save(
        self,
        actor: str,
        change: Callable[[Config], tuple[Config, str]],
        report: dict[str, Any] | None = None,
    ) -> int:
        """Apply `change` to the newest configuration under the lock and save it as a new
        version; a report document is saved in the same transaction and linked."""
        now = self.now()
        async with self.db.transaction() as uow:
            await uow.configs.lock()
            current = await self.configs.current(uow)
            if current is None:
                raise ExperimentError("There is no configuration yet, so no experiment.")
            updated, note = change(current[1])
            if report is not None:
                saved = await ExperimentQueries(uow.connection).save_report(
                    report["experiment"], actor, report, now
                )
                note += f"; experiment report #{saved}"
            return await self.configs.save(uow, updated, actor, now, note)
