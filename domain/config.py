"""The one configuration schema: the YAML file, the admin modals and the database all use it.

`load_config` refuses an invalid file whole and names every error's path, e.g.
`rules[3].when.employees.gte: expected a number`. `dump_config` writes the canonical
form, so export then import gives back the same configuration.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from domain.availability_config import (
    AcceptWithin,
    AvailabilitySettings,
    PeriodCaps,
    TeamAvailability,
    TeamCaps,
    check_team_availability,
)
from domain.business_hours import BusinessCalendar
from domain.conditions import Condition, parse_conditions
from domain.config_checks import routing_checks
from domain.config_fields import (
    ChannelRef,
    SlackId,
    UserRef,
    check_timezone,
    parse_working_hours,
)
from domain.config_yaml import parse_yaml
from domain.durations import Duration, parse_duration
from domain.errors import FieldError, InvalidInput, format_location
from domain.experiment_config import ExperimentConfig, experiment_errors
from domain.intake_profiles import IntakeProfile, check_profiles, expand_profiles
from domain.lead import BUILTIN_LEAD_TYPES, Method
from domain.review_config import ReviewConfig
from domain.scoring_config import ScoringConfig, scoring_errors
from domain.webhooks import WebhookEndpoint, check_webhooks

MAX_CONFIG_BYTES = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PtoRange(_Strict):
    """Days off, inclusive on both ends, in the rep's own timezone."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: date, info: Any) -> date:
        start = info.data.get("start")
        if start and end < start:
            raise ValueError("must not be before `from`")
        return end


class RepConfig(_Strict):
    user: SlackId | None = None
    email: str | None = None
    name: str | None = None
    timezone: str = "UTC"
    working_hours: dict[str, str] | None = None
    capacity: int | None = Field(default=None, ge=0)
    pto: list[PtoRange] = Field(default_factory=list)
    active: bool = True
    caps: PeriodCaps | None = None  # leads per day / week across every team

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            parse_working_hours(value)
        return value

    @property
    def key(self) -> str:
        """The Slack id once known; before `email:` is resolved, the email stands in."""
        return self.user or f"email:{self.email}"

    def shifts(self) -> dict[int, list[tuple[time, time]]] | None:
        return parse_working_hours(self.working_hours) if self.working_hours else None


class BusinessHours(_Strict):
    """When a team's SLA clock runs; outside these hours it is paused."""

    timezone: str
    hours: dict[str, str]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        if not any(parse_working_hours(value).values()):
            raise ValueError("at least one day needs hours")
        return value

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.timezone, parse_working_hours(self.hours))


class Member(_Strict):
    user: str
    weight: int = Field(default=1, ge=1, le=100)


class DigestSchedule(_Strict):
    """When the team's manager gets the weekly digest, in the manager's own timezone."""

    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)


class TeamConfig(_Strict):
    name: str = Field(min_length=1, max_length=80)
    channel: ChannelRef | None = None
    method: Method = Method.PUSH
    strategy: Literal["round_robin", "weighted", "least_loaded"] = "round_robin"
    manager: UserRef | None = None
    backup: UserRef | None = None
    members: list[Member] = Field(default_factory=list)
    business_hours: BusinessHours | None = None
    # May a rep who is on PTO, off shift or at capacity still claim from the channel?
    claim_when_unavailable: Literal["refuse", "allow"] = "refuse"
    # Optional: a weekly stats digest DM to the manager (absent: none).
    digest: DigestSchedule | None = None
    # Optional (domain.availability_config): Slack signals, accept window, caps.
    availability: TeamAvailability | None = None
    accept_within: AcceptWithin | None = None
    caps: TeamCaps | None = None


class AccountConfig(_Strict):
    domain: str
    owner: str
    name: str | None = None

    @field_validator("domain")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class RuleAction(_Strict):
    team: str | None = None
    route_to: Literal["account_owner", "attendee"] | None = None
    method: Method | None = None
    strategy: Literal["round_robin", "weighted", "least_loaded"] | None = None
    fallback_team: str | None = None


class RuleConfig(_Strict):
    name: str = Field(min_length=1, max_length=120)
    when: dict[str, Any] | None = None
    then: RuleAction

    def conditions(self) -> list[Condition]:
        """Compiled conditions; the configuration was validated, so this cannot fail."""
        return parse_conditions(self.when or {}, errors=[], path="")


