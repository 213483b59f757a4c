"""What the app's manifest grants: bot scopes, slash commands, an options load URL.

Why: a real workspace gives the app exactly what ``manifest.yml`` asks for, so the local
workspace reads the same file and refuses a call the manifest does not allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["AppManifest", "default_manifest_path"]


def default_manifest_path() -> Path:
    """The repository's ``manifest.yml`` (next to ``bot/``), else one in the current
    directory; FileNotFoundError names both places when neither exists."""
    candidates = [Path(__file__).resolve().parents[2] / "manifest.yml", Path("manifest.yml")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "LocalSlack needs the app manifest: pass manifest= (looked for "
        + " and ".join(str(c) for c in candidates)
        + ")"
    )


@dataclass(frozen=True)
class AppManifest:
    """The parts of a Slack app manifest that decide what the app may do."""

    bot_scopes: frozenset[str]
    slash_commands: frozenset[str]
    options_url: str | None
    """``settings.interactivity.message_menu_options_url``: where external selects load."""

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> AppManifest:
        scopes = ((document.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        features = document.get("features") or {}
        commands = [c.get("command", "") for c in features.get("slash_commands") or []]
        interactivity = (document.get("settings") or {}).get("interactivity") or {}
        return cls(
            bot_scopes=frozenset(str(s) for s in scopes),
            slash_commands=frozenset(str(c) for c in commands),
            options_url=interactivity.get("message_menu_options_url"),
        )

    @classmethod
    def load(cls, path: Path | str | None = None) -> AppManifest:
        """Read a manifest file (the repository's by default)."""
        source = Path(path) if path is not None else default_manifest_path()
        return cls.parse(yaml.safe_load(source.read_text(encoding="utf-8")) or {})

    @property
    def scopes_header(self) -> str:
        """The ``X-OAuth-Scopes`` header Slack answers with: the granted scopes."""
        return ",".join(sorted(self.bot_scopes))
