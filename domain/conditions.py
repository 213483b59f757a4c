"""Rule conditions: a plain value (equals), `in`, `not_in`, `gte`/`lte`/`gt`/`lt`,
`prefix`, `exists`, on any lead field, `attributes.NAME`, or `account_owner: true`.

Text compares case-insensitively. Each condition precomputes its folded values once,
because routing evaluates every rule of a large configuration for every lead.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import FieldError
from domain.lead import LEAD_FIELDS, LeadInput

SCORE_FIELDS = frozenset({"grade", "fit_score", "engagement_score", "mql"})
"""What rules may test once the scoring model has scored the lead (domain.scoring)."""
DERIVED_FIELDS = frozenset({"company_size", "account_owner"}) | SCORE_FIELDS
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "gte": operator.ge,
    "lte": operator.le,
    "gt": operator.gt,
    "lt": operator.lt,
}
_OPS = frozenset({"in", "not_in", "prefix", "exists", *_NUMERIC_OPS})
_SYMBOLS = {"gte": ">=", "lte": "<=", "gt": ">", "lt": "<", "eq": "="}
_TEXT_FIELDS = frozenset(
    name
    for name, info in LeadInput.model_fields.items()
    if name != "attributes" and "str" in str(info.annotation)
) | {"email_domain", "company_size", "grade"}


@dataclass(frozen=True)
class Condition:
    """One test on one field; a rule matches when all of its conditions hold."""

    field: str
    op: str
    value: Any
    _test: Callable[[Any], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", _compile(self.op, self.value))

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return self._test(facts.get(self.field))

    @property
    def test(self) -> Callable[[Any], bool]:
        """The test on the field's value alone, for callers that fetch values themselves."""
        return self._test

    def describe(self) -> str:
        """Short human text for decision reasons: `employees >= 500`."""
        if self.field == "account_owner":
            return "known account"
        if self.op in _SYMBOLS:
            return f"{self.field} {_SYMBOLS[self.op]} {self.value}"
        if self.op in ("in", "not_in"):
            listed = ", ".join(str(item) for item in self.value)
            return f"{self.field} {'in' if self.op == 'in' else 'not in'} [{listed}]"
        if self.op == "exists":
            return f"{self.field} {'is set' if self.value else 'is not set'}"
        return f"{self.field} starts with {self.value}"


def _fold(value: Any) -> Any:
    return value.lower() if type(value) is str else value


def _compile(op: str, value: Any) -> Callable[[Any], bool]:
    """The test for one operator; a missing value only satisfies `not_in` and `exists: false`."""
    if op == "exists":
        wanted = bool(value)
        return lambda actual: (actual is not None and actual != "") == wanted
    if op == "eq":
        folded = _fold(value)
        return lambda actual: (actual.lower() if type(actual) is str else actual) == folded
    if op in ("in", "not_in"):
        members = frozenset(_fold(item) for item in value)
        if op == "in":
            return lambda actual: (actual.lower() if type(actual) is str else actual) in members
        return lambda actual: (actual.lower() if type(actual) is str else actual) not in members
    if op == "prefix":
        start = str(value).lower()
        return lambda actual: actual is not None and str(actual).lower().startswith(start)
    compare = _NUMERIC_OPS[op]
    return lambda actual: _number_holds(compare, actual, value)


def _number_holds(compare: Callable[[float, float], bool], actual: Any, bound: float) -> bool:
    if actual is None or isinstance(actual, bool):
        return False
    try:
        return compare(float(actual), bound)
    except (TypeError, ValueError):
        return False


def _known_field(name: str) -> bool:
    return (
        name in LEAD_FIELDS
        or name in DERIVED_FIELDS
        or (name.startswith("attributes.") and len(name) > len("attributes."))
    )


def parse_conditions(
    when: Mapping[str, Any], *, errors: list[FieldError], path: str
) -> list[Condition]:
    """Compile a rule's `when`; append every problem (with its path) to `errors`."""
    conditions: list[Condition] = []
    for name, spec in when.items():
        where = f"{path}.{name}" if path else str(name)
        if not isinstance(name, str) or not _known_field(name):
            errors.append(FieldError(where, "unknown lead field (use attributes.NAME for custom)"))
            continue
        if name == "account_owner":
            if spec is not True:
                errors.append(FieldError(where, "only `account_owner: true` is supported"))
            conditions.append(Condition(name, "eq", True))
            continue
        if isinstance(spec, Mapping):
            conditions.extend(_operator_conditions(name, spec, errors, where))
        elif _plain_value_ok(name, spec, errors, where):
            op = "in" if isinstance(spec, list) else "eq"
            conditions.append(Condition(name, op, tuple(spec) if op == "in" else spec))
    return conditions


def _plain_value_ok(name: str, spec: Any, errors: list[FieldError], where: str) -> bool:
    """Refuse values that cannot be what the author meant, e.g. YAML reading `NO` as false."""
    values = spec if isinstance(spec, list) else [spec]
    for value in values:
        if value is None:
            errors.append(FieldError(where, "expected a value (`exists: false` tests a blank)"))
            return False
        if isinstance(value, Mapping | list):
            errors.append(FieldError(where, "expected a value or a list of values"))
            return False
        if isinstance(value, bool) and name in _TEXT_FIELDS:
            errors.append(
                FieldError(where, "expected text; YAML reads yes/no/on/off as true/false, quote it")
            )
            return False
    return True


def _operator_conditions(
    name: str, spec: Mapping[str, Any], errors: list[FieldError], where: str
) -> list[Condition]:
    conditions = []
    if not spec:
        errors.append(FieldError(where, "empty condition"))
    for op, value in spec.items():
        here = f"{where}.{op}"
        if op not in _OPS:
            errors.append(FieldError(here, f"unknown operator; use one of {sorted(_OPS)}"))
        elif op in _NUMERIC_OPS and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append(FieldError(here, "expected a number"))
        elif op in ("in", "not_in"):
            if not isinstance(value, list):
                errors.append(FieldError(here, "expected a list"))
            elif _plain_value_ok(name, value, errors, here):
                conditions.append(Condition(name, op, tuple(value)))
        elif op == "exists" and not isinstance(value, bool):
            errors.append(FieldError(here, "expected true or false"))
        elif op == "prefix" and (isinstance(value, bool) or not isinstance(value, str | int)):
            errors.append(FieldError(here, "expected text"))
        else:
            conditions.append(Condition(name, op, value))
    return conditions
