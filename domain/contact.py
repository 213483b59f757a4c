"""Contact details typed by strangers: what is refused, and how equal ones are recognised.

Why libraries: an email or phone grammar written by hand accepts `a@x..io` or
`<script>@x.io` and never knows that `(555) 867-5309` and `+1 555 867 5309` are one
number; `email-validator` and `phonenumbers` (Google's libphonenumber) do.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NESTING = 20
"""How deep a free-form value (lead attributes) may nest; real forms send flat maps."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc): C0, DEL and C1. One regular expression
search instead of a category lookup per character: every field of every lead passes."""
_CONTROL_BUT_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first control character in `text` (C0, DEL, C1), as `U+0000`; None when clean.

    `multiline` allows newline, carriage return and tab, for free text such as a note.
    NUL in particular is refused: PostgreSQL cannot store it in a text column."""
    found = (_CONTROL_BUT_BREAKS if multiline else _CONTROL).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


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
