"""The demo's sample team: the people and channels of the local workspace, a
configuration routing to them with SLAs of minutes (so reminders and escalations happen
while you watch), and sample leads."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Person:
    user: str
    name: str
    title: str
    timezone: str
    is_admin: bool = False

    @property
    def email(self) -> str:
        return f"{self.name.split()[0].lower()}@demo.example"


@dataclass(frozen=True)
class TeamChannel:
    id: str
    name: str
    team: str


MANAGER = Person(
    "U0MORGAN", "Morgan Lee", "Sales manager, Leadrouter admin", "America/New_York", True
)
PEOPLE = (
    MANAGER,
    Person("U0JANE", "Jane Park", "Senior AE, enterprise", "America/New_York"),
    Person("U0ALICE", "Alice Moreau", "AE, enterprise", "Europe/Paris"),
    Person("U0CARA", "Cara Diaz", "AE, healthcare", "America/Los_Angeles"),
    Person("U0DAN", "Dan Okafor", "AE, healthcare", "America/Chicago"),
    Person("U0SAM", "Sam Reed", "SDR", "Europe/London"),
    Person("U0TEO", "Teo Weber", "SDR", "Europe/Berlin"),
    Person("U0BOB", "Bob Nguyen", "SDR (on PTO this week)", "America/Denver"),
)
CHANNELS = (
    TeamChannel("C0ENTERPRISE", "enterprise-leads", "enterprise"),
    TeamChannel("C0HEALTHCARE", "healthcare-leads", "healthcare"),
    TeamChannel("C0SDR", "sdr-leads", "sdr"),
)


def demo_config(today: date) -> dict[str, Any]:
    """Three teams (push weighted, pull, push least-loaded), an account owner, a rep on
    PTO this week, and SLAs of minutes with the full escalation chain."""
    reps: list[dict[str, Any]] = [
        {"user": p.user, "email": p.email, "name": p.name, "timezone": p.timezone} for p in PEOPLE
    ]
    # From yesterday: "today" here may still be yesterday in the rep's own time zone.
    away = (today - timedelta(days=1), today + timedelta(days=6))
    reps[-1]["pto"] = [{"from": away[0].isoformat(), "to": away[1].isoformat()}]

    def short_chain() -> list[dict[str, str]]:  # a new list each time: YAML has no aliases
        return [
            {"after": "0m", "do": "reassign"},
            {"after": "0m", "do": "notify_manager"},
            {"after": "1m", "do": "repost_to_channel"},
        ]

    return {
        "version": 1,
        "admins": [MANAGER.user],
        "reps": reps,
        "teams": [
            {
                "name": "enterprise",
                "channel": "C0ENTERPRISE",
                "method": "push",
                "strategy": "weighted",
                "manager": MANAGER.user,
                "backup": "U0JANE",
                "members": [{"user": "U0JANE", "weight": 3}, {"user": "U0ALICE", "weight": 1}],
            },
            {
                "name": "healthcare",
                "channel": "C0HEALTHCARE",
                "method": "pull",
                "manager": MANAGER.user,
                "members": [{"user": "U0CARA"}, {"user": "U0DAN"}],
            },
            {
                "name": "sdr",
                "channel": "C0SDR",
                "method": "push",
                "strategy": "least_loaded",
                "manager": MANAGER.user,
                "backup": "U0SAM",
                "members": [{"user": "U0SAM"}, {"user": "U0TEO"}, {"user": "U0BOB"}],
            },
        ],
        "accounts": [{"domain": "acme.com", "owner": "U0JANE", "name": "Acme Corp"}],
        "rules": [
            {
                "name": "known accounts to their owner",
                "when": {"account_owner": True},
                "then": {"route_to": "account_owner", "fallback_team": "enterprise"},
            },
            {
                "name": "enterprise",
                "when": {"employees": {"gte": 500}},
                "then": {"team": "enterprise"},
            },
            {
                "name": "healthcare specialists",
                "when": {"industry": {"in": ["healthcare", "biotech"]}},
                "then": {"team": "healthcare"},
            },
            {"name": "everyone else", "then": {"team": "sdr"}},
        ],
        "slas": {
            "demo_request": {
                "respond_within": "2m",
                "remind_at": ["50%"],
                "escalation": short_chain(),
            },
            "referral": {"respond_within": "3m", "remind_at": ["50%"], "escalation": short_chain()},
            "outbound_reply": {"respond_within": "3m"},
            "mql": {"respond_within": "5m", "remind_at": ["80%"]},
            "event": {"respond_within": "10m"},
            "aged": {"respond_within": "10m"},
        },
    }


_FIRST = ("Jo", "Priya", "Marco", "Lena", "Tomás", "Aiko", "Noah", "Fatima", "Ivan", "Grace")
_LAST = ("Rivera", "Shah", "Rossi", "Keller", "Silva", "Tanaka", "Brown", "Haddad", "Petrov", "Kim")
_COMPANIES = (
    # company, domain, industry, employees, country, state
    ("Acme Corp", "acme.com", "manufacturing", 1200, "US", "OH"),
    ("Northwind Health", "northwind-health.example", "healthcare", 320, "US", "MN"),
    ("Helix Bio", "helixbio.example", "biotech", 80, "US", "MA"),
    ("Globex", "globex.example", "software", 2500, "US", "CA"),
    ("Initech", "initech.example", "software", 45, "US", "TX"),
    ("Umbrella Clinics", "umbrella-clinics.example", "healthcare", 150, "GB", None),
    ("Stark Logistics", "stark-logistics.example", "logistics", 640, "DE", None),
    ("Wayne Retail", "wayne-retail.example", "retail", 30, "US", "NJ"),
    ("Soylent Foods", "soylent.example", "food", 210, "FR", None),
    ("Tyrell Robotics", "tyrell.example", "robotics", 900, "JP", None),
)
_TYPES = (
    ("demo_request", "web_form"),
    ("demo_request", "paid_ads"),
    ("referral", "referral"),
    ("mql", "content"),
    ("outbound_reply", "outbound"),
)


def sample_leads(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` varied leads for the intake API; `seed` makes each batch's emails new, so
    a second batch is not taken for duplicates of the first."""
    pick = random.Random(seed)
    leads = []
    for index in range(count):
        first, last = pick.choice(_FIRST), pick.choice(_LAST)
        company, domain, industry, employees, country, state = pick.choice(_COMPANIES)
        lead_type, source = pick.choice(_TYPES)
        lead: dict[str, Any] = {
            "email": f"{first.lower()}.{last.lower()}.{seed}.{index}@{domain}",
            "first_name": first,
            "last_name": last,
            "company": company,
            "company_domain": domain,
            "industry": industry,
            "employees": employees,
            "country": country,
            "score": pick.randint(20, 95),
            "lead_type": lead_type,
            "source": source,
        }
        if state:
            lead["state"] = state
        leads.append(lead)
    return leads
