"""The end-to-end harness itself: AppProcess mechanics and the database fixtures.

Why: when an e2e test fails, it must be the app's fault, not the harness's. AppProcess is
checked here against a tiny stand-in server (so these tests do not depend on the app),
and ``db_url`` against both backends.
"""

from __future__ import annotations

import json
import signal
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from harness.app_process import AppProcess, AppStartError
from harness.slack_signing import slash_command_body
from tests.support.fake_slack import FakeSlack

STUB = textwrap.dedent(
    """
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if os.environ.get("STUB_CRASH"):
        print("boom: SLACK_BOT_TOKEN is required", file=sys.stderr)
        sys.exit(3)

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, doc):
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/healthz":
                self.reply(200, {"ok": True})
            else:
                self.reply(200, {"env": dict(os.environ), "cwd": os.getcwd()})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.reply(201, {"path": self.path, "headers": dict(self.headers),
                             "body": body.decode()})

        def log_message(self, fmt, *args):
            sys.stderr.write(fmt % args + "\\n")

    print("stub serving", flush=True)
    host, port = os.environ["LEADROUTER_HOST"], int(os.environ["LEADROUTER_PORT"])
    ThreadingHTTPServer((host, port), Handler).serve_forever()
    """
)


@pytest.fixture
def stub(tmp_path: Path) -> list[str]:
    """A command that serves like the app would (healthz, echo), for harness tests."""
    path = tmp_path / "stub_app.py"
    path.write_text(STUB)
    return [sys.executable, str(path)]


def test_app_process_lifecycle(
    stub: list[str], tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-real-do-not-leak")
    monkeypatch.setenv("LEADROUTER_PORT", "1")
    app = AppProcess(
        {"EXTRA": "1", "LEADROUTER_API_KEYS": None},
        "sqlite+aiosqlite:////tmp/x.db",
        tmp_path / "cfg.yml",
        slack_api_url=fake_slack.url,
        command=stub,
        log_dir=tmp_path / "logs",
    )
    with app:
        assert app.running and app.get("/healthz").status_code == 200
        seen = app.get("/env").json()
        env = seen["env"]
        assert "SLACK_APP_TOKEN" not in env and "LEADROUTER_API_KEYS" not in env
        assert env["SLACK_API_URL"] == fake_slack.url and env["SLACK_BOT_TOKEN"] == "xoxb-test"
        assert env["LEADROUTER_PORT"] == str(app.port) and env["LEADROUTER_HOST"] == "127.0.0.1"
        assert env["LEADROUTER_DATABASE_URL"] == "sqlite+aiosqlite:////tmp/x.db"
        assert env["LEADROUTER_CONFIG"] == str(tmp_path / "cfg.yml") and env["EXTRA"] == "1"
        assert seen["cwd"] == str(tmp_path / "logs")  # no stray .env from the repo

        lead = app.post_lead({"email": "a@b.co"}, idempotency_key="k1").json()
        assert lead["path"] == "/api/leads" and json.loads(lead["body"]) == {"email": "a@b.co"}
        assert lead["headers"]["Authorization"] == "Bearer secret-1"
        assert lead["headers"]["Idempotency-Key"] == "k1"
        assert "Authorization" not in app.post_lead({}, key=None).json()["headers"]

        body = slash_command_body("/leads", "me", "U0ALICE")
        echoed = app.post_slack(body).json()
        assert echoed["path"] == "/slack/events" and echoed["body"] == body.decode()
        assert SignatureVerifier(app.signing_secret).is_valid_request(body, echoed["headers"])
        stale = app.post_slack(body, timestamp=1).json()["headers"]
        assert not SignatureVerifier(app.signing_secret).is_valid_request(body, stale)

        first_pid, port = app.pid, app.port
        app.kill()
        assert not app.running and app.returncode == -signal.SIGKILL
        app.start()
        assert app.pid != first_pid and app.port == port and app.get("/healthz").status_code == 200
        app.restart()
        assert app.runs == 3 and app.running
    assert not app.running and app.returncode == -signal.SIGTERM
    assert "stub serving" in app.logs() and "GET /healthz" in app.logs()


def test_app_that_dies_on_start_reports_its_stderr(stub: list[str], tmp_path: Path) -> None:
    app = AppProcess({"STUB_CRASH": "1"}, command=stub, log_dir=tmp_path)
    with pytest.raises(AppStartError, match="boom: SLACK_BOT_TOKEN is required") as err:
        app.start()
    assert "exited with code 3" in str(err.value)


def test_app_that_never_gets_healthy_times_out(tmp_path: Path) -> None:
    app = AppProcess(
        command=[
            sys.executable,
            "-c",
            "import time, sys; print('stuck', file=sys.stderr, flush=True); time.sleep(60)",
        ],
        log_dir=tmp_path,
        startup_timeout=1.0,
    )
    with pytest.raises(AppStartError, match="not ready after 1s") as err:
        app.start()
    assert "stuck" in str(err.value)
    assert not app.running


def test_start_app_fixture(
    start_app: Callable[..., AppProcess], stub: list[str], fake_slack: FakeSlack
) -> None:
    one = start_app(command=stub)
    two = start_app(one.db_url, command=stub)
    assert one.port != two.port and one.db_url == two.db_url
    assert one.get("/env").json()["env"]["SLACK_API_URL"] == fake_slack.url


async def test_db_url_is_a_fresh_database(db_url: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT)"))
            await conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'hello')"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT note FROM probe"))).scalars().all()
        assert rows == ["hello"]
    finally:
        await engine.dispose()


def test_postgres_url_fixture_skips_or_names_a_server(request: pytest.FixtureRequest) -> None:
    try:
        url = request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        return
    assert url.startswith("postgresql+asyncpg://")
