"""`POST /api/intake/{profile}`: a sender's own payload, mapped by its profile, then the
very path `POST /api/leads` takes (validation, dedup, routing, 201/200).

Order matters: the sender is verified on the raw body before anything is parsed; a
body without records or with mapping problems gets 422 listing every problem and
stores nothing of that record. A payload with several records (Meta batches, Salesforce
sends up to 100) is answered like `POST /api/leads/batch`: per-record results in order.
`GET` answers the subscription handshake of senders that need one (Meta). A profile
with `retrieve` fetches each record's answers from the sender's API first (Meta's
notification names the lead only).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

import aiohttp
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.api.intake_signatures import NotConfigured, Rejected, meta_handshake, verify_sender
from bot.api.lead_retrieval import MissingToken, RetrievalFailed, retrieve_records
from bot.api.routes import (
    IntakeApi,
    TooLarge,
    errors_response,
    problem,
    read_body,
)
from bot.services.intake_profiles import IntakeProfileService, UnknownProfile
from domain.errors import FieldError, InvalidInput
from domain.intake_formats import SALESFORCE_ACK, decode_body
from domain.intake_mapping import MappedRecord, map_records, records_of
from domain.intake_profiles import IntakeProfile

log = logging.getLogger(__name__)

MAX_PROFILE_BYTES = 1024 * 1024  # a Salesforce message of 100 sObjects, with room


class IntakeProfileApi:
    def __init__(
        self,
        leads: IntakeApi,
        profiles: IntakeProfileService,
        environ: Mapping[str, str] = os.environ,
    ):
        self.leads = leads
        self.profiles = profiles
        self.environ = environ

    def routes(self) -> list[Route]:
        return [
            Route("/api/intake/{profile}", self.receive, methods=["POST"]),
            Route("/api/intake/{profile}", self.handshake, methods=["GET"]),
        ]

    async def receive(self, request: Request) -> Response:
        try:
            profile = await self.profiles.profile(request.path_params["profile"])
            body = await read_body(request, MAX_PROFILE_BYTES)
            submitter = self._verify(profile, request, body) or profile.submitter or profile.name
        except UnknownProfile as error:
            return problem(str(error), 404)
        except TooLarge:
            return problem(f"body larger than {MAX_PROFILE_BYTES} bytes", 413)
        except Rejected as error:
            return problem(f"{profile.name}: {error}", 401)
        except NotConfigured as error:
            log.error("intake profile %s cannot verify senders: %s", profile.name, error)
            return problem(f"intake profile {profile.name} is not set up: {error}", 503)
        limited = self.leads.rate_limited(submitter)
        if limited is not None:
            return limited
        try:
            decoded = decode_body(body, request.headers.get("content-type", ""), profile.format)
            found = records_of(profile, decoded.document)
            if profile.retrieve is not None:
                async with aiohttp.ClientSession() as session:
                    found = await retrieve_records(profile.retrieve, found, session, self.environ)
        except InvalidInput as error:
            return errors_response(error.errors)
        except MissingToken as error:
            return problem(f"intake profile {profile.name} is not set up: {error}", 503)
        except RetrievalFailed as error:
            log.warning("intake profile %s: %s", profile.name, error)
            return problem(f"{profile.name}: {error}; nothing was stored, send it again", 502)
        records = map_records(profile, found)
        key = request.headers.get("idempotency-key")
        if len(records) == 1:
            return await self._one(records[0], submitter, key, decoded.soap)
        return await self._many(records, submitter, key, decoded.soap)

    def _verify(self, profile: IntakeProfile, request: Request, body: bytes) -> str | None:
        return verify_sender(
            profile.auth,
            headers=request.headers,
            query=request.query_params,
            method=request.method,
            url=str(request.url),
            body=body,
            now=self.leads.intake.now(),
            settings=self.leads.settings,
            environ=self.environ,
        )

    async def _one(
        self, record: MappedRecord, submitter: str, key: str | None, soap: bool
    ) -> Response:
        if record.lead is None:
            return errors_response(record.problems)
        try:
            body, status = await self.leads.submit(submitter, record.lead, key)
        except InvalidInput as error:
            return errors_response(error.errors)
        return _ack() if soap else JSONResponse(body, status_code=status)

    async def _many(
        self, records: list[MappedRecord], submitter: str, key: str | None, soap: bool
    ) -> Response:
        async def one(record: MappedRecord) -> dict[str, Any]:
            problems = record.problems
            if record.lead is not None:
                item_key = f"{key}:{record.index}" if key else None
                try:
                    body, status = await self.leads.submit(submitter, record.lead, item_key)
                except InvalidInput as error:
                    problems = error.errors
                else:
                    return {"index": record.index, "status": status, "lead": body}
            return {"index": record.index, "status": 422, "errors": _listed(problems)}

        # Together, the records share group commits; results keep the payload's order.
        results = await asyncio.gather(*(one(record) for record in records))
        if soap and all(result["status"] != 422 for result in results):
            return _ack()
        status = 200 if all(result["status"] != 422 for result in results) else 422
        return JSONResponse({"results": results}, status_code=status)

    async def handshake(self, request: Request) -> Response:
        """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
        try:
            profile = await self.profiles.profile(request.path_params["profile"])
        except UnknownProfile as error:
            return problem(str(error), 404)
        if profile.auth.scheme != "meta":
            return problem(f"intake profile {profile.name} takes POST only", 405)
        try:
            challenge = meta_handshake(profile.auth, request.query_params, self.environ)
        except Rejected as error:
            return problem(f"{profile.name}: {error}", 403)
        except NotConfigured as error:
            return problem(f"intake profile {profile.name} is not set up: {error}", 503)
        return PlainTextResponse(challenge)


def _listed(problems: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": item.path or "body", "message": item.message} for item in problems]


def _ack() -> Response:
    """The Ack Salesforce waits for; without it the message is retried for 24 hours."""
    return Response(SALESFORCE_ACK, media_type="text/xml; charset=utf-8")
