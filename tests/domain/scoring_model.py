"""The scoring model the scoring tests share, as a configuration writes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
MODEL: dict[str, Any] = {
    "decides": "model",
    "fit": [
        {"label": "500+ employees", "when": {"employees": {"gte": 500}}, "points": 30},
        {"label": "healthcare", "when": {"industry": "healthcare"}, "points": 20},
        {
            "label": "free email",
            "when": {"email_domain": {"in": ["gmail.com", "yahoo.com"]}},
            "points": -10,
        },
        {"label": "VP or above", "when": {"attributes.seniority": "vp"}, "points": 15},
    ],
    "engagement": [
        {"label": "pricing page", "activity": "pricing_page", "points": 6, "group": "web"},
        {"label": "webinar", "activity": ["webinar_attended"], "points": 10},
        {"label": "demo request", "activity": "demo_request", "points": 25},
    ],
    "half_life": "30d",
    "caps": {"web": 24},
    "fit_grades": {"A": 40, "B": 20},
    "engagement_grades": {1: 30, 2: 10},
    "mql_at": 50,
    "always_route": ["demo_request"],
}
