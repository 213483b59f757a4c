"""Log redaction and format: secrets never, personal data masked, one JSON object a line.

Why: a log line is copied to log shippers, tickets and screenshots; a token or a
prospect's phone number in one is a leak no later fix can take back.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import (
    _PHONE,
    Redactor,
    configure_logging,
    fresh_request_id,
    may_hold_phone,
    request_id,
)

SECRETS = ["xoxb-1111-2222-abcdef", "signing-s3cret-value", "intake-key-9876", "dbpassw0rd"]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("json", SECRETS)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_masks_emails_and_phones() -> None:
    redact = Redactor()
    assert redact("from jo.prospect@example.com") == "from j***@example.com"
    assert redact("call +1 555 867 5367 now") == "call +1********67 now"
    assert redact("or (555) 867-5309") == "or 5*******09"
    # Ids, Slack timestamps and dates are not phone numbers.
    kept = "lead 4f3a9c outbox 1234567 ts 1700000000.000100 at 2026-11-24T05:08:40Z"
    assert redact(kept) == kept


@given(
    st.from_regex(_PHONE)
    | st.from_regex(re.compile(_PHONE.pattern, re.ASCII), fullmatch=True)
    | st.text()
)
def test_the_phone_precheck_never_skips_a_line_the_phone_pattern_matches(text: str) -> None:
    """The redactor scans for phones only where the precheck says one may be (the
    strings drawn from the pattern hold a match, with ASCII or any other digits)."""
    assert may_hold_phone(text) or _PHONE.search(text) is None


def test_removes_configured_secrets_and_anything_shaped_like_one() -> None:
    redact = Redactor(SECRETS)
    text = (
        "token xoxb-1111-2222-abcdef, other xoxp-9-9-zz, app xapp-1-A0-77, "
        "Authorization: Bearer intake-key-9876, key intake-key-9876 alone, "
        "url postgresql+asyncpg://lead:dbpassw0rd@db/lr, secret signing-s3cret-value"
    )
    out = redact(text)
    for secret in [*SECRETS, "xoxp-9-9-zz", "xapp-1-A0-77"]:
        assert secret not in out
    assert "postgresql+asyncpg://lead:[redacted]@db/lr" in out


def test_json_lines_carry_request_id_context_and_no_secret(captured: io.StringIO) -> None:
    log = logging.getLogger("leadrouter.test")
    token = request_id.set("req-42")
    try:
        log.info(
            "lead from %s with key %s",
            "ann@example.com",
            "intake-key-9876",
            extra={"lead_id": "L1", "contact": {"phone": "+44 20 7946 0958"}, "n": 3},
        )
        try:
            raise RuntimeError("connect failed: postgresql://u:dbpassw0rd@h/db")
        except RuntimeError:
            log.exception("database down (token xoxb-1111-2222-abcdef)")
    finally:
        request_id.reset(token)
    log.warning("outside any request")
    first, second, third = _lines(captured)
    assert first["message"] == "lead from a***@example.com with key [redacted]"
    assert first["request_id"] == "req-42" and first["logger"] == "leadrouter.test"
    assert first["level"] == "INFO" and first["time"].endswith("+00:00")
    assert first["lead_id"] == "L1" and first["n"] == 3
    assert first["contact"] == {"phone": "+4*********58"}
    assert "dbpassw0rd" not in second["exception"] and "RuntimeError" in second["exception"]
    assert "[redacted]" in second["message"]
    assert "request_id" not in third
    everything = captured.getvalue()
    for secret in SECRETS:
        assert secret not in everything


def test_text_format_is_redacted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging("text", SECRETS)
        logging.getLogger("x").warning("bot token %s for bo@example.org", SECRETS[0])
    finally:
        root.handlers[:] = saved
    line = stream.getvalue()
    assert "WARNING x: bot token [redacted] for b***@example.org" in line


def test_request_ids_are_honoured_only_when_sane() -> None:
    assert fresh_request_id("abc-123_X.y:z") == "abc-123_X.y:z"
    assert fresh_request_id("bad id\nwith newline") != "bad id\nwith newline"
    assert len(fresh_request_id(None)) == 32
    assert fresh_request_id("x" * 200) != "x" * 200
