"""API keys with scopes, and wrong keys slowed per address.

Why: the secret in a public web form's page must be able to submit leads and nothing
else, and a stranger must not be able to try secrets as fast as the server answers.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.api.access import BAD_KEYS, KeyGate
from bot.api_keys import ALL_SCOPES, ApiKey, Scope, parse_api_keys
from bot.settings import Settings


def test_a_plain_key_keeps_every_scope_and_scoped_keys_get_only_theirs() -> None:
    keys = parse_api_keys("crm:crm-secret-1, web:web-secret-1:intake, ops:ops-secret-1:read,erase")
    assert keys == [
        ApiKey("crm", "crm-secret-1", ALL_SCOPES),
        ApiKey("web", "web-secret-1", frozenset({Scope.INTAKE})),
        ApiKey("ops", "ops-secret-1", frozenset({Scope.READ, Scope.ERASE})),
    ]


def test_a_secret_with_a_colon_still_works_as_before() -> None:
    assert parse_api_keys("crm:abc:defghij") == [ApiKey("crm", "abc:defghij", ALL_SCOPES)]


@pytest.mark.parametrize(
    "text",
    ["web:web-secret-1,read", "web:web-secret-1:intake,write", "web:short:intake", "intake"],
)
def test_malformed_scopes_are_refused_without_echoing_secrets(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_api_keys(text)
    assert "secret-1" not in str(refused.value)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client(clock: Clock) -> httpx.AsyncClient:
    settings = Settings(LEADROUTER_API_KEYS="crm:crm-secret-1,web:web-secret-1:intake")
    gate = KeyGate(settings, clock)

    def route(scope: Scope) -> Route:
        async def handle(request: Request) -> Response:
            admitted = gate.admit(request, scope)
            if isinstance(admitted, Response):
                return admitted
            return JSONResponse({"key": admitted.name})

        return Route(f"/{scope}", handle)

    app = Starlette(routes=[route(scope) for scope in Scope])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_each_route_needs_its_scope() -> None:
    async with client(Clock()) as api:
        assert (await api.get("/intake", headers=bearer("web-secret-1"))).json() == {"key": "web"}
        refused = await api.get("/erase", headers=bearer("web-secret-1"))
        assert refused.status_code == 403
        assert refused.json()["error"] == "API key web lacks the erase scope"
        assert (await api.get("/read", headers=bearer("crm-secret-1"))).status_code == 200


async def test_wrong_keys_from_one_address_are_slowed_with_retry_after() -> None:
    clock = Clock()
    async with client(clock) as api:
        guesses = [
            await api.get("/read", headers=bearer(f"guess-{n}")) for n in range(BAD_KEYS.requests)
        ]
        assert [answer.status_code for answer in guesses] == [401] * BAD_KEYS.requests
        slowed = await api.get("/read", headers=bearer("crm-secret-1"))
        assert slowed.status_code == 429  # even the right key, until the wait is over
        wait = int(slowed.headers["Retry-After"])
        assert 1 <= wait <= BAD_KEYS.per_seconds / BAD_KEYS.requests
        clock.now += wait
        assert (await api.get("/read", headers=bearer("crm-secret-1"))).status_code == 200
        assert (await api.get("/read", headers=bearer("guess-again"))).status_code == 401
        assert (await api.get("/read", headers=bearer("crm-secret-1"))).status_code == 429
