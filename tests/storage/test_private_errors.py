"""A failed statement names its SQL, never the lead's values, on SQLite and PostgreSQL.

Why: an error's message ends in the log with its traceback, and the values bound to an
insert of a lead are the stranger's name, company and email.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from harness.storage import make_lead, migrated


async def test_a_failed_insert_does_not_carry_the_leads_values(db_url: str) -> None:
    lead = make_lead(first_name="Zelda", company="Hyrule Holdings")
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
        with pytest.raises(IntegrityError) as failed:
            async with db.transaction() as uow:
                await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
    message = str(failed.value)
    assert "INSERT INTO leads" in message
    assert "Zelda" not in message and "Hyrule" not in message
