"""Does scoring move intake? Intake throughput in process, with and without a scoring
model, in the same run, plus the pure cost of scoring next to routing.

Run: `python -m bench.scoring [--leads 2000] [--rounds 3] [--concurrency 64]`.

Two SQLite databases (one per configuration, identical but for `scoring:`) take the
same leads through `IntakeService.submit`, `concurrency` at a time, alternating rounds
so a change in the machine's load hits both alike. Every lead in the scoring run is
scored in the intake transaction; its model is the example configuration's (7 fit and 7
engagement criteria, caps, decay); `always_route` lists every lead type, so both runs
route and store the same number of leads and only the scoring differs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.common import start_report
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from domain.config import Config, validate_config
from domain.lead import BUILTIN_LEAD_TYPES, LeadInput, parse_lead
from domain.qualification import score_new_lead
from domain.routing import RoutingState, route
from harness.app_process import REPO_ROOT
from storage.migrate import upgrade_to_head
from storage.uow import Database

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
INDUSTRIES = ["saas", "healthcare", "biotech", "finance", "retail"]
DOMAINS = ["gmail.com", "acme.com", "bigcorp.com", "example.org", "yahoo.com"]


def configs() -> tuple[Config, Config]:
    """The example configuration without and with its scoring model; every rep always on
    shift with room, so the benchmark measures intake, not who is away."""
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "examples" / "config.yml").read_text())
    for rep in data["reps"]:
        rep.pop("working_hours", None)
        rep.pop("pto", None)
        rep["capacity"] = 1_000_000
    data["scoring"]["always_route"] = list(BUILTIN_LEAD_TYPES)
    # The same rules in both: the one on the grade would exist only with a model.
    data["rules"] = [rule for rule in data["rules"] if "grade" not in rule.get("when", {})]
    scored = validate_config(data)
    plain = validate_config({key: value for key, value in data.items() if key != "scoring"})
    return plain, scored


def leads(count: int, seed: int) -> list[LeadInput]:
    rng = random.Random(seed)
    return [
        parse_lead(
            {
                "email": f"lead{seed}-{index}@{rng.choice(DOMAINS)}",
                "employees": rng.choice([5, 80, 300, 900, 5000]),
                "industry": rng.choice(INDUSTRIES),
                "country": rng.choice(["US", "GB", "FR", "JP"]),
                "lead_type": rng.choice(BUILTIN_LEAD_TYPES),
                "attributes": {"seniority": rng.choice(["vp", "ic", "director"])},
            }
        )
        for index in range(count)
    ]


async def intake_rate(db: Database, items: list[LeadInput], concurrency: int) -> float:
    """Leads per second through the real intake (group commit, one transaction a batch)."""
    service = IntakeService(db, ConfigService(), lambda: NOW, lambda: None)
    gate = asyncio.Semaphore(concurrency)

    async def one(lead: LeadInput) -> None:
        async with gate:
            await service.submit("bench", lead, None)

    started = time.perf_counter()
    await asyncio.gather(*(one(lead) for lead in items))
    return len(items) / (time.perf_counter() - started)


async def database(workdir: Path, name: str, config: Config) -> Database:
    db = Database(f"sqlite+aiosqlite:///{workdir / name}.db")
    await upgrade_to_head(db.engine)
    async with db.transaction() as uow:
        await ConfigService().save(uow, config, "bench", NOW, "bench")
    return db


def domain_rates(plain: Config, scored: Config, items: list[LeadInput]) -> tuple[float, float]:
    """Decisions per second: route alone, and score then route (as intake does)."""
    state = RoutingState()
    started = time.perf_counter()
    for lead in items:
        route(lead, plain, state, NOW)
    routing = len(items) / (time.perf_counter() - started)
    started = time.perf_counter()
    for lead in items:
        scoring = score_new_lead(scored, lead, NOW)
        route(lead, scored, state, NOW, scores=scoring.facts() if scoring else None)
    both = len(items) / (time.perf_counter() - started)
    return routing, both


async def main(count: int, rounds: int, concurrency: int) -> None:
    workdir = start_report("Scoring and intake throughput (in process, SQLite)", "lr-scoring-")
    plain, scored = configs()
    routing, both = domain_rates(plain, scored, leads(20_000, seed=0))
    print(
        f"   domain: route {routing:,.0f}/s, score + route {both:,.0f}/s "
        f"(ratio {both / routing:.2f})"
    )
    dbs = {
        "without": await database(workdir, "plain", plain),
        "with": await database(workdir, "scored", scored),
    }
    rates: dict[str, list[float]] = {"without": [], "with": []}
    try:
        for round_number in range(rounds):
            batch = leads(count, seed=round_number + 1)
            order = ["without", "with"] if round_number % 2 == 0 else ["with", "without"]
            for name in order:
                rates[name].append(await intake_rate(dbs[name], batch, concurrency))
            print(
                f"   round {round_number + 1}: "
                + ", ".join(
                    f"{name} model {rates[name][-1]:,.0f} leads/s" for name in ("without", "with")
                )
            )
    finally:
        for db in dbs.values():
            await db.dispose()
    without, with_model = (statistics.median(rates[name]) for name in ("without", "with"))
    print(
        f"   intake median: without a model {without:,.0f} leads/s, with {with_model:,.0f} "
        f"leads/s: ratio {with_model / without:.2f} ({count} leads a round, {concurrency} "
        f"at a time, {rounds} rounds)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(main(args.leads, args.rounds, args.concurrency))
