"""Business-hours SLA counting across nights, weekends and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import BusinessHours, SlaConfig
from domain.sla import plan

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = BusinessHours(timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}).calendar()


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("start", "amount", "due"),
    [
        (ny(2026, 11, 24, 10, 0), timedelta(hours=2), ny(2026, 11, 24, 12, 0)),  # inside hours
        (ny(2026, 11, 24, 16, 30), timedelta(hours=1), ny(2026, 11, 25, 9, 30)),  # overnight
        (ny(2026, 11, 27, 16, 0), timedelta(hours=2), ny(2026, 11, 30, 10, 0)),  # weekend
        (ny(2026, 11, 28, 12, 0), timedelta(minutes=5), ny(2026, 11, 30, 9, 5)),  # arrives Sat
        (ny(2026, 11, 24, 7, 0), timedelta(minutes=5), ny(2026, 11, 24, 9, 5)),  # before opening
    ],
)
def test_off_hours_do_not_consume_the_sla(start: datetime, amount: timedelta, due: datetime):
    assert WEEKDAYS.add(start, amount) == due


def test_spring_forward_weekend_loses_no_business_time():
    # DST starts Sunday 2026-03-08 in New York: Friday 16:00 EST + 2h = Monday 10:00 EDT.
    due = WEEKDAYS.add(ny(2026, 3, 6, 16, 0), timedelta(hours=2))
    assert due == ny(2026, 3, 9, 10, 0)
    assert due.astimezone(UTC).hour == 14  # EDT is UTC-4


def test_fall_back_weekend_adds_no_business_time():
    # DST ends Sunday 2026-11-01: Friday 16:00 EDT + 2h = Monday 10:00 EST.
    due = WEEKDAYS.add(ny(2026, 10, 30, 16, 0), timedelta(hours=2))
    assert due == ny(2026, 11, 2, 10, 0)
    assert due.astimezone(UTC).hour == 15  # EST is UTC-5


def test_berlin_dst_change_inside_a_24_hour_shift():
    always = BusinessHours(timezone="Europe/Berlin", hours={"mon-sun": "00:00-24:00"}).calendar()
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # the night of 25 October is 25h long
    assert always.add(start, timedelta(hours=24)) == start + timedelta(hours=24)


def test_plan_counts_every_step_in_business_time():
    policy = SlaConfig(respond_within="2h", remind_at=["50%"])
    steps = {s.step: s.due_at for s in plan(policy, ny(2026, 11, 27, 16, 0), WEEKDAYS)}
    assert steps["remind:0"] == ny(2026, 11, 27, 17, 0)
    assert steps["breach"] == ny(2026, 11, 30, 10, 0)
    assert steps["escalate:2"] == ny(2026, 11, 30, 12, 0)  # repost one more SLA later


def test_hours_must_open_sometime():
    with pytest.raises(ValueError, match="at least one day"):
        BusinessHours(timezone="UTC", hours={})


@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    first=st.integers(0, 3000),
    second=st.integers(0, 3000),
)
def test_adding_in_two_parts_equals_adding_at_once(start: datetime, first: int, second: int):
    begin = start.replace(tzinfo=UTC)
    once = WEEKDAYS.add(begin, timedelta(minutes=first + second))
    twice = WEEKDAYS.add(WEEKDAYS.add(begin, timedelta(minutes=first)), timedelta(minutes=second))
    assert once == twice
    assert once >= begin
