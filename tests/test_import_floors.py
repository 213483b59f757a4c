"""The floors of docs/design.md, enforced: every import in domain/, storage/ and bot/
points to its own floor or one below. Parsed with ast (imports inside functions count),
so a late import cannot climb unseen."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLOORS: tuple[tuple[str, int], ...] = (
    # (module prefix, floor): the longest matching prefix decides; higher may import lower.
    ("domain", 0),
    ("storage", 1),
    # bot/: support modules, then the application layer, then the edges, then the root.
    ("bot", 2),
    ("bot.settings", 2),
    ("bot.clock", 2),
    ("bot.logs", 2),
    ("bot.metrics", 2),
    ("bot.http_limits", 2),
    ("bot.charts", 2),
    ("bot.csv_leads", 2),
    ("bot.metered_client", 2),
    ("bot.webhook_transport", 2),
    ("bot.services", 3),
    ("bot.slack", 4),
    ("bot.api", 4),
    ("bot.worker", 4),
    ("bot.import_command", 4),
    ("bot.simulate_command", 4),
    ("bot.scoring_command", 4),
    ("bot.evidence_commands", 4),
    ("bot.intake_command", 4),
    ("bot.webhooks_command", 5),  # a CLI command: the webhook transport and storage together
    ("bot.app", 5),
    ("bot.cli", 5),
    ("bot.demo", 5),  # `leadrouter demo`: a composition root of its own (the app + localslack)
    ("bot.startup_checks", 5),  # checks the assembled Application at start
)

EDGES = (
    "bot.slack",
    "bot.api",
    "bot.worker",
    "bot.import_command",
    "bot.simulate_command",
    "bot.scoring_command",
    "bot.evidence_commands",
    "bot.intake_command",
)
EDGE_CROSSINGS = {("bot.worker", "bot.slack")}
"""Edges are side by side and do not import each other, except: the outbox worker's
Slack transport renders with the Slack views."""


def _floor(module: str) -> tuple[str, int] | None:
    matches = [(p, f) for p, f in FLOORS if module == p or module.startswith(p + ".")]
    return max(matches, key=lambda match: len(match[0])) if matches else None


def _edge(module: str) -> str | None:
    return next((e for e in EDGES if module == e or module.startswith(e + ".")), None)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _violations() -> list[str]:
    problems: list[str] = []
    for package in ("domain", "storage", "bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            importer = _module_name(path)
            own = _floor(importer)
            assert own is not None, importer
            for line, imported in _imports(path):
                target = _floor(imported)
                if target is None:
                    continue  # the standard library or a third-party package
                where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
                if target[1] > own[1]:
                    problems.append(f"{where}: upward ({own[0]} may not import {target[0]})")
                src, dst = _edge(importer), _edge(imported)
                if src and dst and src != dst and (src, dst) not in EDGE_CROSSINGS:
                    problems.append(f"{where}: across the edges ({src} -> {dst})")
    return problems


def test_imports_point_down_the_floors() -> None:
    assert _violations() == []


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("domain.routing", "storage.tables", False),
        ("storage.uow", "bot.settings", False),
        ("bot.services.leads", "bot.slack.views", False),
        ("bot.services.leads", "bot.worker.outbox", False),
        ("bot.slack.listeners", "bot.app", False),
        ("bot.metrics", "bot.services.base", False),
        ("bot.worker.outbox", "bot.slack.views", True),
        ("bot.slack.listeners", "bot.services.leads", True),
        ("bot.app", "bot.worker.outbox", True),
        ("storage.leads", "domain.records", True),
    ],
)
def test_the_floor_table_tells_up_from_down(importer: str, imported: str, allowed: bool) -> None:
    """The check itself can fail: an import up a floor is caught."""
    own, target = _floor(importer), _floor(imported)
    assert own is not None and target is not None
    assert (target[1] <= own[1]) is allowed


def test_benchmarks_and_the_harness_never_import_the_tests() -> None:
    """bench/ and harness/ stand on the product and the harness, not on tests/."""
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for package in ("bench", "harness")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, imported in _imports(path)
        if imported == "tests" or imported.startswith("tests.")
    ]
    assert problems == []
