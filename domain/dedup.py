"""When is a lead the same lead again? The same Idempotency-Key or the same external id
from the same submitter (always), or the same email within the dedup window (from any
submitter: a person filling two forms is one lead); a lead without an email, the same
phone number (normalised, domain.contact.phone_key) within the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DedupKeys:
    submitter: str
    idempotency_key: str | None
    external_id: str | None
    email: str | None
    created_at: datetime
    phone: str | None = None

    def duplicates(self, earlier: DedupKeys, email_since: datetime) -> bool:
        """Is `self` (arriving now) a repeat of `earlier`?"""
        same_sender = self.submitter == earlier.submitter
        if same_sender and self.idempotency_key and self.idempotency_key == earlier.idempotency_key:
            return True
        if same_sender and self.external_id and self.external_id == earlier.external_id:
            return True
        if earlier.created_at < email_since:
            return False
        if self.email:
            return self.email == earlier.email
        return bool(self.phone) and self.phone == earlier.phone


def first_duplicate(
    keys: DedupKeys, earlier: list[tuple[DedupKeys, T]], email_since: datetime
) -> T | None:
    """The oldest earlier lead that `keys` repeats, if any."""
    matches = [
        (other.created_at, index)
        for index, (other, _item) in enumerate(earlier)
        if keys.duplicates(other, email_since)
    ]
    return earlier[min(matches)[1]][1] if matches else None
