"""The manifest asks for what the app uses and nothing more: every granted bot scope is
needed by a Web API method the code calls (per the local workspace's scope table, the
one that answers ``missing_scope`` in the end-to-end tests), or by a feature the manifest
declares (slash commands)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.localslack.manifest import AppManifest
from bot.localslack.rules import METHOD_SCOPES

ROOT = Path(__file__).resolve().parents[2]
# slack_sdk helpers that call several Web API methods.
HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# Scopes not tied to one method: what grants them, and where the code relies on it.
FEATURE_SCOPES = {
    "commands": "the manifest's slash commands",
    "chat:write.public": "chat.postMessage to a public team channel before the bot joined it",
}


def _called_methods() -> set[str]:
    """Web API methods the product calls through slack_sdk (``client.chat_postMessage``)."""
    called: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "localslack" in path.parts:
            continue  # the local workspace serves methods; it does not call them
        for name in re.findall(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(", path.read_text()):
            called.update(HELPERS.get(name, (name.replace("_", ".", 1),)))
    return called


def _scopes_for(method: str) -> set[str]:
    needed = METHOD_SCOPES.get(method)
    if needed is None:
        return set()
    return set(needed.values()) if isinstance(needed, dict) else {needed}


def test_every_granted_scope_is_used() -> None:
    manifest = AppManifest.load(ROOT / "manifest.yml")
    used = set().union(*(_scopes_for(method) for method in _called_methods()))
    unused = manifest.bot_scopes - used - FEATURE_SCOPES.keys()
    assert not unused, f"the manifest grants scopes no code uses: {sorted(unused)}"
    assert manifest.slash_commands, "`commands` is granted for the slash commands"


def test_every_method_called_is_granted() -> None:
    manifest = AppManifest.load(ROOT / "manifest.yml")
    for method in _called_methods():
        needed = _scopes_for(method)
        assert not needed or needed & manifest.bot_scopes, f"{method} needs one of {needed}"
