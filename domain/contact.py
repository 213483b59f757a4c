"""Contact details typed by strangers: what is refused, and how equal ones are recognised.

Why libraries: an email or phone grammar written by hand accepts `a@x..io` or
`<script>@x.io` and never knows that `(555) 867-5309` and `+1 555 867 5309` are one
number; `email-validator` and `phonenumbers` (Google's libphonenumber) do.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NESTING = 20
"""How deep a free-form value (lead attributes) may nest; real forms send flat maps."""

_LINE_BREAKS = frozenset("\n\r\t")


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first control character in `text` (C0, DEL, C1), as `U+0000`; None when clean.

    `multiline` allows newline, carriage return and tab, for free text such as a note.
    NUL in particular is refused: PostgreSQL cannot store it in a text column."""
    for character in text:
        if unicodedata.category(character) == "Cc" and not (
            multiline and character in _LINE_BREAKS
        ):
            return f"U+{ord(character):04X}"
    return None


def refuse_control(text: str, multiline: bool = False) -> str:
    """`text` unchanged, or ValueError naming the control character found."""
    found = control_character(text, multiline)
    if found:
        raise ValueError(f"contains a control character ({found})")
    return text


def check_free_form(value: Any, depth: int = 0) -> None:
    """A JSON-like value (attributes): no control characters in keys, none but line breaks
    in strings, and at most MAX_NESTING levels deep. Raises ValueError."""
    if depth > MAX_NESTING:
        raise ValueError(f"nested more than {MAX_NESTING} levels deep")
    if isinstance(value, str):
        refuse_control(value, multiline=True)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_control(str(key))
            check_free_form(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_free_form(item, depth + 1)


def normalise_email(text: str) -> str:
    """The address lower-cased after email-validator's normalisation; ValueError if it is
    not an address. No DNS lookup: intake must not wait on (or leak to) a resolver."""
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("is not an email address") from None
    return checked.normalized.lower()


def phone_key(phone: str, country: str | None = None) -> str:
    """One spelling per number, for deduplication: E.164 (`+15558675309`) when
    libphonenumber can read it (a number without `+` is read in the lead's country, if
    that is a two-letter code), else the bare digits."""
    region = country.upper() if country and len(country) == 2 and country.isalpha() else None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "".join(character for character in phone if character.isdigit())
