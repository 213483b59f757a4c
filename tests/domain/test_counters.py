"""Counters moved by deltas equal a recount from the leads after any history of intake,
claims, releases, reassignments, outcomes and erasure."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.counters import CountDeltas, Counted, recount

REPS = ("U0A", "U0B", "U0C")
DAYS = (date(2026, 11, 30), date(2026, 12, 1))
OUTCOMES = ("contacted", "qualified", "disqualified", "opportunity", "won", "lost")

operation = st.one_of(
    st.tuples(st.just("intake"), st.sampled_from((None, *REPS)), st.sampled_from(DAYS)),
    st.tuples(st.just("claim"), st.integers(0, 30), st.sampled_from(REPS)),
    st.tuples(st.just("release"), st.integers(0, 30)),
    st.tuples(st.just("reassign"), st.integers(0, 30), st.sampled_from(REPS)),
    st.tuples(st.just("outcome"), st.integers(0, 30), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("erase"), st.integers(0, 30)),
)


def apply(leads: list[Counted], op: tuple, day: date) -> Counted | None:  # type: ignore[type-arg]
    """The lead's state after `op` (None when the op does not apply); mutates `leads`."""
    kind = op[0]
    if kind == "intake":
        owner, when = op[1], op[2]
        lead = Counted(
            owner, "assigned" if owner else "queued", "inbound", "mql", when if owner else None
        )
        leads.append(lead)
        return lead
    if not leads:
        return None
    index = op[1] % len(leads)
    lead = leads[index]
    if kind == "claim" and lead.owner is None and lead.status == "queued":
        changed = replace(lead, owner=op[2], status="assigned", assigned_day=day)
    elif kind == "release" and lead.owner is not None and lead.status == "assigned":
        changed = replace(lead, owner=None, status="queued", assigned_day=None)
    elif kind == "reassign" and lead.status in ("queued", "assigned", "contacted"):
        status = "contacted" if lead.status == "contacted" else "assigned"
        changed = replace(lead, owner=op[2], status=status, assigned_day=day)
    elif kind == "outcome" and lead.status not in ("won", "lost", "disqualified"):
        changed = replace(lead, status=op[2])
    elif kind == "erase":
        changed = lead  # erasure keeps owner, status and times: nothing moves
    else:
        return None
    leads[index] = changed
    return changed


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60), st.sampled_from(DAYS))
def test_counters_moved_by_deltas_equal_a_recount(history: list[tuple], day: date) -> None:  # type: ignore[type-arg]
    leads: list[Counted] = []
    open_leads: Counter[str] = Counter()
    assignments: Counter[tuple] = Counter()  # type: ignore[type-arg]
    for op in history:
        before = None
        if op[0] != "intake" and leads:
            before = leads[op[1] % len(leads)]
        after = apply(leads, op, day)
        if after is None:
            continue
        deltas = CountDeltas()
        deltas.add(before, after)
        open_leads.update(deltas.open_leads)
        assignments.update(deltas.assignments)
    expected = recount(leads)
    assert +open_leads == expected.open_leads
    assert +assignments == expected.assignments


def test_open_leads_count_what_the_rep_still_works_and_caps_what_they_hold() -> None:
    day = DAYS[0]
    deltas = CountDeltas()
    deltas.add(None, Counted("U0A", "assigned", "inbound", "mql", day))
    deltas.add(
        Counted("U0A", "qualified", "inbound", "mql", day),
        Counted("U0A", "opportunity", "inbound", "mql", day),
    )
    # +1 new lead, -1 moved on to the deal pipeline: no open-lead change left over.
    assert deltas.nonzero().open_leads == Counter()
    assert deltas.nonzero().assignments == Counter({("U0A", ("inbound", "mql", day)): 1})
    assert not deltas.empty
