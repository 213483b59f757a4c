"""The local workspace's HTTP face: the Web API under ``/api/``, ``response_url``s, file
uploads and downloads, with faults played and every request recorded.

Why apart from the methods: fault injection, recording and HTTP parsing apply to every
route the same way, and a method's logic should not know it is served over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .calls import CallLog, SlackCall
from .faults import FaultPlan
from .webapi import WebApi

__all__ = ["build_http_app", "parse_params"]

# Fields that slack_sdk (and Slack itself) carry as JSON-encoded strings inside form posts.
JSON_STRING_FIELDS = frozenset(
    {"blocks", "attachments", "view", "metadata", "unfurls", "files", "user_auth_blocks"}
)

Answerer = Callable[[str, dict[str, Any], Mapping[str, str]], tuple[int, dict[str, Any]]]


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-encoded strings (``blocks`` in a form post) back into Python objects."""
    for key in JSON_STRING_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def parse_params(query: Iterable[tuple[str, str]], body: bytes, content_type: str) -> dict:
    """Merge query string and body arguments the way Slack reads them."""
    params: dict[str, Any] = dict(query)
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                params.update(decoded)
        elif ctype == "application/x-www-form-urlencoded" or not ctype:
            text = body.decode("utf-8", errors="replace")
            params.update(parse_qsl(text, keep_blank_values=True))
    return _decode_json_fields(params)


def _cut(request: Request) -> None:
    """Reset the request's connection without an answer (uvicorn's h11 cycle holds the
    transport behind its ``receive``; this server always runs h11)."""
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("LocalSlack: cannot reach the connection to cut it")
    transport.abort()


async def _hold(request: Request, seconds: float) -> bool:
    """Hold a request up to ``seconds``; True if the client hung up meanwhile."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), timeout=seconds)
    except TimeoutError:
        return False
    return True


class _Player:
    """Plays one request: the fault planned for it, or the real answer; records it."""

    def __init__(self, log: CallLog, faults: FaultPlan, scopes_header: Callable[[], str]) -> None:
        self.log = log
        self.faults = faults
        self.scopes_header = scopes_header

    async def play(
        self,
        request: Request,
        method: str,
        params: dict[str, Any],
        body: bytes,
        target: str | None,
        answer: Answerer,
        text_reply: str | None = None,
    ) -> Response:
        arrived = time.monotonic()
        headers = {k.lower(): v for k, v in request.headers.items()}
        decision = self.faults.decide(method, params)
        common = {"headers": headers, "at": arrived, "body": body, "target": target}
        scopes = {"x-oauth-scopes": self.scopes_header()}
        if decision.reset_before:
            self.log.record(
                SlackCall(method, params, failed=True, fault=decision.fault, status=0, **common)
            )
            _cut(request)
            return Response(status_code=499)
        if decision.fault is not None:
            payload = {"ok": False, "error": decision.error}
            status = decision.status
            if decision.hang_seconds:
                self.log.record(
                    SlackCall(method, params, failed=True, fault=decision.fault, status=0, **common)
                )
                if await _hold(request, decision.hang_seconds):
                    return Response(status_code=499)
                return JSONResponse(payload, status_code=status)
            if decision.retry_after is not None:
                scopes["Retry-After"] = str(decision.retry_after)
            self.log.record(
                SlackCall(
                    method,
                    params,
                    failed=True,
                    fault=decision.fault,
                    status=status,
                    response=payload,
                    **common,
                )
            )
            return JSONResponse(payload, status_code=status, headers=scopes)
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        status, payload = answer(method, params, headers)
        failed = not payload.get("ok", False)
        fault = f"error:{payload.get('error')}" if failed else None
        if decision.reset_after:
            fault, status = "answer_lost", 0
        self.log.record(
            SlackCall(
                method,
                params,
                failed=failed,
                fault=fault,
                status=status,
                response=payload,
                **common,
            )
        )
        if decision.reset_after:
            _cut(request)
            return Response(status_code=499)
        if text_reply is not None and not failed:
            return PlainTextResponse(text_reply, status_code=status)
        return JSONResponse(payload, status_code=status, headers=scopes)


def build_http_app(
    api: WebApi, log: CallLog, faults: FaultPlan, scopes_header: Callable[[], str]
) -> Starlette:
    """The Starlette app serving the Web API, response URLs and files."""
    player = _Player(log, faults, scopes_header)

    async def web_api(request: Request) -> Response:
        body = await request.body()
        params = parse_params(
            request.query_params.multi_items(), body, request.headers.get("content-type", "")
        )
        method = request.path_params["method"]
        return await player.play(request, method, params, body, None, api.answer)

    async def response_url(request: Request) -> Response:
        body = await request.body()
        ctype = request.headers.get("content-type", "") or "application/json"
        params = parse_params((), body, ctype)
        token = request.path_params["token"]
        return await player.play(
            request,
            "response_url",
            params,
            body,
            token,
            lambda _m, p, _h: (200, api.respond(token, p)),
            text_reply="ok",
        )

    async def upload(request: Request) -> Response:
        body = await request.body()
        file_id = request.path_params["file_id"]
        return await player.play(
            request,
            "file_upload",
            {"file_id": file_id, "size": len(body)},
            body,
            file_id,
            lambda _m, _p, _h: (200, {"ok": True}),
            text_reply=f"OK - {len(body)}",
        )

    async def download(request: Request) -> Response:
        # url_private_download: the bytes, only with a bot token (as on Slack).
        headers = {k.lower(): v for k, v in request.headers.items()}
        file_id = request.path_params["file_id"]
        with api.workspace.lock:
            found = api.workspace.files.get(file_id)
        denied = api.check_auth({}, headers.get("authorization", ""))
        status = 404 if found is None else 403 if denied else 200
        log.record(
            SlackCall(
                "file_download",
                {"file_id": file_id},
                headers=headers,
                at=time.monotonic(),
                failed=status != 200,
                status=status,
                target=file_id,
            )
        )
        if found is None or denied:
            return PlainTextResponse("no", status_code=status)
        return Response(found[1], media_type="application/octet-stream")

    return Starlette(
        routes=[
            Route("/api/{method:path}", web_api, methods=["GET", "POST"]),
            Route("/response_url/{token:path}", response_url, methods=["POST"]),
            Route("/upload/{file_id}", upload, methods=["POST"]),
            Route("/files/{file_id}/{name}", download, methods=["GET"]),
        ]
    )
