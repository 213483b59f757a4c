"""Availability in the rep's own timezone: DST, PTO boundaries, shifts, capacity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.availability import unavailable_reason
from domain.config import RepConfig

UTC = ZoneInfo("UTC")


def rep(**fields: Any) -> RepConfig:
    return RepConfig.model_validate({"user": "U0REP", **fields})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NINE_TO_FIVE = {"mon-fri": "09:00-17:00"}


@pytest.mark.parametrize(
    ("zone", "moment", "on"),
    [
        # New York springs forward on Sun 8 March 2026: EST (UTC-5) -> EDT (UTC-4).
        ("America/New_York", "2026-03-06T13:30", False),  # Fri 08:30 EST
        ("America/New_York", "2026-03-06T14:00", True),  # Fri 09:00 EST
        ("America/New_York", "2026-03-09T13:00", True),  # Mon 09:00 EDT: same UTC is now on
        ("America/New_York", "2026-03-09T12:59", False),  # Mon 08:59 EDT
        ("America/New_York", "2026-03-09T21:00", False),  # Mon 17:00 EDT: shift over
        # ... and falls back on Sun 1 November 2026.
        ("America/New_York", "2026-10-30T13:00", True),  # Fri 09:00 EDT
        ("America/New_York", "2026-11-02T13:00", False),  # Mon 08:00 EST
        ("America/New_York", "2026-11-02T14:00", True),  # Mon 09:00 EST
        # Berlin springs forward on Sun 29 March 2026: CET (UTC+1) -> CEST (UTC+2).
        ("Europe/Berlin", "2026-03-27T08:00", True),  # Fri 09:00 CET
        ("Europe/Berlin", "2026-03-30T07:00", True),  # Mon 09:00 CEST
        ("Europe/Berlin", "2026-03-30T15:00", False),  # Mon 17:00 CEST
        ("Europe/Berlin", "2026-03-27T15:59", True),  # Fri 16:59 CET
        # ... and falls back on Sun 25 October 2026.
        ("Europe/Berlin", "2026-10-26T07:00", False),  # Mon 08:00 CET
        ("Europe/Berlin", "2026-10-26T08:00", True),  # Mon 09:00 CET
    ],
)
def test_working_hours_follow_dst_in_the_reps_zone(zone: str, moment: str, on: bool) -> None:
    reason = unavailable_reason(rep(timezone=zone, working_hours=NINE_TO_FIVE), utc(moment), 0)
    assert (reason is None) == on, reason


def test_off_shift_reason_names_the_local_time_and_zone() -> None:
    berlin = rep(timezone="Europe/Berlin", working_hours=NINE_TO_FIVE)
    assert unavailable_reason(berlin, utc("2026-03-28T10:00"), 0) == (
        "off shift (Sat 11:00 Europe/Berlin)"
    )


def test_a_day_with_two_shifts_and_an_all_day_weekend() -> None:
    split = rep(working_hours={"mon-fri": "08:00-12:00, 13:00-17:00", "sat": "00:00-24:00"})
    assert unavailable_reason(split, utc("2026-03-02T11:59"), 0) is None
    assert unavailable_reason(split, utc("2026-03-02T12:30"), 0) is not None
    assert unavailable_reason(split, utc("2026-03-07T23:59"), 0) is None
    assert unavailable_reason(split, utc("2026-03-08T10:00"), 0) is not None  # Sunday


@pytest.mark.parametrize(
    ("moment", "away"),
    [
        ("2026-12-01T04:59", False),  # 23:59 on 30 Nov in New York
        ("2026-12-01T05:00", True),  # midnight of 1 Dec in New York
        ("2026-12-06T04:59", True),  # 23:59 on 5 Dec: the last day is included
        ("2026-12-06T05:00", False),  # 6 Dec in New York
    ],
)
def test_pto_days_are_whole_days_in_the_reps_zone(moment: str, away: bool) -> None:
    on_leave = rep(timezone="America/New_York", pto=[{"from": "2026-12-01", "to": "2026-12-05"}])
    reason = unavailable_reason(on_leave, utc(moment), 0)
    assert (reason == "on PTO until 2026-12-05") == away


def test_pto_in_tokyo_starts_while_it_is_still_the_day_before_in_utc() -> None:
    tokyo = rep(timezone="Asia/Tokyo", pto=[{"from": "2026-05-01", "to": "2026-05-01"}])
    assert unavailable_reason(tokyo, utc("2026-04-30T15:00"), 0) is not None
    assert unavailable_reason(tokyo, utc("2026-04-30T14:59"), 0) is None


def test_capacity_counts_open_leads() -> None:
    capped = rep(capacity=50)
    assert unavailable_reason(capped, utc("2026-03-02T12:00"), 49) is None
    assert unavailable_reason(capped, utc("2026-03-02T12:00"), 50) == (
        "at capacity (50/50 open leads)"
    )
    assert unavailable_reason(rep(), utc("2026-03-02T12:00"), 10_000) is None


def test_inactive_comes_first_then_pto_then_shift_then_capacity() -> None:
    everything = {
        "working_hours": NINE_TO_FIVE,
        "capacity": 0,
        "pto": [{"from": "2026-03-07", "to": "2026-03-08"}],
    }
    saturday = utc("2026-03-07T12:00")
    assert unavailable_reason(rep(active=False, **everything), saturday, 0) == "inactive"
    assert unavailable_reason(rep(**everything), saturday, 0) == "on PTO until 2026-03-08"
    monday_night = utc("2026-03-09T23:00")
    assert unavailable_reason(rep(**everything), monday_night, 0).startswith("off shift")
    monday_noon = utc("2026-03-09T12:00")
    assert unavailable_reason(rep(**everything), monday_noon, 0).startswith("at capacity")


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        unavailable_reason(rep(), datetime(2026, 3, 2, 12, 0), 0)


def test_every_minute_of_a_dst_day_is_judged_once() -> None:
    # 8 March 2026 in New York has 23 hours; an always-open Sunday shift stays open.
    sunday = rep(timezone="America/New_York", working_hours={"sun": "00:00-24:00"})
    start = utc("2026-03-08T05:00")
    minutes = [start + timedelta(minutes=m) for m in range(23 * 60)]
    assert all(unavailable_reason(sunday, moment, 0) is None for moment in minutes)
    assert unavailable_reason(sunday, start + timedelta(hours=23), 0) is not None
