"""The orjson-rendered API responses say what Starlette's JSONResponse said."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from bot.api.fast_json import FastJSONResponse

SCALARS = st.none() | st.booleans() | st.integers() | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner) | st.dictionaries(st.text() | st.integers(), inner),
    max_leaves=30,
)


@given(VALUES)
def test_the_same_bytes_for_values_without_floats(value: Any) -> None:
    assert FastJSONResponse(value).body == JSONResponse(value).body


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False)))
def test_the_same_numbers_for_floats(value: list[float]) -> None:
    """Only the spelling of an exponent may differ (`1e16` for `1e+16`)."""
    assert json.loads(FastJSONResponse(value).body) == json.loads(JSONResponse(value).body)
