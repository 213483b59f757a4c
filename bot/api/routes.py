"""The intake API: authenticated, validated, size-limited; a 201 or 200 means durable."""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.api.access import KeyGate
from bot.api.fast_json import FastJSONResponse
from bot.api.rate_limit import RateLimiter
from bot.api.serializers import lead_json
from bot.api_keys import Scope
from bot.http_limits import parse_json
from bot.metrics import INTAKE_RATE_LIMITED, LEADS_DUPLICATE, LEADS_RECEIVED, LEADS_ROUTED
from bot.services.activity import ActivityService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions, LeadNotFound
from bot.services.privacy import PrivacyService
from bot.settings import ApiKey, Settings
from domain.activity import parse_activity
from domain.contact import control_character, refuse_control
from domain.errors import DomainError, FieldError, InvalidInput, format_location
from domain.lead import LeadInput, parse_lead
from domain.lifecycle import OUTCOME_EVENTS

log = logging.getLogger(__name__)

MAX_LEAD_BYTES = 64 * 1024
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_BATCH_ITEMS = 1000


class TooLarge(Exception):
    pass


class OutcomeEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^(" + "|".join(OUTCOME_EVENTS) + ")$")
    at: datetime | None = None
    by: str | None = Field(default=None, max_length=254)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("by")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else refuse_control(value)

    @field_validator("note")
    @classmethod
    def _free_text(cls, value: str | None) -> str | None:
        return None if value is None else refuse_control(value, multiline=True)


def errors_response(errors: list[FieldError], status: int = 422) -> FastJSONResponse:
    return FastJSONResponse(
        {"errors": [{"field": e.path or "body", "message": e.message} for e in errors]},
        status_code=status,
    )