class EscalationStep(_Strict):
    after: Duration
    do: Literal["reassign", "notify_manager", "repost_to_channel", "notify_owner"]


class SlaConfig(_Strict):
    respond_within: Duration
    remind_at: list[str] = Field(default_factory=list)
    escalation: list[EscalationStep] | None = None

    @field_validator("respond_within")
    @classmethod
    def _some_time(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be more than 0s: nobody can answer a lead in no time")
        return value

    @field_validator("remind_at")
    @classmethod
    def _reminders(cls, values: list[str]) -> list[str]:
        for value in values:
            reminder_offset(str(value), timedelta(hours=1))
        return [str(value) for value in values]


def reminder_offset(spec: str, respond_within: timedelta) -> timedelta:
    """`50%` of the SLA or a duration after the clock starts."""
    spec = spec.strip()
    if spec.endswith("%"):
        try:
            percent = float(spec[:-1])
        except ValueError:
            raise ValueError(f"expected a percentage like 80%, got {spec!r}") from None
        if not 0 < percent < 100:
            raise ValueError(f"a reminder must fall inside the SLA, got {spec!r}")
        return respond_within * (percent / 100)
    return parse_duration(spec)


def default_slas() -> dict[str, SlaConfig]:
    """The documents' defaults: speed to lead decides conversion."""
    within = {
        "demo_request": "5m",
        "referral": "15m",
        "outbound_reply": "30m",
        "mql": "2h",
        "event": "24h",
        "aged": "48h",
    }
    return {kind: SlaConfig(respond_within=value) for kind, value in within.items()}


class Config(_Strict):
    version: Literal[1] = 1
    admins: list[UserRef] = Field(default_factory=list)
    reps: list[RepConfig] = Field(default_factory=list)
    teams: list[TeamConfig] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    slas: dict[str, SlaConfig] = Field(default_factory=default_slas)
    dedup_window: Duration = timedelta(hours=24)
    availability: AvailabilitySettings | None = None

    @property
    def availability_settings(self) -> AvailabilitySettings:
        """The `availability:` section, or its defaults when the file has none."""
        return self.availability or _DEFAULT_AVAILABILITY

    scoring: ScoringConfig | None = None
    # Optional, and absent from an export when unset (see domain.experiment_config).
    experiments: list[ExperimentConfig] | None = None
    review: ReviewConfig | None = None
    intake_profiles: list[IntakeProfile] = Field(default_factory=list)
    webhooks: list[WebhookEndpoint] = Field(default_factory=list)

    @field_validator("intake_profiles")
    @classmethod
    def _expanded(cls, profiles: list[IntakeProfile]) -> list[IntakeProfile]:
        return expand_profiles(profiles)

    def team(self, name: str) -> TeamConfig | None:
        return next((team for team in self.teams if team.name == name), None)

    def rep(self, user: str) -> RepConfig | None:
        return next((rep for rep in self.reps if user in (rep.user, rep.email)), None)

    def lead_types(self) -> set[str]:
        return set(BUILTIN_LEAD_TYPES) | set(self.slas)

    def sla_for(self, lead_type: str) -> SlaConfig:
        """The configured SLA, else the documents' default, else the MQL one."""
        defaults = default_slas()
        return self.slas.get(lead_type) or defaults.get(lead_type) or defaults["mql"]

    def experiment(self, name: str) -> ExperimentConfig | None:
        return next((e for e in self.experiments or () if e.name == name), None)

    def account_owner(self, *domains: str | None) -> AccountConfig | None:
        wanted = {domain.lower() for domain in domains if domain}
        return next((account for account in self.accounts if account.domain in wanted), None)


_DEFAULT_AVAILABILITY = AvailabilitySettings()


def validate_config(data: Any) -> Config:
    """Validate parsed data into a Config, or raise InvalidInput with every error's path:
    shape errors (pydantic) and reference errors (cross-checks) are reported together."""
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("", "the configuration must be a mapping")])
    errors: list[FieldError] = []
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        errors.extend(
            FieldError(format_location(item["loc"]), _pydantic_message(item))
            for item in error.errors()
        )
    errors.extend(_cross_check(data))
    errors.extend(routing_checks(data))
    errors.extend(scoring_errors(data))
    errors.extend(check_profiles(data.get("intake_profiles")))
    errors.extend(check_webhooks(data.get("webhooks")))
    if errors or config is None:
        raise InvalidInput(errors)
    return config


