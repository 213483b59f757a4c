"""The lead state machine only moves forward, and closed leads stay closed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.lead import LeadStatus
from domain.lifecycle import OUTCOME_EVENTS, TERMINAL, TransitionRefused, advance


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        (LeadStatus.ASSIGNED, "contacted", LeadStatus.CONTACTED),
        (LeadStatus.QUEUED, "contacted", LeadStatus.CONTACTED),
        (LeadStatus.NEW, "qualified", LeadStatus.QUALIFIED),
        (LeadStatus.CONTACTED, "disqualified", LeadStatus.DISQUALIFIED),
        (LeadStatus.QUALIFIED, "opportunity", LeadStatus.OPPORTUNITY),
        (LeadStatus.OPPORTUNITY, "won", LeadStatus.WON),
        (LeadStatus.OPPORTUNITY, "lost", LeadStatus.LOST),
    ],
)
def test_forward_moves(current: LeadStatus, event: str, expected: LeadStatus) -> None:
    assert advance(current, event) is expected


@pytest.mark.parametrize(
    ("current", "event", "message"),
    [
        (LeadStatus.CONTACTED, "contacted", "backwards"),
        (LeadStatus.QUALIFIED, "contacted", "backwards"),
        (LeadStatus.WON, "lost", "already won"),
        (LeadStatus.DISQUALIFIED, "qualified", "already disqualified"),
        (LeadStatus.ASSIGNED, "teleported", "unknown event"),
    ],
)
def test_refusals_say_why(current: LeadStatus, event: str, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message):
        advance(current, event)


ORDER = [
    {LeadStatus.NEW},
    {LeadStatus.QUEUED, LeadStatus.ASSIGNED},
    {LeadStatus.CONTACTED},
    {LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED},
    {LeadStatus.OPPORTUNITY},
    {LeadStatus.WON, LeadStatus.LOST},
]


def rank(status: LeadStatus) -> int:
    return next(index for index, group in enumerate(ORDER) if status in group)


@given(st.lists(st.sampled_from(OUTCOME_EVENTS), max_size=12))
def test_status_only_moves_forward_and_terminal_is_final(events: list[str]) -> None:
    status = LeadStatus.ASSIGNED
    for event in events:
        before = status
        try:
            status = advance(status, event)
        except TransitionRefused:
            continue
        assert before not in TERMINAL
        assert rank(status) > rank(before)
        assert status.value == event
