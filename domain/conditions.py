"""Rule conditions: a plain value (equals), `in`, `not_in`, `gte`/`lte`/`gt`/`lt`,
`prefix`, `exists`, on any lead field, `attributes.NAME`, or `account_owner: true`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import FieldError
from domain.lead import LEAD_FIELDS

DERIVED_FIELDS = frozenset({"company_size", "account_owner"})
_NUMERIC_OPS = ("gte", "lte", "gt", "lt")
_OPS = frozenset({"in", "not_in", "prefix", "exists", *_NUMERIC_OPS})


@dataclass(frozen=True)
class Condition:
    """One test on one field; a rule matches when all of its conditions hold."""

    field: str
    op: str
    value: Any

    def matches(self, facts: Mapping[str, Any]) -> bool:
        actual = facts.get(self.field)
        if self.op == "exists":
            return (actual not in (None, "")) == bool(self.value)
        if actual is None:
            return self.op == "not_in"
        if self.op == "eq":
            return _fold(actual) == _fold(self.value)
        if self.op == "in":
            return _fold(actual) in {_fold(item) for item in self.value}
        if self.op == "not_in":
            return _fold(actual) not in {_fold(item) for item in self.value}
        if self.op == "prefix":
            return str(actual).lower().startswith(str(self.value).lower())
        return _compare(self.op, actual, self.value)

    def describe(self) -> str:
        """Short human text for decision reasons: `employees >= 500`."""
        symbols = {"gte": ">=", "lte": "<=", "gt": ">", "lt": "<", "eq": "="}
        if self.op in symbols:
            return f"{self.field} {symbols[self.op]} {self.value}"
        if self.op in ("in", "not_in"):
            listed = ", ".join(str(item) for item in self.value)
            return f"{self.field} {'in' if self.op == 'in' else 'not in'} [{listed}]"
        if self.op == "exists":
            return f"{self.field} {'is set' if self.value else 'is not set'}"
        return f"{self.field} starts with {self.value}"


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(op: str, actual: Any, bound: Any) -> bool:
    try:
        number = float(actual)
    except (TypeError, ValueError):
        return False
    return {
        "gte": number >= bound,
        "lte": number <= bound,
        "gt": number > bound,
        "lt": number < bound,
    }[op]


def _known_field(name: str) -> bool:
    return name in LEAD_FIELDS or name in DERIVED_FIELDS or (
        name.startswith("attributes.") and len(name) > len("attributes.")
    )


def parse_conditions(
    when: Mapping[str, Any], *, errors: list[FieldError], path: str
) -> list[Condition]:
    """Compile a rule's `when`; append every problem (with its path) to `errors`."""
    conditions: list[Condition] = []
    for field, spec in when.items():
        where = f"{path}.{field}" if path else field
        if not _known_field(field):
            errors.append(FieldError(where, "unknown lead field (use attributes.NAME for custom)"))
            continue
        if field == "account_owner":
            if spec is not True:
                errors.append(FieldError(where, "only `account_owner: true` is supported"))
            conditions.append(Condition(field, "eq", True))
            continue
        if isinstance(spec, Mapping):
            conditions.extend(_operator_conditions(field, spec, errors, where))
        elif isinstance(spec, list):
            conditions.append(Condition(field, "in", tuple(spec)))
        else:
            conditions.append(Condition(field, "eq", spec))
    return conditions


def _operator_conditions(
    field: str, spec: Mapping[str, Any], errors: list[FieldError], where: str
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
        elif op in ("in", "not_in") and not isinstance(value, list):
            errors.append(FieldError(here, "expected a list"))
        elif op == "exists" and not isinstance(value, bool):
            errors.append(FieldError(here, "expected true or false"))
        elif op == "prefix" and not isinstance(value, str | int):
            errors.append(FieldError(here, "expected text"))
        else:
            conditions.append(Condition(field, op, tuple(value) if op.endswith("in") else value))
    return conditions
