"""Fitting text to Slack's limits: never longer than the limit, unchanged when it fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.slack_limits import and_more, fit


@given(st.text(), st.integers(min_value=1, max_value=200))
def test_fit_never_exceeds_the_limit_and_keeps_what_fits(text: str, limit: int) -> None:
    fitted = fit(text, limit)
    assert len(fitted) <= limit
    if len(text) <= limit:
        assert fitted == text
    else:
        assert fitted.endswith("…") and text.startswith(fitted[:-1])


def test_and_more_counts_what_was_left_out() -> None:
    assert and_more(10, 10, "leads") is None
    assert and_more(10, 13, "leads") == "…and 3 more leads"
