"""What a review finding is: a sentence and the admin modal that fixes it. Shared by the
routing findings (domain.review) and the scoring findings (domain.review_scoring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fix:
    """The admin modal that fixes a finding: `rules`, `rule`, `team`, `rep`, `pto`,
    `scoring` (the Scoring model screen), or `import` (accounts have no modal of their
    own; they are edited in the file)."""

    modal: str
    key: str | None = None


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    text: str
    fix: Fix
