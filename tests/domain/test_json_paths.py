"""The path language of intake profiles: keys, indexes, every element, filters, and
filters whose value is read from elsewhere in the same document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.json_paths import PathError, parse_path

DOCUMENT: dict[str, Any] = {
    "answers": [
        {"field": {"ref": "name"}, "text": "Ada"},
        {"field": {"ref": "email"}, "email": "ada@example.com"},
    ],
    "questions": [{"id": 7, "kind": "EMAIL"}],
    "values": [{"id": 7, "answer": "x@example.com"}],
    "list": [1, 2, 3],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("answers[field.ref=email].email", ["ada@example.com"]),
        ("answers[*].field.ref", ["name", "email"]),
        ("answers[0].text", ["Ada"]),
        ("answers[-1].field.ref", ["email"]),
        ("values[id=$questions[kind=EMAIL].id].answer", ["x@example.com"]),
        ("values[id='7'].answer", ["x@example.com"]),
        ("list[5]", []),
        ("answers[field.ref=phone].text", []),
        ("missing.key", []),
        ("$.list[1]", [2]),
    ],
)
def test_paths_reach_what_they_name(path: str, expected: list[Any]) -> None:
    assert parse_path(path).find(DOCUMENT) == expected


def test_the_root_path_is_the_document() -> None:
    assert parse_path("$").find(DOCUMENT) == [DOCUMENT]


@pytest.mark.parametrize("broken", ["a..b", "a[", "a]b", "a[=x]", "a[b]c]"])
def test_broken_paths_are_refused_with_the_path_named(broken: str) -> None:
    with pytest.raises(PathError, match=re.escape(broken)):
        parse_path(broken)


scalars = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(documents, st.sampled_from(["a.b", "a[0]", "a[*].b", "a[b=1].c", "x[y=$a[0]].z"]))
def test_any_document_gives_a_list_never_an_error(document: Any, path: str) -> None:
    assert isinstance(parse_path(path).find(document), list)
