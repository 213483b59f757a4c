"""Intake profiles: how a sender's own payload becomes our lead, as configuration data.

A profile names where each lead field comes from (a path into the sender's JSON, a
constant, a value map, half of a full name), how the sender proves who it is (its own
signature scheme, or our bearer key), and where the records sit in its payload. The
built-in profiles (`hubspot`, `typeform`, `meta`, `linkedin`, `salesforce`, `zapier`,
`generic`) ship as YAML files beside this module and go through this same schema; a
profile in the configuration with a built-in's name replaces it, and `extends: NAME`
starts from another profile and overrides field by field.

Secrets never sit in the configuration (it is exported and shown in Slack): a profile
names the environment variable that holds its secret.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from domain.durations import parse_duration
from domain.errors import FieldError
from domain.json_paths import JsonPath, PathError, parse_path
from domain.lead import LeadInput

BUILTIN_PROFILES = ("hubspot", "typeform", "meta", "linkedin", "salesforce", "zapier", "generic")
TARGET_FIELDS = frozenset(LeadInput.model_fields) - {"attributes"}
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _path_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a path like properties.email, got {value!r}")
    try:
        parse_path(value)
    except PathError as error:
        raise ValueError(str(error)) from None
    return value


PathText = Annotated[str, BeforeValidator(_path_text)]


class FieldSource(_Strict):
    """One place a lead field may come from. The first of `path` that reaches a value
    wins; `value` is a constant; `map` translates the sender's wording (case-insensitive);
    `default` is used when no source found anything (or the map has no entry)."""

    path: list[PathText] = Field(default_factory=list)
    value: Any = None
    map: dict[str, Any] | None = None
    default: Any = None
    split_name: Literal["first", "last"] | None = None

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("map")
    @classmethod
    def _fold_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if not value:
            return value
        return {str(key).strip().casefold(): item for key, item in value.items()}

    @cached_property
    def paths(self) -> list[JsonPath]:
        """Parsed once per profile, not per request."""
        return [parse_path(text) for text in self.path]


def _field_sources(value: Any) -> Any:
    """A field's sources, tried in order until one gives a value: `email: a.b` is short
    for `[{path: a.b}]`, and a list may mix paths with full sources."""
    items = value if isinstance(value, list) else [value]
    return [{"path": item} if isinstance(item, str | list) else item for item in items]


def _seconds(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(parse_duration(str(value)).total_seconds())


class AuthConfig(_Strict):
    """How a sender proves who it is.

    `bearer`: our own `Authorization: Bearer <key>` (Zapier, Salesforce flows, generic);
    `key_in_query` also accepts `?key=<key>` for senders that cannot set a header
    (Salesforce outbound messages). `hubspot_v3`, `meta`, `typeform`: the
    vendor's HMAC signature with the secret in the environment variable `secret_env`.
    """

    scheme: Literal["bearer", "hubspot_v3", "meta", "typeform"] = "bearer"
    secret_env: str | None = None
    verify_token_env: str | None = None
    max_age: Annotated[int, BeforeValidator(_seconds)] = 300  # seconds; "5m" is accepted
    key_in_query: bool = False

    @field_validator("secret_env", "verify_token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"expected an environment variable name like MY_SECRET, got {value!r}")
        return value

    @property
    def signed(self) -> bool:
        return self.scheme != "bearer"


class RetrieveConfig(_Strict):
    """Fetch each record's full data from the sender's API before mapping, for senders
    whose notification names a lead without its answers (Meta's `leadgen_id`). `url`
    may name the record's top-level values in braces; the token (from `token_env`) goes
    in `Authorization: Bearer`. Records that already have the key `unless` are mapped
    as they are."""

    url: str
    token_env: str
    unless: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("expected an http(s) URL")
        return value

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"expected an environment variable name like MY_TOKEN, got {value!r}")
        return value


class IntakeProfile(_Strict):
    name: str
    extends: str | None = None
    description: str | None = None
    format: Literal["json", "salesforce"] = "json"
    records: list[PathText] = Field(default_factory=list)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    submitter: str | None = None
    retrieve: RetrieveConfig | None = None
    fields: dict[str, Annotated[list[FieldSource], BeforeValidator(_field_sources)]] = Field(
        default_factory=dict
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _PROFILE_NAME.match(value):
            raise ValueError("lower-case letters, digits, - and _ (it is part of the URL)")
        return value

    @field_validator("fields")
    @classmethod
    def _targets(cls, value: dict[str, list[FieldSource]]) -> dict[str, list[FieldSource]]:
        for target in value:
            if target not in TARGET_FIELDS and not _attribute(target):
                known = ", ".join(sorted(TARGET_FIELDS))
                raise ValueError(f"{target!r} is not a lead field ({known}) or attributes.NAME")
        return value

    @field_validator("records", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @cached_property
    def records_paths(self) -> list[JsonPath]:
        """Where the records may sit, tried in order; none: the body is the record (or a
        list of them)."""
        return [parse_path(text) for text in self.records]


def _attribute(target: str) -> bool:
    prefix, _, name = target.partition(".")
    return prefix == "attributes" and bool(name)


@cache
def builtin_profiles() -> dict[str, IntakeProfile]:
    """The profiles shipped with the app, read once from the package's YAML files."""
    folder = resources.files("domain") / "builtin_profiles"
    profiles = {}
    for name in BUILTIN_PROFILES:
        data = yaml.safe_load((folder / f"{name}.yml").read_text(encoding="utf-8"))
        profiles[name] = IntakeProfile.model_validate(data)
    return profiles


def resolve_profile(name: str, custom: list[IntakeProfile]) -> IntakeProfile:
    """The profile called `name`: a configured one before a built-in. Raises KeyError."""
    for profile in custom:
        if profile.name == name:
            return profile
    return builtin_profiles()[name]


def known_profiles(custom: list[IntakeProfile]) -> list[str]:
    return sorted(set(BUILTIN_PROFILES) | {profile.name for profile in custom})


def expand_profiles(profiles: list[IntakeProfile]) -> list[IntakeProfile]:
    """Each profile with its `extends` applied: the base's settings and fields, then the
    ones this profile sets. Done when the configuration is read, so the stored (and
    exported) profile is whole and reading it back gives the same profile."""
    by_name = {profile.name: profile for profile in profiles}
    return [_resolved(profile.name, by_name, ()) for profile in profiles]


def _resolved(name: str, custom: dict[str, IntakeProfile], seen: tuple[str, ...]) -> IntakeProfile:
    profile = custom.get(name)
    if profile is None:
        return builtin_profiles()[name]
    if profile.extends is None or profile.extends not in {*custom, *BUILTIN_PROFILES}:
        return profile  # an unknown base is reported by check_profiles
    if profile.extends == name:  # a built-in adjusted under its own name
        base = builtin_profiles()[name]
    elif profile.extends in seen:
        raise ValueError(f"profiles extend each other in a loop: {' -> '.join((*seen, name))}")
    else:
        base = _resolved(profile.extends, custom, (*seen, name))
    overrides = {key: getattr(profile, key) for key in profile.model_fields_set - {"fields"}}
    return base.model_copy(update={**overrides, "fields": {**base.fields, **profile.fields}})


def check_profiles(data: Any) -> list[FieldError]:
    """Cross-checks on the raw `intake_profiles` list: unique names, known `extends`."""
    if not isinstance(data, list):
        return []
    errors: list[FieldError] = []
    names = [item.get("name") for item in data if isinstance(item, dict)]
    known = set(BUILTIN_PROFILES) | {name for name in names if isinstance(name, str)}
    seen: set[str] = set()
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            continue
        name, base = item.get("name"), item.get("extends")
        if name in seen:
            errors.append(FieldError(f"intake_profiles[{index}].name", f"{name} is listed twice"))
        seen.add(name)
        if base is not None and base not in known:
            errors.append(FieldError(f"intake_profiles[{index}].extends", f"no profile {base!r}"))
    return errors
