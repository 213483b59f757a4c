"""Intake validation: what a web form or CRM may send, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.lead import BUILTIN_LEAD_TYPES, company_size, parse_lead


def problems(data: Any, known: set[str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_lead(data, known)
    return [(error.path, error.message) for error in caught.value.errors]


def test_a_full_lead_is_normalised() -> None:
    lead = parse_lead(
        {
            "email": " Jane.Doe@Acme.COM ",
            "company_domain": "https://www.acme.com/pricing",
            "source": "Referral",
            "lead_type": "Demo_Request",
            "industry": "Healthcare",
            "employees": "750",
            "score": 88,
            "attended_by": "Bob@Example.com",
            "attributes": {"plan": "pro"},
        }
    )
    assert lead.email == "jane.doe@acme.com" and lead.email_domain == "acme.com"
    assert lead.company_domain == "acme.com"
    assert (lead.source, lead.lead_type) == ("referral", "demo_request")
    assert lead.industry == "healthcare"
    assert lead.employees == 750 and lead.attended_by == "bob@example.com"
    facts = lead.facts()
    assert facts["company_size"] == "enterprise" and facts["attributes.plan"] == "pro"
    assert "attributes" not in facts


def test_a_phone_alone_is_enough_and_the_lead_type_defaults_to_mql() -> None:
    lead = parse_lead({"phone": "+1 (555) 010-2000"})
    assert lead.email is None and lead.lead_type == "mql"


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({}, "body", "email or phone is required"),
        ({"email": "", "phone": ""}, "body", "email or phone is required"),
        ({"email": "not-an-email"}, "email", "is not an email address"),
        ({"phone": "call me"}, "phone", "is not a phone number"),
        ({"email": "a@b.co", "score": 101}, "score", "less than or equal to 100"),
        ({"email": "a@b.co", "score": -1}, "score", "greater than or equal to 0"),
        ({"email": "a@b.co", "employees": "many"}, "employees", "valid integer"),
        ({"email": "a@b.co", "nickname": "JD"}, "nickname", "unknown field"),
        ({"email": "a@b.co", "first_name": "x" * 101}, "first_name", "at most 100"),
        ({"email": "a@b.co", "attended_by": "bob"}, "attended_by", "is not an email address"),
        (
            {"email": "a@b.co", "attributes": {f"k{i}": i for i in range(101)}},
            "attributes",
            "at most 100 attributes",
        ),
        ({"email": "a@b.co", "attributes": ["x"]}, "attributes", "valid dictionary"),
    ],
)
def test_invalid_input_names_the_field(data: dict[str, Any], path: str, message: str) -> None:
    found = problems(data)
    assert any(where == path and message in text for where, text in found), found


def test_every_problem_is_listed() -> None:
    found = problems({"email": "nope", "score": 500, "extra": 1})
    assert {path for path, _ in found} == {"email", "score", "extra"}


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert problems(["a@b.co"]) == [("", "expected a JSON object")]


def test_lead_types_can_be_checked_against_the_configuration() -> None:
    known = set(BUILTIN_LEAD_TYPES)
    assert parse_lead({"email": "a@b.co", "lead_type": "referral"}, known).lead_type == "referral"
    ((path, message),) = problems({"email": "a@b.co", "lead_type": "webinar"}, known)
    assert path == "lead_type"
    assert message.startswith("unknown lead type; known: aged, demo_request")


@pytest.mark.parametrize(
    ("employees", "band"),
    [
        (None, None),
        (0, "smb"),
        (49, "smb"),
        (50, "mid_market"),
        (499, "mid_market"),
        (500, "enterprise"),
    ],
)
def test_company_size_bands(employees: int | None, band: str | None) -> None:
    assert company_size(employees) == band
