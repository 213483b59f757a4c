"""Limits at the HTTP edge: a body size limit for routes whose handler reads the whole
body itself, and a nesting limit for JSON bodies.

Why: Bolt reads a request's body completely before it checks the signature, so
without a limit anyone could make the process buffer gigabytes on /slack/events. The
intake API streams and limits its own bodies (bot.api.routes).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SLACK_MAX_BODY = 1024 * 1024  # Slack's largest payloads (view submissions) are far smaller


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, path: str, limit: int):
        self.app = app
        self.path = path
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"error": f"body larger than {self.limit} bytes"}, 413)
        await response(scope, receive, send)


MAX_JSON_DEPTH = 32
"""A lead is a flat object with a flat `attributes` map; 32 levels is generous, and
deeper JSON is refused with 422 before anything walks it recursively."""


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does parsed JSON nest deeper than `limit`? Walked with a stack, not recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(body: bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """The body's JSON, or ValueError: not JSON, or nested deeper than `limit` (the C
    parser itself stops at the interpreter's recursion limit with RecursionError)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError(f"JSON nested more than {limit} levels deep") from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not valid JSON") from None
    if too_deep(value, limit):
        raise ValueError(f"JSON nested more than {limit} levels deep")
    return value
