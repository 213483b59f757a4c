"""The receiver printed in docs/connectors.md runs, accepts what Leadrouter signs,
refuses a forged signature and drops a repeated `webhook-id`."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.webhook_transport import signed_request
from domain.webhooks import WebhookEndpoint
from harness.app_process import free_port
from tests.support.webhook_receiver import SECRET

DOCS = Path(__file__).parents[2] / "docs" / "connectors.md"


def receiver_code() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### A receiver that verifies the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    return code.group(1)


def test_the_documented_receiver_verifies_and_drops_repeats(tmp_path: Path) -> None:
    port = free_port()
    script = tmp_path / "receiver.py"
    script.write_text(receiver_code().replace('("", 8000)', f'("127.0.0.1", {port})'))
    assert len([line for line in receiver_code().splitlines() if line.strip()]) <= 16
    env = {"LEADROUTER_WEBHOOK_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        endpoint = WebhookEndpoint(
            name="docs", url=f"http://127.0.0.1:{port}/", secret_env="LEADROUTER_WEBHOOK_SECRET"
        )
        owner = {"slack_id": "U0ALICE", "email": "a@example.com"}
        body = {"type": "lead.assigned", "timestamp": "2026-12-01T10:00:00Z"}
        body["data"] = {"id": "x", "owner": owner}
        data, headers = signed_request(endpoint, "msg_docs", body, datetime.now(UTC), env)
        answers = []
        for _ in range(100):
            try:
                answers.append(httpx.post(endpoint.url, content=data, headers=headers).status_code)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        answers.append(httpx.post(endpoint.url, content=data, headers=headers).status_code)
        forged = {**headers, "webhook-signature": "v1,AAAA" + headers["webhook-signature"][7:]}
        answers.append(httpx.post(endpoint.url, content=data, headers=forged).status_code)
        assert answers == [204, 204, 401]
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert output.count("lead.assigned") == 1
    assert "U0ALICE" in output
