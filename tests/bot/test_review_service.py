"""The review service on SQLite and PostgreSQL: the quarterly DM is queued once per admin
and quarter across replicas and never for a quarter the install did not see begin;
"Wrong routing?" is recorded once per rep and lead and leaves the lead alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from bot.services.review import ReviewService
from bot.slack import action_ids as ids
from bot.slack.evidence_listeners import _fix_view
from bot.slack.evidence_views import review_message
from domain.config import validate_config
from domain.errors import DomainError
from domain.lead import parse_lead
from harness.storage import migrated
from storage import tables as t

CONFIG = validate_config(
    {
        "admins": ["U0ADMIN", "U0BOSS"],
        "reps": [{"user": "U0ANN"}],
        "teams": [{"name": "sales", "members": [{"user": "U0ANN"}]}],
        "rules": [{"name": "everyone", "then": {"team": "sales"}}],
    }
)
SEPTEMBER = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
OCTOBER_FIRST = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def _review_rows(db: object) -> list[tuple[str, str]]:
    async with db.snapshot() as uow:  # type: ignore[attr-defined]
        rows = await uow.connection.execute(
            select(t.outbox.c.dedup_key, t.outbox.c.target).where(
                t.outbox.c.kind == "routing_review"
            )
        )
        return sorted((row.dedup_key, row.target) for row in rows)


async def test_the_quarterly_dm_goes_once_to_each_admin_of_an_install_older_than_the_quarter(
    db_url: str,
) -> None:
    clock = Clock(SEPTEMBER)
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", SEPTEMBER, "test")
        clock.at = OCTOBER_FIRST
        replicas = [
            ReviewService(db, ConfigService(), clock.now, lambda: None, None, review_message)
            for _ in range(2)
        ]
        queued = [await replica.queue_quarterly() for replica in replicas]
        queued.append(await replicas[0].queue_quarterly())
        rows = await _review_rows(db)
    assert queued == [2, 2, 0]  # the second replica's rows were no-ops in the outbox
    assert rows == [
        ("routing_review:2026-Q4:U0ADMIN", "U0ADMIN"),
        ("routing_review:2026-Q4:U0BOSS", "U0BOSS"),
    ]


async def test_a_new_install_gets_no_review_dm_for_the_quarter_it_began_in(db_url: str) -> None:
    clock = Clock(OCTOBER_FIRST + timedelta(days=3))
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", clock.at, "test")
        service = ReviewService(db, ConfigService(), clock.now, lambda: None, None, review_message)
        assert await service.queue_quarterly() == 0
        assert await _review_rows(db) == []


async def test_wrong_routing_is_recorded_once_per_rep_and_lead_and_changes_nothing(
    db_url: str,
) -> None:
    clock = Clock(OCTOBER_FIRST)
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, CONFIG, "test", clock.at, "test")
        intake = IntakeService(db, configs, clock.now, lambda: None)
        lead = (await intake.submit("web", parse_lead({"email": "a@b.io"}), None)).lead
        service = ReviewService(db, configs, clock.now, lambda: None)
        assert await service.record_misroute(lead.id, "U0ANN", "territory", None)
        assert not await service.record_misroute(lead.id, "U0ANN", "other", "again")
        assert await service.record_misroute(lead.id, "U0BOSS", "product", None)
        with pytest.raises(DomainError, match="no longer exists"):
            await service.record_misroute("nope", "U0ANN", "territory", None)
        async with db.snapshot() as uow:
            after = await uow.leads.get(lead.id)
            reports = (
                await uow.connection.execute(
                    select(t.misroute_reports.c.rule, t.misroute_reports.c.reason)
                )
            ).all()
        assert after is not None
        assert (after.status, after.owner, after.version) == (lead.status, lead.owner, 1)
        assert sorted(tuple(row) for row in reports) == [
            ("everyone", "product"),
            ("everyone", "territory"),
        ]
        _, review = await service.review()
        assert [finding.kind for finding in review.findings] == []  # 2 reports: under 3


SCORED = validate_config(
    {
        **CONFIG.model_dump(mode="json", exclude_none=True),
        "scoring": {
            "decides": "model",
            "fit": [{"label": "500+", "when": {"employees": {"gte": 500}}, "points": 30}],
            "fit_grades": {"A": 30, "B": 20},
            "mql_at": 50,
            "always_route": ["mql"],
        },
    }
)


async def test_a_configured_model_brings_its_out_of_order_grades_into_the_review(
    db_url: str,
) -> None:
    """A3 leads qualify at 15%, C3 leads at 70%: the review says so and offers the
    Scoring model screen; the routing findings are untouched by it."""
    clock = Clock(SEPTEMBER)
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, SCORED, "test", SEPTEMBER, "test")
        intake = IntakeService(db, ConfigService(), clock.now, lambda: None)
        actions = LeadActions(db, ConfigService(), clock.now, lambda: None)
        for index in range(40):
            big = {"employees": 900} if index < 20 else {}
            lead = parse_lead({"email": f"p{index}@acme{index}.com", **big})
            stored = (await intake.submit("web", lead, None)).lead
            if (index < 20 and index < 3) or (index >= 20 and index < 34):
                await actions.record_event(stored.id, "qualified", "crm", None, None)
        clock.at = SEPTEMBER + timedelta(days=1)
        service = ReviewService(db, ConfigService(), clock.now, lambda: None)
        _, review = await service.review()
    scoring = [
        (f.kind, f.subject, f.fix.modal) for f in review.findings if f.fix.modal == "scoring"
    ]
    assert ("scoring_out_of_order", "C3", "scoring") in scoring
    assert {kind for kind, _, _ in scoring} == {"scoring_out_of_order"}


def test_a_scoring_findings_fix_opens_the_scoring_model_modal_on_the_current_model() -> None:
    view = _fix_view("scoring", None, 7, SCORED)
    assert view["callback_id"] == ids.ADMIN_SCORING
    assert "mql_at: 50" in view["blocks"][1]["element"]["initial_value"]
