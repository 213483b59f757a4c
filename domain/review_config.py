"""The `review` section: the quarterly routing review's period, its DM and thresholds.

Absent, the defaults apply: a 90-day review DMed to the admins on the first day of each
quarter. Thresholds say what counts as stale or unfair enough to be a finding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field


class ReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=90, ge=7, le=730)
    """The period a review looks back over."""
    dm_admins: bool = True
    """DM the admins the review on the first day of each quarter (January, April, ...)."""
    hour: int = Field(default=9, ge=0, le=23)
    """The UTC hour of that DM."""
    catch_all_max: float = Field(default=30, gt=0, le=100)
    """Percent of leads the catch-all rule may take before it is a finding."""
    pto_share: float = Field(default=50, gt=0, le=100)
    """Percent of the period on PTO that makes a rep "on PTO most of the period"."""
    weight_drift: float = Field(default=10, gt=0, le=100)
    """Points between a rep's share of leads and of weight that count as drift."""
    gini_rise: float = Field(default=0.1, gt=0, le=1)
    """How much the Gini may rise across the period before it is a finding."""
    misroute_reports: int = Field(default=3, ge=1)
    """"Wrong routing?" reports on one rule that make a finding."""
    min_leads: int = Field(default=20, ge=1)
    """Leads a rule or team needs before its rates are compared with the average."""


def quarter_due(settings: ReviewConfig, now: datetime, configured_since: datetime) -> str | None:
    """This quarter's review DM key (`2026-Q4`) once its first day's hour has come (a
    replica down at that hour still sends it later), else None. None also when switched
    off, and for a quarter that began before Leadrouter was configured: a new install has
    no quarter to review yet."""
    if not settings.dm_admins:
        return None
    quarter = (now.month - 1) // 3
    starts = datetime(now.year, 3 * quarter + 1, 1, tzinfo=UTC)
    if now < starts + timedelta(hours=settings.hour) or configured_since >= starts:
        return None
    return f"{now.year}-Q{quarter + 1}"
