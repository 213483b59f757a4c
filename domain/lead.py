"""The lead as it arrives (validated intake) and its lifecycle."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.contact import check_free_form, normalise_email, phone_key, refuse_control
from domain.errors import FieldError, InvalidInput, format_location

_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,32}$")
BUILTIN_LEAD_TYPES = ("demo_request", "referral", "outbound_reply", "mql", "event", "aged")
DEFAULT_LEAD_TYPE = "mql"
Input = TypeVar("Input", bound=BaseModel)


class LeadStatus(StrEnum):
    """Where a lead stands. Terminal states end every SLA clock."""

    NEW = "new"
    NURTURE = "nurture"
    """Below the MQL line (or sent back by a rep): marketing's, paging nobody."""
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"


class Method(StrEnum):
    """How a team receives leads: push (assign and DM), pull (claim in channel), pool."""

    PUSH = "push"
    PULL = "pull"
    POOL = "pool"


class LeadInput(BaseModel):
    """A lead as a web form, an ad platform or a CRM sends it. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=254)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    company: str | None = Field(default=None, max_length=200)
    company_domain: str | None = Field(default=None, max_length=253)
    country: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=64)
    state: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=100)
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    product_interest: str | None = Field(default=None, max_length=200)
    score: int | None = Field(default=None, ge=0, le=100)
    source: str | None = Field(default=None, max_length=64)
    lead_type: str = Field(default=DEFAULT_LEAD_TYPE, max_length=64)
    attended_by: str | None = Field(default=None, max_length=254)
    external_id: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Before whitespace is stripped, so a trailing NUL or newline is refused too."""
        if isinstance(value, str):
            refuse_control(value)
        return value

    @field_validator("email", "attended_by")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone_shape(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _PHONE.match(value):
            raise ValueError("is not a phone number")
        return value

    @field_validator("company_domain")
    @classmethod
    def _domain_shape(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
        return value.split("/")[0]

    @field_validator("source", "lead_type", "industry")
    @classmethod
    def _lower_token(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @field_validator("attributes")
    @classmethod
    def _flat_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 100:
            raise ValueError("at most 100 attributes")
        check_free_form(value)
        return value

    @model_validator(mode="after")
    def _reachable(self) -> LeadInput:
        if not self.email and not self.phone:
            raise ValueError("email or phone is required")
        return self

    @property
    def email_domain(self) -> str | None:
        return self.email.split("@", 1)[1] if self.email else None

    @cached_property
    def phone_key(self) -> str | None:
        """The phone in one spelling, so the same number typed two ways is one lead; only
        for a lead without an email (the email is its key then, and libphonenumber's
        parse costs more than the rest of validation, on every lead of the hot path)."""
        return phone_key(self.phone, self.country) if self.phone and not self.email else None

    def facts(self) -> dict[str, Any]:
        """The values rules look at, with `attributes.NAME` flattened in."""
        values = self.model_dump(exclude={"attributes"})
        values["email_domain"] = self.email_domain
        values["company_size"] = company_size(self.employees)
        for name, value in self.attributes.items():
            values[f"attributes.{name}"] = value
        return values


def company_size(employees: int | None) -> str | None:
    """The documents' bands: enterprise 500+, mid-market 50-499, SMB under 50."""
    if employees is None:
        return None
    if employees >= 500:
        return "enterprise"
    return "mid_market" if employees >= 50 else "smb"


LEAD_FIELDS = frozenset(LeadInput.model_fields) - {"attributes"} | {"email_domain"}


def parse_lead(data: Any, known_lead_types: set[str] | None = None) -> LeadInput:
    """Validate raw intake data; raise InvalidInput listing every field's problem."""
    lead = validate_input(LeadInput, data)
    if known_lead_types is not None and lead.lead_type not in known_lead_types:
        known = ", ".join(sorted(known_lead_types))
        raise InvalidInput([FieldError("lead_type", f"unknown lead type; known: {known}")])
    return lead


def validate_input(model: type[Input], data: Any) -> Input:
    """Validate a sender's JSON object into `model`, or raise InvalidInput listing every
    field's problem in words a form sender understands."""
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("", "expected a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(format_location(item["loc"]) or "body", _message(item))
                for item in error.errors()
            ]
        ) from None


def _message(item: dict[str, Any]) -> str:
    if item["type"] == "extra_forbidden":
        return "unknown field"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")
