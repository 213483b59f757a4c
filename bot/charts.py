"""The digest's chart: leads per rep against what their weight asks for, and how the
team's response times are distributed. A PNG drawn on a bare matplotlib Figure, which renders
with Agg and never touches pyplot's global state or a display: safe in a server."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from domain.reports import RESPONSE_BUCKETS, Report
from domain.stats import shares

MAX_REPS = 25
"""Bars beyond this are unreadable; the digest text and /api/stats have every rep."""


def digest_chart(
    report: Report, histogram: list[int], names: dict[str, str] | None = None
) -> bytes:
    """Two panels as PNG bytes. `histogram` counts responses per RESPONSE_BUCKETS;
    `names` maps user ids to display names where known."""
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
    buckets = range(len(RESPONSE_BUCKETS))
    speed.bar(buckets, histogram, color="#0571b0")
    speed.set_title("Response time: leads contacted within…")
    speed.set_xticks(list(buckets), [label for label, _upper in RESPONSE_BUCKETS])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
