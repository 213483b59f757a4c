""" "Wrong routing?" feedback: recorded once per rep and lead, and never acted on here."""

from __future__ import annotations

from datetime import datetime

from storage import tables as t
from storage.repository import Repository


class MisrouteRepository(Repository):
    async def record(
        self,
        lead_id: str,
        reporter: str,
        at: datetime,
        rule: str | None,
        reason: str,
        text: str | None,
    ) -> bool:
        """Store a rep's report; False when they already reported this lead (a second
        submit or a Slack retry records nothing more)."""
        statement = (
            self._upsert(t.misroute_reports)
            .values(lead_id=lead_id, reporter=reporter, at=at, rule=rule, reason=reason, text=text)
            .on_conflict_do_nothing(index_elements=["lead_id", "reporter"])
        )
        result = await self.connection.execute(statement)
        return bool(result.rowcount)
