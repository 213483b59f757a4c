"""The rows behind an experiment's report, and the report snapshots promotion links to.

An experiment runs for weeks on a few thousand leads; its report reads one narrow row
per lead through the (experiment, arm, created_at) index and leaves the statistics to
domain.experiment_report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from domain.experiment_report import ExperimentLead, experiment_lead
from storage import tables as t
from storage.repository import Repository

_L = t.leads.c


class ExperimentQueries(Repository):
    async def leads(self, experiment: str, now: datetime) -> list[ExperimentLead]:
        """Every lead the experiment took, reduced to its outcomes as of `now`."""
        query = select(
            _L.arm,
            _L.owner,
            _L.status,
            _L.created_at,
            _L.sla_due_at,
            _L.contacted_at,
            _L.qualified_at,
            _L.opportunity_at,
        ).where(_L.experiment == experiment)
        return [
            experiment_lead(
                arm=row.arm,
                owner=row.owner,
                status=row.status,
                created_at=row.created_at,
                sla_due_at=row.sla_due_at,
                contacted_at=row.contacted_at,
                qualified_at=row.qualified_at,
                opportunity_at=row.opportunity_at,
                now=now,
            )
            for row in await self.connection.execute(query)
        ]

    async def save_report(
        self, experiment: str, actor: str, document: dict[str, Any], now: datetime
    ) -> int:
        """Keep the report as it stands; returns its id for the history note."""
        result = await self.connection.execute(
            insert(t.experiment_reports)
            .values(experiment=experiment, created_at=now, actor=actor, document=document)
            .returning(t.experiment_reports.c.id)
        )
        return int(result.scalar_one())

    async def report(self, report_id: int) -> dict[str, Any] | None:
        row = (
            await self.connection.execute(
                select(t.experiment_reports).where(t.experiment_reports.c.id == report_id)
            )
        ).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "experiment": row.experiment,
            "created_at": row.created_at,
            "actor": row.actor,
            "report": row.document,
        }
