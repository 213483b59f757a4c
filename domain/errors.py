"""Errors the domain raises; adapters turn them into HTTP codes or Slack messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem at one place: `rules[3].when.employees.gte: expected a number`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DomainError(Exception):
    """A request the domain refuses, with a message fit for the person who made it."""


class InvalidInput(DomainError):
    """Input refused whole, with every problem listed."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


def format_location(location: tuple[str | int, ...]) -> str:
    """Turn a pydantic error location into `rules[3].when.employees`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
