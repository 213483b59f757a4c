"""Claim storm benchmark: ack latency and throughput of `claim_lead` clicks.

For each of `--leads` pull leads, `--reps` reps click Claim at once and every click is
delivered a second time (as Slack retries), all signed as Slack signs them, against the
real `leadrouter serve` (SQLite) and its fake Slack. Ack latency is the time Slack would
wait for our HTTP answer (its deadline is 3 s). Baseline in the same run: `GET /healthz`
under the same concurrency, the HTTP floor of this process and machine.

    python -m bench.claims [--leads 100] [--reps 50] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine_line
from bot.localslack import LocalSlack as FakeSlack
from domain.stats import percentile
from harness.app_process import AppProcess
from harness.slack_signing import block_action_body, signed_headers


def config_yaml(reps: list[str]) -> str:
    return (
        "version: 1\nreps: [" + ", ".join(f"{{user: {rep}}}" for rep in reps) + "]\n"
        "teams: [{name: pull, channel: C0PULL, method: pull, members: ["
        + ", ".join(f"{{user: {rep}}}" for rep in reps)
        + "]}]\n"
        "rules: [{name: all, then: {team: pull}}]\n"
    )


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> float:
    began = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    if response.status_code != 200:
        raise SystemExit(f"{method} {path} answered {response.status_code}: {response.text}")
    return time.perf_counter() - began


async def storm(
    app: AppProcess, slack: FakeSlack, reps: list[str], leads: int, concurrency: int
) -> tuple[list[float], float, int]:
    """Ack latencies, clicks per second, and leads that did not end with exactly one owner."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    clicking = 0.0
    wrong = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=app.base_url, limits=limits, timeout=30) as client:
        for index in range(leads):
            posted = await client.post(
                "/api/leads",
                json={"email": f"storm{index}@bench.io"},
                headers={"Authorization": "Bearer secret-1"},
            )
            lead_id = posted.json()["id"]
            posts = await slack.wait_for_async("chat.postMessage", count=index + 1, timeout=30)
            card_ts = posts[-1].response["ts"]

            async def click(
                rep: str, retry: int, lead_id: str = lead_id, card_ts: str = card_ts
            ) -> None:
                body = block_action_body(
                    "claim_lead",
                    lead_id,
                    user_id=rep,
                    channel_id="C0PULL",
                    message_ts=card_ts,
                    response_url=slack.response_url(f"{lead_id}-{rep}"),
                )
                headers = signed_headers(app.signing_secret, body)
                if retry:
                    headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
                async with gate:
                    latencies.append(
                        await timed(client, "POST", "/slack/events", content=body, headers=headers)
                    )

            began = time.perf_counter()
            await asyncio.gather(*(click(rep, retry) for rep in reps for retry in (0, 1)))
            clicking += time.perf_counter() - began
            wrong += not await one_owner(client, slack, lead_id, reps)
    return latencies, len(latencies) / clicking, wrong


async def one_owner(
    client: httpx.AsyncClient, slack: FakeSlack, lead_id: str, reps: list[str]
) -> bool:
    """Clicks are acknowledged before they are processed (ack first, work after): wait for
    every loser's reply, then check the lead has one owner and one claimed event."""
    await slack.wait_for_async(
        "response_url",
        count=2 * (len(reps) - 1),
        timeout=60,
        failed=None,
        predicate=lambda call: (call.target or "").startswith(lead_id),
    )
    body = (
        await client.get(f"/api/leads/{lead_id}", headers={"Authorization": "Bearer secret-1"})
    ).json()
    claimed = [event for event in body["timeline"] if event["type"] == "claimed"]
    return body["owner"] in reps and len(claimed) == 1


async def health_floor(app: AppProcess, requests: int, concurrency: int) -> list[float]:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=app.base_url, limits=limits, timeout=30) as client:

        async def one() -> float:
            async with gate:
                return await timed(client, "GET", "/healthz")

        return list(await asyncio.gather(*(one() for _ in range(requests))))


def line(name: str, values: list[float]) -> str:
    ms = [value * 1000 for value in values]
    return (
        f"{name}: p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {max(ms):.1f} ms (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(machine_line())
    reps = [f"U0REP{index:03d}" for index in range(args.reps)]
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as slack:
        config = Path(folder) / "config.yml"
        config.write_text(config_yaml(reps))
        with AppProcess(
            db_url=f"sqlite+aiosqlite:///{folder}/claims.db",
            config_path=config,
            slack_api_url=slack.url,
            log_dir=Path(folder) / "app",
        ) as app:
            floor = asyncio.run(
                health_floor(app, args.leads * args.reps * 2 // 10, args.concurrency)
            )
            latencies, rate, wrong = asyncio.run(
                storm(app, slack, reps, args.leads, args.concurrency)
            )
    print(
        f"storm: {args.leads} leads x {args.reps} reps x 2 deliveries, {args.concurrency} "
        f"concurrent requests, SQLite"
    )
    print(line("ack latency (claim_lead)", latencies))
    print(line("baseline GET /healthz   ", floor))
    p99 = percentile(latencies, 99) * 1000
    floor_p99 = percentile(floor, 99) * 1000
    print(f"clicks acknowledged: {rate:,.0f}/s; ack p99 is {p99 / floor_p99:.1f}x the /healthz p99")
    print(f"leads with exactly one owner and one claimed event: {args.leads - wrong}/{args.leads}")
    print(f"target: ack p99 under 100 ms -> {'MET' if p99 < 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
