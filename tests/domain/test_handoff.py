"""The hand-off both ways: who may answer, which reasons count, where the lead goes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.handoff import (
    RECYCLABLE,
    HandOff,
    HandOffRefused,
    hand_off,
    leaves_nurture,
    may_hand_off,
    reasons_for,
    require_may_hand_off,
    starts_in_nurture,
)
from domain.lead import LeadStatus
from domain.lifecycle import TransitionRefused
from domain.scoring_config import ScoringConfig

MODEL = ScoringConfig.model_validate({"disqualify_reasons": ["no budget", "spam"]})


def test_only_owner_manager_or_admin_may_answer() -> None:
    assert may_hand_off("U0OWNER", "U0OWNER", "U0BOSS", ["U0ADMIN"])
    assert may_hand_off("U0BOSS", "U0OWNER", "U0BOSS", ["U0ADMIN"])
    assert may_hand_off("U0ADMIN", None, None, ["U0ADMIN"])
    assert not may_hand_off("U0OTHER", "U0OWNER", "U0BOSS", ["U0ADMIN"])
    assert not may_hand_off("U0OTHER", None, None, [])
    with pytest.raises(HandOffRefused, match="<@U0OWNER>'s; only its owner"):
        require_may_hand_off("U0OTHER", "U0OWNER", "U0BOSS", [])


def test_qualify_counts_as_contact_and_enters_the_stage() -> None:
    change = hand_off(HandOff.QUALIFY, LeadStatus.ASSIGNED, None, MODEL)
    assert change.status is LeadStatus.QUALIFIED and change.counts_as_contact
    assert change.stage == "qualified" and not change.clears_owner


def test_disqualify_needs_a_reason_from_the_configured_list() -> None:
    change = hand_off(HandOff.DISQUALIFY, LeadStatus.CONTACTED, "spam", MODEL)
    assert change.status is LeadStatus.DISQUALIFIED and change.reason == "spam"
    with pytest.raises(HandOffRefused, match="no budget, spam"):
        hand_off(HandOff.DISQUALIFY, LeadStatus.CONTACTED, "competitor", MODEL)
    with pytest.raises(HandOffRefused):
        hand_off(HandOff.DISQUALIFY, LeadStatus.CONTACTED, None, MODEL)
    assert "competitor" in reasons_for(HandOff.DISQUALIFY, None)


def test_recycle_goes_back_to_nurture_without_an_owner() -> None:
    reason = reasons_for(HandOff.RECYCLE, MODEL)[0]
    change = hand_off(HandOff.RECYCLE, LeadStatus.CONTACTED, reason, MODEL)
    assert change.status is LeadStatus.NURTURE and change.clears_owner
    assert not change.counts_as_contact
    with pytest.raises(TransitionRefused, match="already qualified"):
        hand_off(HandOff.RECYCLE, LeadStatus.QUALIFIED, reason, MODEL)


@given(st.sampled_from(list(LeadStatus)), st.sampled_from(list(HandOff)))
def test_no_hand_off_reopens_a_closed_lead(status: LeadStatus, action: HandOff) -> None:
    reason = (reasons_for(action, MODEL) or [None])[0]
    try:
        change = hand_off(action, status, reason, MODEL)
    except (HandOffRefused, TransitionRefused):
        return
    assert status not in {LeadStatus.DISQUALIFIED, LeadStatus.WON, LeadStatus.LOST}
    if action is HandOff.RECYCLE:
        assert status in RECYCLABLE
    else:
        assert change.status.value == action.value


def test_nurture_in_and_out() -> None:
    assert starts_in_nurture(mql=False, always_routes=False)
    assert not starts_in_nurture(mql=False, always_routes=True)
    assert leaves_nurture(LeadStatus.NURTURE, was_mql=False, is_mql=True)
    assert not leaves_nurture(LeadStatus.NURTURE, was_mql=False, is_mql=False)
    assert not leaves_nurture(LeadStatus.NURTURE, was_mql=True, is_mql=True)  # sent back
    assert not leaves_nurture(LeadStatus.ASSIGNED, was_mql=False, is_mql=True)
