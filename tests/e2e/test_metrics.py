"""`/metrics` after leads flow through the running app: every figure the issue names.

Why: a dashboard or alert built on a metric that never moves is worse than none; this
drives intake, a Slack failure, an SLA breach and its escalation, and reads the scrape.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.app_process import AppProcess
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

FAST_SLA_CONFIG = """
version: 1
admins: [U0ADMIN]
reps:
  - {user: U0ALICE, email: alice@example.com}
teams:
  - name: inbound
    channel: C0INBOUND
    method: push
    manager: U0MANAGER
    members: [{user: U0ALICE}]
rules:
  - name: everyone else
    then: {team: inbound}
slas:
  demo_request:
    respond_within: 2s
    escalation: [{after: 0s, do: notify_manager}]
"""


def _samples(app: AppProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_a_lead_from_intake_to_escalation(
    start_app: Callable[..., AppProcess], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(FAST_SLA_CONFIG)
    app = start_app(config_path=config)
    fake_slack.fail("chat.postMessage", status=500, times=1)

    assert (
        app.post_lead({"email": "ann@example.com", "lead_type": "demo_request"}).status_code == 201
    )
    assert (
        app.post_lead({"email": "ann@example.com", "lead_type": "demo_request"}).status_code == 200
    )

    wanted = {
        "card delivered": lambda s: _value(s, "leadrouter_intake_to_notify_seconds_count") == 1,
        "breach": lambda s: _value(s, "leadrouter_sla_breaches_total") == 1,
        "escalation": lambda s: (
            _value(s, "leadrouter_escalations_total", action="notify_manager") == 1
        ),
        "outbox drained": lambda s: _value(s, "leadrouter_outbox_pending") == 0,
    }
    deadline = time.monotonic() + 60
    while True:
        samples = _samples(app)
        missing = [name for name, check in wanted.items() if not check(samples)]
        if not missing:
            break
        assert time.monotonic() < deadline, f"metrics never showed: {missing}"
        time.sleep(0.25)

    assert _value(samples, "leadrouter_leads_received_total", submitter="webform") == 1
    assert _value(samples, "leadrouter_leads_duplicate_total", submitter="webform") == 1
    assert _value(samples, "leadrouter_leads_routed_total", method="push") == 1
    assert _value(samples, "leadrouter_outbox_oldest_age_seconds") == 0
    errors = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "leadrouter_slack_errors_total"
    }
    assert sum(v for labels, v in errors.items() if ("method", "chat.postMessage") in labels) == 1
    fake_slack.wait_for("chat.postMessage", predicate=lambda c: "U0MANAGER" in str(c.params))
