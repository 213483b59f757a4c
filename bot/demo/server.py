"""`leadrouter demo [--port N]`: the real app (a new SQLite database in a temporary
directory, routing, timers, the outbox) against the local Slack workspace, with the demo
page on the same port. Nothing is read from the environment, so a `.env` or a real
token on the machine can never be used by the demo."""

from __future__ import annotations

import logging
import secrets
import shutil
import socket
import tempfile
import time
from datetime import date
from pathlib import Path

import uvicorn
import yaml

from bot.app import Application
from bot.demo.page import DemoPage
from bot.demo.team import CHANNELS, PEOPLE, demo_config
from bot.listening import listen
from bot.localslack import BOT_USER_ID, LocalSlack
from bot.settings import Settings
from bot.startup_checks import start_up

log = logging.getLogger("leadrouter.demo")
DEFAULT_PORT = 8000
# The app's manifest.yml, shipped in the package (a symlink to the repository's), so the
# local workspace grants exactly what a real install would, wherever the demo runs.
MANIFEST = Path(__file__).with_name("manifest.yml")
# The local workspace answers in microseconds; Slack's default budgets would only make
# the page wait (the pacing itself is the same code as in production).
DEMO_RATE_SCALE = 4.0


def build_workspace(slack: LocalSlack) -> None:
    """The sample team's people and channels, with the bot in every team channel."""
    for person in PEOPLE:
        slack.add_user(
            person.user,
            email=person.email,
            name=person.name.split()[0].lower(),
            real_name=person.name,
            tz=person.timezone,
            is_admin=person.is_admin,
        )
    members = {BOT_USER_ID, *(person.user for person in PEOPLE)}
    for channel in CHANNELS:
        slack.add_channel(channel.id, channel.name, private=False, members=members)


def demo_settings(
    workdir: Path, slack: LocalSlack, host: str, port: int, *, empty: bool = False
) -> Settings:
    """The demo's settings; `empty`: no configuration, to try the first run in Slack."""
    config_path = None if empty else workdir / "config.yml"
    if config_path is not None:
        config_path.write_text(yaml.safe_dump(demo_config(date.today()), sort_keys=False))
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        SLACK_BOT_TOKEN=slack.api.expected_token,
        SLACK_SIGNING_SECRET=secrets.token_hex(16),
        SLACK_APP_TOKEN=None,
        SLACK_API_URL=slack.url,
        LEADROUTER_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
        LEADROUTER_HOST=host,
        LEADROUTER_PORT=port,
        LEADROUTER_API_KEYS=f"demo:{secrets.token_urlsafe(18)}",
        LEADROUTER_CONFIG=str(config_path) if config_path else None,
        LEADROUTER_RETENTION_DAYS=None,
        LEADROUTER_RATE_LIMIT="off",
        LEADROUTER_SLACK_RATE_SCALE=DEMO_RATE_SCALE,
    )


class _Server(uvicorn.Server):
    """uvicorn, saying once it listens how long the demo took to be ready."""

    def __init__(self, ready_line: str, started: float, config: uvicorn.Config):
        super().__init__(config)
        self.ready_line = ready_line
        self.started_at = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info(self.ready_line, time.monotonic() - self.started_at)


async def run_demo(
    port: int = DEFAULT_PORT, host: str = "127.0.0.1", *, empty: bool = False
) -> int:
    """Serve the demo until interrupted; the temporary directory goes with it."""
    started = time.monotonic()
    sock = listen(host, port)
    port = sock.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="leadrouter-demo-"))
    slack = LocalSlack(token=f"xoxb-demo-{secrets.token_hex(8)}", manifest=MANIFEST).start()
    try:
        build_workspace(slack)
        settings = demo_settings(workdir, slack, host, port, empty=empty)
        application = Application(settings)
        await start_up(application)
        web = application.http_app()
        page = DemoPage(
            slack,
            f"http://127.0.0.1:{port}",
            settings.slack_signing_secret or "",
            settings.api_keys[0].secret,
        )
        web.router.routes.extend(page.routes())
        server = _Server(
            f"demo ready in %.1f s: open http://{host}:{port}/ (Ctrl-C stops it; data in "
            f"{workdir})",
            started,
            uvicorn.Config(
                web,
                host=host,
                port=port,
                lifespan="on",
                access_log=False,
                log_config=None,
                timeout_graceful_shutdown=5,
            ),
        )
        await server.serve(sockets=[sock])
        return 0 if server.started else 2
    finally:
        sock.close()
        slack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
