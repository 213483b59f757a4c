"""`GET /api/stats?team=|rep=|source=&period=&tz=`: the `/leadstats` figures as JSON, for
a CRM or a BI tool; `?experiment=NAME`: an experiment's report. Same API keys as intake."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.api.access import KeyGate
from bot.api.scoring_json import scoring_report_json
from bot.api_keys import Scope as KeyScope
from bot.services.experiments import ExperimentService
from bot.services.stats import StatsService, UnknownScope
from bot.settings import Settings
from domain.experiment_document import to_document
from domain.experiment_lifecycle import ExperimentError
from domain.reports import DEFAULT_PERIOD, PERIODS, Line, Report, Scope, Tally


class StatsApi:
    def __init__(
        self,
        settings: Settings,
        stats: StatsService,
        experiments: ExperimentService,
        gate: KeyGate | None = None,
    ):
        self.settings = settings
        self.stats = stats
        self.experiments = experiments
        self.gate = gate or KeyGate(settings)

    def routes(self) -> list[Route]:
        return [Route("/api/stats", self.get_stats, methods=["GET"])]

    async def get_stats(self, request: Request) -> Response:
        admitted = self.gate.admit(request, KeyScope.READ)
        if isinstance(admitted, Response):
            return admitted
        params = request.query_params
        if "experiment" in params:
            return await self._experiment(params["experiment"])
        errors = []
        scopes = [Scope(kind, params[kind]) for kind in ("team", "rep", "source") if kind in params]
        if len(scopes) != 1:
            errors.append({"field": "team", "message": "give exactly one of team, rep or source"})
        period = params.get("period") or DEFAULT_PERIOD
        if period not in PERIODS:
            errors.append({"field": "period", "message": f"one of {', '.join(PERIODS)}"})
        try:
            zone = ZoneInfo(params.get("tz") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            errors.append({"field": "tz", "message": "an IANA timezone like Europe/Paris"})
        if errors:
            return JSONResponse({"errors": errors}, 422)
        try:
            report = await self.stats.report(scopes[0], period, zone)
        except UnknownScope as error:
            return JSONResponse({"error": str(error)}, 404)
        return JSONResponse(report_json(report))

    async def _experiment(self, name: str) -> Response:
        """`?experiment=NAME`: the experiment's report (docs/experiments.md)."""
        try:
            report = await self.experiments.report(name)
        except ExperimentError as error:
            return JSONResponse({"error": str(error)}, 404)
        return JSONResponse(to_document(report))


def _tally(tally: Tally) -> dict[str, Any]:
    return {
        **asdict(tally),
        "sla_rate": tally.sla_rate,
        "opportunity_rate": tally.opportunity_rate,
        "win_rate": tally.win_rate,
    }


def _line(line: Line) -> dict[str, Any]:
    return {
        "key": line.key,
        **_tally(line.tally),
        "response_seconds": asdict(line.response),
        "weight": line.weight,
    }


def report_json(report: Report) -> dict[str, Any]:
    """Every figure of the report; durations in seconds, rates from 0 to 1 (null: no data)."""
    return {
        "scope": asdict(report.scope),
        "period": report.period,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "total": _tally(report.total),
        "response_seconds": asdict(report.response),
        "gini": report.gini,
        "unassigned": report.unassigned,
        "reps": [_line(line) for line in report.reps],
        "sources": [_line(line) for line in report.sources],
        "methods": [_line(line) for line in report.methods],
        "rules": [_line(line) for line in report.rules],
        "queues": [
            {
                "method": q.method,
                "lead_type": q.lead_type,
                "claimed": q.claimed,
                "wait_seconds": asdict(q.wait),
                "unclaimed": q.unclaimed,
                "longest_unclaimed_seconds": q.longest_unclaimed_seconds,
            }
            for q in report.queues
        ],
        "stages": [asdict(stage) for stage in report.stages],
        "scoring": scoring_report_json(report.scoring),
    }