def problem(message: str, status: int) -> FastJSONResponse:
    return FastJSONResponse({"error": message}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (TooLarge) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


async def _read_json(request: Request, limit: int) -> Any:
    body = await read_body(request, limit)
    try:
        return parse_json(bytes(body))
    except ValueError as error:
        raise InvalidInput([FieldError("body", str(error))]) from None


MAX_IDEMPOTENCY_KEY = 180
"""The stored key is at most 200 characters; a batch adds `:<index>` to it."""


def _idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header, or 422: PostgreSQL refuses a value longer than its
    column (a 500 before this check), and a key is an id, not text."""
    value = request.headers.get("idempotency-key")
    if value is not None and (len(value) > MAX_IDEMPOTENCY_KEY or control_character(value)):
        message = f"at most {MAX_IDEMPOTENCY_KEY} characters, no control characters"
        raise InvalidInput([FieldError("Idempotency-Key", message)])
    return value


def _count(submitter: str, duplicate: bool, body: dict[str, Any]) -> None:
    """Metrics, and one log line whose context fields let a lead be traced by id."""
    if duplicate:
        LEADS_DUPLICATE.labels(submitter).inc()
    else:
        LEADS_RECEIVED.labels(submitter).inc()
        LEADS_ROUTED.labels(body["method"]).inc()
    context = {key: body[key] for key in ("status", "team", "owner", "method")}
    log.info(
        "lead %s %s",
        body["id"],
        "duplicate" if duplicate else "received",
        extra={"lead_id": body["id"], "submitter": submitter, "duplicate": duplicate, **context},
    )


class IntakeApi:
    def __init__(
        self,
        settings: Settings,
        intake: IntakeService,
        actions: LeadActions,
        privacy: PrivacyService,
        activities: ActivityService,
        gate: KeyGate | None = None,
    ):
        self.settings = settings
        self.gate = gate or KeyGate(settings)
        self.intake = intake
        self.actions = actions
        self.privacy = privacy
        self.activities = activities
        self.limiter = RateLimiter(settings.rate_limit)

    def routes(self) -> list[Route]:
        return [
            Route("/api/leads", self.create_lead, methods=["POST"]),
            Route("/api/leads/batch", self.create_batch, methods=["POST"]),
            Route("/api/leads/{lead_id}", self.get_lead, methods=["GET"]),
            Route("/api/leads/{lead_id}", self.erase_lead, methods=["DELETE"]),
            Route("/api/leads/{lead_id}/events", self.post_event, methods=["POST"]),
            Route("/api/leads/{lead_id}/activity", self.post_activity, methods=["POST"]),
        ]

    async def _guarded(
        self, request: Request, scope: Scope, handler: Any, limit: int = MAX_LEAD_BYTES
    ) -> Response:
        key = self.gate.admit(request, scope)
        if isinstance(key, Response):
            return key
        limited = self.rate_limited(key.name)
        if limited is not None:
            return limited
        try:
            return await handler(request, key, limit)
        except TooLarge:
            return problem(f"body larger than {limit} bytes", 413)
        except InvalidInput as error:
            return errors_response(error.errors)
        except LeadNotFound as error:
            return problem(str(error), 404)
        except DomainError as error:
            return problem(str(error), 409)

    async def create_lead(self, request: Request) -> Response:
        return await self._guarded(request, Scope.INTAKE, self._create_lead)

    async def _create_lead(self, request: Request, key: ApiKey, limit: int) -> Response:
        data = await _read_json(request, limit)
        lead = parse_lead(data)
        body, status = await self.submit(key.name, lead, _idempotency_key(request))
        return FastJSONResponse(body, status_code=status)

    async def submit(
        self, submitter: str, lead: LeadInput, idempotency_key: str | None
    ) -> tuple[dict[str, Any], int]:
        """Store one valid lead: the response body and 201, or the lead it duplicates and
        200. Intake profiles end here too, so they take exactly this path."""
        result = await self.intake.submit(submitter, lead, idempotency_key)
        body = lead_json(result.lead, self.intake.now())
        _count(submitter, result.duplicate, body)
        if result.duplicate:
            body["duplicate"] = True
        return body, 200 if result.duplicate else 201

    def rate_limited(self, name: str) -> Response | None:
        """A 429 with Retry-After when `name` has spent its budget, else None."""
        wait = self.limiter.take(name)
        if not wait:
            return None
        INTAKE_RATE_LIMITED.labels(name).inc()
        seconds = max(1, math.ceil(wait))
        response = problem(f"rate limit of key {name} exceeded; retry in {seconds}s", 429)
        response.headers["Retry-After"] = str(seconds)
        return response

    async def create_batch(self, request: Request) -> Response:
        return await self._guarded(request, Scope.INTAKE, self._create_batch, MAX_BATCH_BYTES)

    async def _create_batch(self, request: Request, key: ApiKey, limit: int) -> Response:
        data = await _read_json(request, limit)
        items = data.get("leads") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise InvalidInput([FieldError("leads", "expected a list of leads")])
        if len(items) > MAX_BATCH_ITEMS:
            raise InvalidInput([FieldError("leads", f"at most {MAX_BATCH_ITEMS} leads per batch")])
        batch_key = _idempotency_key(request)

        async def one(index: int, item: Any) -> dict[str, Any]:
            item_key = f"{batch_key}:{index}" if batch_key else None
            try:
                result = await self.intake.submit(key.name, parse_lead(item), item_key)
            except InvalidInput as error:
                errors = [{"field": e.path, "message": e.message} for e in error.errors]
                return {"index": index, "status": 422, "errors": errors}
            body = lead_json(result.lead, self.intake.now())
            _count(key.name, result.duplicate, body)
            status = 200 if result.duplicate else 201
            return {"index": index, "status": status, "duplicate": result.duplicate, "lead": body}

        # Submitted together, the leads share group commits; results keep the input order,
        # and a later item repeating an earlier one is answered as its duplicate.
        results = await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
        return FastJSONResponse({"results": results}, status_code=200)

    async def get_lead(self, request: Request) -> Response:
        return await self._guarded(request, Scope.READ, self._get_lead)

    async def _get_lead(self, request: Request, key: ApiKey, limit: int) -> Response:
        lead = await self.actions.get(request.path_params["lead_id"])
        return FastJSONResponse(lead_json(lead, self.intake.now(), timeline=True))

    async def erase_lead(self, request: Request) -> Response:
        return await self._guarded(request, Scope.ERASE, self._erase_lead)

    async def _erase_lead(self, request: Request, key: ApiKey, limit: int) -> Response:
        """GDPR erasure: 200 with the lead as it now stands, again on a repeat."""
        lead = await self.privacy.erase(request.path_params["lead_id"], key.name)
        return FastJSONResponse(lead_json(lead, self.intake.now(), timeline=True))

    async def post_event(self, request: Request) -> Response:
        return await self._guarded(request, Scope.INTAKE, self._post_event)

    async def _post_event(self, request: Request, key: ApiKey, limit: int) -> Response:
        data = await _read_json(request, limit)
        try:
            event = OutcomeEvent.model_validate(data)
        except ValidationError as error:
            raise InvalidInput(
                [FieldError(format_location(e["loc"]) or "body", e["msg"]) for e in error.errors()]
            ) from None
        if event.at is not None and event.at.tzinfo is None:
            raise InvalidInput([FieldError("at", "needs a timezone (e.g. 2026-11-24T10:00:00Z)")])
        outcome = await self.actions.record_event(
            request.path_params["lead_id"], event.type, event.by or key.name, event.at, event.note
        )
        lead = await self.actions.get(outcome.lead.id)
        return FastJSONResponse(lead_json(lead, self.intake.now(), timeline=True))

    async def post_activity(self, request: Request) -> Response:
        return await self._guarded(request, Scope.INTAKE, self._post_activity)

    async def _post_activity(self, request: Request, key: ApiKey, limit: int) -> Response:
        """Behaviour after intake: 200 with the re-scored lead (see docs/scoring.md)."""
        activity = parse_activity(await _read_json(request, limit), self.intake.now())
        lead = await self.activities.record(request.path_params["lead_id"], activity, key.name)
        return FastJSONResponse(lead_json(lead, self.intake.now()))
