"""The digest's chart: leads per rep against what their weight asks for, and each rep's
response times (median and p90). A PNG drawn on a bare matplotlib Figure, which renders
with Agg and never touches pyplot's global state or a display: safe in a server."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from domain.reports import Report
from domain.stats import shares

MAX_REPS = 25
"""Bars beyond this are unreadable; the digest text and /api/stats have every rep."""


def digest_chart(report: Report, names: dict[str, str] | None = None) -> bytes:
    """Two panels as PNG bytes. `names` maps user ids to display names where known."""
    reps = report.reps[:MAX_REPS]
    labels = [(names or {}).get(line.key, line.key) for line in reps]
    weights = {line.key: line.weight or 0 for line in reps}
    expected = {s.user: s.expected for s in shares({r.key: r.tally.leads for r in reps}, weights)}
    figure = Figure(figsize=(10, 7.5), dpi=100, layout="constrained")
    volume, speed = figure.subplots(2, 1)
    positions = range(len(reps))
    volume.bar(positions, [line.tally.leads for line in reps], label="leads routed")
    if any(weights.values()):
        volume.plot(
            positions, [expected.get(line.key, 0) for line in reps], "kD", label="share by weight"
        )
    volume.set_title("Leads per rep against weight")
    volume.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=8)
    volume.legend()
    medians = [(line.response.median or 0) / 60 for line in reps]
    p90s = [(line.response.p90 or 0) / 60 for line in reps]
    speed.bar(positions, p90s, color="#f4a582", label="p90")
    speed.bar(positions, medians, color="#0571b0", label="median")
    speed.set_title("Response time per rep (minutes)")
    speed.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=8)
    speed.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
