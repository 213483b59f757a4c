"""Fetching a lead's answers from its sender's API when the notification only names it.

Meta's `leadgen` webhook carries `leadgen_id`; the answers (`field_data`) are read with
GET https://graph.facebook.com/{version}/{leadgen_id} and a Page access token:
https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving
If the sender's API fails, the request fails with 502 and stores nothing: the sender
retries its webhook (Meta does for hours), so no lead is lost to an API hiccup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from string import Formatter
from typing import Any
from urllib.parse import quote

import aiohttp

from domain.intake_profiles import RetrieveConfig

TIMEOUT = aiohttp.ClientTimeout(total=10)


class RetrievalFailed(Exception):
    """The sender's API did not give the lead; the message says what happened."""


class MissingToken(Exception):
    """The token's environment variable is not set."""


async def retrieve_records(
    retrieve: RetrieveConfig,
    records: list[Any],
    session: aiohttp.ClientSession,
    environ: Mapping[str, str],
) -> list[Any]:
    """Each record merged with what the sender's API says about it (in parallel)."""
    pending = [record for record in records if _needs(retrieve, record)]
    if not pending:
        return records
    token = environ.get(retrieve.token_env)
    if not token:
        raise MissingToken(f"set {retrieve.token_env} to fetch leads from the sender's API")
    headers = {**retrieve.headers, "Authorization": f"Bearer {token}"}
    fetched = await asyncio.gather(
        *(_fetch(session, _url(retrieve.url, record), headers) for record in pending)
    )
    by_identity = {
        id(record): {**record, **more} for record, more in zip(pending, fetched, strict=True)
    }
    return [by_identity.get(id(record), record) for record in records]


def _needs(retrieve: RetrieveConfig, record: Any) -> bool:
    """A record is fetched when it has what the URL names and not what `unless` names;
    any other record is mapped as it came (a sender's full record, a custom body)."""
    if not isinstance(record, dict) or (retrieve.unless and retrieve.unless in record):
        return False
    named = {name for _, name, _, _ in Formatter().parse(retrieve.url) if name}
    return named <= record.keys()


def _url(template: str, record: dict[str, Any]) -> str:
    values = {key: quote(str(value), safe="") for key, value in record.items()
              if isinstance(value, str | int)}  # fmt: skip
    try:
        return template.format_map(values)
    except KeyError as missing:
        raise RetrievalFailed(f"the record has no {missing} to fetch it by") from None


async def _fetch(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> dict[str, Any]:
    try:
        async with session.get(url, headers=headers, timeout=TIMEOUT) as response:
            if response.status != 200:
                raise RetrievalFailed(f"the sender's API answered HTTP {response.status}")
            document = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise RetrievalFailed(f"the sender's API failed: {type(error).__name__}") from None
    if not isinstance(document, dict):
        raise RetrievalFailed("the sender's API did not answer with an object")
    return document
