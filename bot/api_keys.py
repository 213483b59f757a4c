"""API keys from `LEADROUTER_API_KEYS`, each with the scopes it may use.

`name:secret` keeps every scope (what every key could do before scopes existed);
`name:secret:intake` or `name:secret:intake,read,erase` limits a key, so the secret
embedded in a public web form can submit leads but never read or erase one. The list
is comma-separated, so a scope word after a comma belongs to the key before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    INTAKE = "intake"  # submit leads, batches and CRM events about them
    READ = "read"  # read a lead and its timeline, and the stats API
    ERASE = "erase"  # erase a lead (GDPR)


ALL_SCOPES = frozenset(Scope)
MIN_SECRET = 8


@dataclass(frozen=True)
class ApiKey:
    name: str
    secret: str
    scopes: frozenset[Scope] = field(default=ALL_SCOPES)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


_FORMAT = (
    "expected name:secret or name:secret:scope,scope (scopes: intake, read, erase), "
    f"comma-separated, {MIN_SECRET}+ character secrets"
)


def _scopes(text: str) -> frozenset[Scope] | None:
    """The scope words of `intake,read`-like text, or None when it is not only scopes."""
    words = [word.strip() for word in text.split(",")]
    if not words or any(word not in Scope.__members__.values() for word in words):
        return None
    return frozenset(Scope(word) for word in words)


def parse_api_keys(text: str) -> list[ApiKey]:
    """Every key; ValueError (never echoing a secret) when the text is malformed."""
    keys: list[ApiKey] = []
    last_scoped = False  # may a bare scope word extend the key before it?
    for item in filter(None, (part.strip() for part in text.split(","))):
        if ":" not in item:
            scope = _scopes(item)
            if scope is None or not last_scoped:
                raise ValueError(_FORMAT)
            keys[-1] = ApiKey(keys[-1].name, keys[-1].secret, keys[-1].scopes | scope)
            continue
        name, _, rest = item.partition(":")
        secret, _, tail = rest.rpartition(":")
        scopes = _scopes(tail) if secret else None
        last_scoped = scopes is not None
        if scopes is None:  # no scope words: the whole rest is the secret, as before
            secret, scopes = rest, ALL_SCOPES
        if not name.strip() or len(secret.strip()) < MIN_SECRET:
            raise ValueError(_FORMAT)
        keys.append(ApiKey(name.strip(), secret.strip(), scopes))
    names = [key.name for key in keys]
    if len(names) != len(set(names)):
        raise ValueError("each key name may appear once")
    return keys