def load_config(text: str | bytes) -> Config:
    """Safely parse YAML (no tags, no code) and validate it whole."""
    if len(text) > MAX_CONFIG_BYTES:
        raise InvalidInput([FieldError("", f"file larger than {MAX_CONFIG_BYTES} bytes")])
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput([FieldError(where, f"not valid YAML: {problem}")]) from None
    return validate_config(data)


def dump_config(config: Config) -> str:
    """Canonical YAML: what `config export` writes and `config import` reads back."""
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _pydantic_message(item: Any) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in {"int_parsing", "int_type", "float_parsing", "float_type"}:
        return "expected a number"
    return str(item["msg"]).removeprefix("Value error, ")


def _items(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a top-level list; shape errors are pydantic's to report."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _cross_check(data: dict[str, Any]) -> list[FieldError]:
    """What one field alone cannot tell: references, uniqueness, rule order. Runs on the
    raw data, so it reports alongside shape errors instead of after them."""
    errors: list[FieldError] = []
    rep_keys: set[str] = set()
    for index, rep in _items(data, "reps"):
        keys = [key for key in (rep.get("user"), rep.get("email")) if isinstance(key, str)]
        if not keys:
            errors.append(FieldError(f"reps[{index}]", "needs `user` or `email`"))
        for key in keys:
            if key in rep_keys:
                errors.append(FieldError(f"reps[{index}]", f"{key} is listed twice"))
            rep_keys.add(key)

    def check_rep(path: str, user: Any) -> None:
        if isinstance(user, str) and user.removeprefix("email:") not in rep_keys:
            errors.append(FieldError(path, f"{user} is not in `reps`"))

    team_names: set[str] = set()
    for index, team in _items(data, "teams"):
        name = team.get("name")
        if name in team_names:
            errors.append(FieldError(f"teams[{index}].name", f"duplicate team {name!r}"))
        if isinstance(name, str):
            team_names.add(name)
        method = team.get("method")
        if method in ("pull", "pool") and not team.get("channel"):
            errors.append(FieldError(f"teams[{index}].channel", f"a {method} team needs a channel"))
        errors.extend(check_team_availability(team, f"teams[{index}]"))
        members = team.get("members")
        seen: set[str] = set()
        for position, member in enumerate(members if isinstance(members, list) else []):
            user = member.get("user") if isinstance(member, dict) else None
            path = f"teams[{index}].members[{position}].user"
            check_rep(path, user)
            if user in seen:
                errors.append(FieldError(path, f"{user} is listed twice"))
            if isinstance(user, str):
                seen.add(user)
    for index, account in _items(data, "accounts"):
        check_rep(f"accounts[{index}].owner", account.get("owner"))
    rules = _items(data, "rules")
    for position, (index, rule) in enumerate(rules):
        path = f"rules[{index}]"
        when = rule.get("when")
        if isinstance(when, dict):
            parse_conditions(when, errors=errors, path=f"{path}.when")
        action = rule.get("then") if isinstance(rule.get("then"), dict) else {}
        for key in ("team", "fallback_team"):
            name = action.get(key)
            if name is not None and name not in team_names:
                errors.append(FieldError(f"{path}.then.{key}", f"no team named {name!r}"))
        if (
            isinstance(rule.get("then"), dict)
            and not action.get("team")
            and not action.get("route_to")
        ):
            errors.append(FieldError(f"{path}.then", "needs `team` or `route_to`"))
        last = position == len(rules) - 1
        if last and when:
            errors.append(FieldError(f"{path}.when", "the last rule catches the rest: no `when`"))
        if not last and not when:
            errors.append(FieldError(f"{path}.when", "only the last rule may omit `when`"))
    if team_names and not rules:
        errors.append(FieldError("rules", "at least one rule is needed to route leads"))
    errors.extend(experiment_errors(data, team_names))
    return errors
