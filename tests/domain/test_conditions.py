"""Rule conditions: every operator, case folding, missing values, and refused specs."""

from __future__ import annotations

from typing import Any

import pytest

from domain.conditions import parse_conditions
from domain.errors import FieldError
from domain.lead import parse_lead


def holds(when: dict[str, Any], **fields: Any) -> bool:
    errors: list[FieldError] = []
    conditions = parse_conditions(when, errors=errors, path="when")
    assert errors == []
    facts = parse_lead({"email": "buyer@prospect.io", **fields}).facts()
    facts.setdefault("account_owner", False)
    return all(condition.matches(facts) for condition in conditions)


@pytest.mark.parametrize(
    ("when", "fields", "expected"),
    [
        ({"country": "US"}, {"country": "us"}, True),
        ({"country": "US"}, {"country": "CA"}, False),
        ({"country": "US"}, {}, False),
        ({"state": ["NY", "NJ"]}, {"state": "nj"}, True),
        ({"state": {"in": ["NY", "NJ"]}}, {"state": "PA"}, False),
        ({"state": {"not_in": ["NY", "NJ"]}}, {"state": "PA"}, True),
        ({"state": {"not_in": ["NY"]}}, {}, True),
        ({"score": {"gte": 80}}, {"score": 80}, True),
        ({"score": {"gte": 40, "lt": 80}}, {"score": 80}, False),
        ({"score": {"gte": 40, "lt": 80}}, {"score": 40}, True),
        ({"score": {"lte": 39}}, {}, False),
        ({"employees": {"gt": 499}}, {"employees": 500}, True),
        ({"company_size": "enterprise"}, {"employees": 500}, True),
        ({"company_size": "mid_market"}, {"employees": 50}, True),
        ({"company_size": "smb"}, {"employees": 49}, True),
        ({"product_interest": {"prefix": "analytics"}}, {"product_interest": "Analytics X"}, True),
        ({"city": {"exists": True}}, {"city": "Boston"}, True),
        ({"city": {"exists": False}}, {}, True),
        ({"email_domain": "prospect.io"}, {}, True),
        ({"attributes.plan": "pro"}, {"attributes": {"plan": "Pro"}}, True),
        ({"attributes.seats": {"gte": 10}}, {"attributes": {"seats": "12"}}, True),
        ({"attributes.seats": {"gte": 10}}, {"attributes": {"seats": "many"}}, False),
        ({"attributes.seats": {"gte": 10}}, {}, False),
        ({"source": "referral", "lead_type": "event"}, {"source": "Referral"}, False),
        ({"source": "ads", "lead_type": "event"}, {"source": "ads", "lead_type": "event"}, True),
        ({}, {}, True),
    ],
)
def test_operators(when: dict[str, Any], fields: dict[str, Any], expected: bool) -> None:
    assert holds(when, **fields) is expected


def test_account_owner_matches_the_derived_fact() -> None:
    errors: list[FieldError] = []
    (condition,) = parse_conditions({"account_owner": True}, errors=errors, path="")
    assert condition.matches({"account_owner": True})
    assert not condition.matches({"account_owner": False})
    assert condition.describe() == "known account"


@pytest.mark.parametrize(
    ("when", "path", "message"),
    [
        ({"employees": {"gte": "lots"}}, "rules[3].when.employees.gte", "expected a number"),
        ({"employees": {"gte": True}}, "rules[3].when.employees.gte", "expected a number"),
        ({"employees": {"between": [1, 2]}}, "rules[3].when.employees.between", "unknown operator"),
        ({"state": {"in": "NY"}}, "rules[3].when.state.in", "expected a list"),
        ({"city": {"exists": "yes"}}, "rules[3].when.city.exists", "expected true or false"),
        ({"city": {"prefix": ["B"]}}, "rules[3].when.city.prefix", "expected text"),
        ({"city": {}}, "rules[3].when.city", "empty condition"),
        ({"favourite_colour": "red"}, "rules[3].when.favourite_colour", "unknown lead field"),
        ({"attributes.": "x"}, "rules[3].when.attributes.", "unknown lead field"),
        ({"account_owner": "jane"}, "rules[3].when.account_owner", "account_owner: true"),
        ({"country": False}, "rules[3].when.country", "quote it"),
        ({"country": {"in": ["SE", False]}}, "rules[3].when.country.in", "quote it"),
        ({"country": [["US"]]}, "rules[3].when.country", "expected a value"),
        ({"country": None}, "rules[3].when.country", "`exists: false` tests a blank"),
        ({"country": {"not_in": [None]}}, "rules[3].when.country.not_in", "expected a value"),
    ],
)
def test_problems_are_named_by_path(when: dict[str, Any], path: str, message: str) -> None:
    errors: list[FieldError] = []
    parse_conditions(when, errors=errors, path="rules[3].when")
    assert [error.path for error in errors] == [path]
    assert message in errors[0].message


def test_every_problem_is_reported_not_just_the_first() -> None:
    errors: list[FieldError] = []
    when = {"employees": {"gte": "x", "lt": "y"}, "colour": "red"}
    parse_conditions(when, errors=errors, path="w")
    assert [error.path for error in errors] == ["w.employees.gte", "w.employees.lt", "w.colour"]


@pytest.mark.parametrize(
    ("when", "text"),
    [
        ({"employees": {"gte": 500}}, "employees >= 500"),
        ({"score": {"lt": 40}}, "score < 40"),
        ({"country": "US"}, "country = US"),
        ({"state": ["NY", "NJ"]}, "state in [NY, NJ]"),
        ({"state": {"not_in": ["NY"]}}, "state not in [NY]"),
        ({"city": {"exists": True}}, "city is set"),
        ({"city": {"exists": False}}, "city is not set"),
        ({"product_interest": {"prefix": "api"}}, "product_interest starts with api"),
    ],
)
def test_conditions_describe_themselves_for_reasons(when: dict[str, Any], text: str) -> None:
    (condition,) = parse_conditions(when, errors=[], path="")
    assert condition.describe() == text
