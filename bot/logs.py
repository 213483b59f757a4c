"""Logging: one JSON object per line (or plain text for humans), a request id on every
line written while handling a request, and nothing secret or personal in any line.

Why at the formatter: every logger (ours, uvicorn's, Bolt's, SQLAlchemy's) ends in the
root handler, so redacting there covers messages, arguments, extra fields and
tracebacks alike, whoever wrote them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_PHONE = re.compile(r"\+\d[\d ()./-]{5,}\d|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")
_INTERNATIONAL = re.compile(r"\+\d[\d ()./-]{5,}\d")  # _PHONE's first branch
_DIGITS_AND_GAPS = str.maketrans("0123456789.-", "0000000000  ")
_TOKENS = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REDACTED = "[redacted]"

# What every LogRecord carries; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def may_hold_phone(text: str) -> bool:
    """False only when `_PHONE` cannot match `text`. Why: that scan tried both branches
    at every position and was two thirds of redacting a log line (every line has
    digits: its time); this looks for `+digit` and for the second branch's
    `ddd sep ddd sep dddd` core with C string searches (`\\d` also matches non-ASCII
    digits, so non-ASCII text is always scanned)."""
    if not text.isascii() or _INTERNATIONAL.search(text):
        return True
    shape = text.translate(_DIGITS_AND_GAPS)
    return "000 000 0000" in shape or "000) 000 0000" in shape


def mask_phone(match: re.Match[str]) -> str:
    """`+1 555 867 5309` -> `+1********09`: the country and the last two digits."""
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    prefix = "+" if text.startswith("+") else ""
    return f"{prefix}{digits[0]}{'*' * (len(digits) - 3)}{digits[-2:]}"


class Redactor:
    """Removes configured secrets and anything shaped like a token or a password, and
    masks emails and phone numbers."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        # Substring checks first: a regex scan of every line costs more than the line.
        if "xox" in text or "xapp" in text:
            text = _TOKENS.sub(REDACTED, text)
        lowered = text.lower()
        if "bearer" in lowered or "basic" in lowered:
            text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        if "://" in text:
            text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
        if "@" in text:
            text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
        return _PHONE.sub(mask_phone, text) if may_hold_phone(text) else text


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", ...context}` per line."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # One pass over the finished line: every field, nested values included, at the
        # cost of one redaction (what it inserts, `*` and `[redacted]`, is JSON-safe).
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """The classic line for a terminal, with the same redaction and request id."""

    def __init__(self, redact: Redactor):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items() if not k.startswith("_"))
        return self.redact(f"{line} [{rid}]" if rid else line)


def configure_logging(
    fmt: Literal["json", "text"] | None = None, secrets: Iterable[str] = ()
) -> None:
    """Route every logger to one stderr handler; `None` picks text on a terminal and
    JSON otherwise (a container, a service manager, a log shipper)."""
    if fmt is None:
        fmt = "text" if sys.stderr.isatty() else "json"
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fresh_request_id(offered: str | None = None) -> str:
    """The caller's id when it is a sane token (so logs join across systems), else new."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each HTTP request an id (honouring `X-Request-Id`), echoes it in the response
    and logs one line per request; the path only, since query strings may hold tokens."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.log = logging.getLogger("leadrouter.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = fresh_request_id(offered)
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
                self.log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"status": status, "duration_ms": round(elapsed, 1)},
                )
            request_id.reset(token)
