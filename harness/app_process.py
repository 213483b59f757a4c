"""Run the real ``leadrouter serve`` as a subprocess for end-to-end tests.

Why: the promises that matter most (a 201 survives a crash one instant later, a restart
loses no timer, two replicas never make two owners) only hold if they hold for the real
process, started the way operators start it, killed the way machines die (SIGKILL). This
module starts ``python -m bot.cli serve`` with an environment built from CONTRACT.md's
names, waits for ``/healthz``, and keeps its output in files for the post-mortem::

    with FakeSlack() as slack, AppProcess(db_url=url, slack_api_url=slack.url) as app:
        resp = app.post_lead({"email": "a@b.com", "lead_type": "demo_request"})
        assert resp.status_code == 201
        app.kill()                      # SIGKILL: no goodbye
        app.start()                     # same port, same database
        slack.wait_for("chat.postMessage")

The parent's own ``SLACK_*`` and ``LEADROUTER_*`` variables are never passed on, so a
developer's real token or ``SLACK_APP_TOKEN`` cannot leak into (or redirect) a test run,
and the process runs in its log directory so no stray ``.env`` is read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from .slack_signing import signed_headers

__all__ = [
    "DEFAULT_API_KEYS",
    "DEFAULT_SIGNING_SECRET",
    "REPO_ROOT",
    "AppProcess",
    "AppStartError",
    "free_port",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIGNING_SECRET = "test-signing-secret"
DEFAULT_API_KEYS = "webform:secret-1,crm:secret-2"
DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot.cli", "serve")
# Never Slack's real API: port 9 (discard) refuses, so a missing fake fails loudly.
UNREACHABLE_SLACK = "http://127.0.0.1:9/api/"


class AppStartError(RuntimeError):
    """The app exited or never answered ``/healthz``; the message carries its stderr."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path | None, lines: int) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


class AppProcess:
    """One ``leadrouter serve`` subprocess: start, health wait, kill, restart, logs.

    ``env`` entries override the defaults (a value of ``None`` removes the variable, to
    test a missing setting). ``db_url`` defaults to a SQLite file in ``log_dir``.
    ``port`` stays the same across restarts so ``base_url`` does too.
    """

    def __init__(
        self,
        env: Mapping[str, str | None] | None = None,
        db_url: str | None = None,
        config_path: str | os.PathLike[str] | None = None,
        *,
        slack_api_url: str | None = None,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        api_keys: str = DEFAULT_API_KEYS,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        command: Sequence[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="leadrouter-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.signing_secret = signing_secret
        self.db_url = db_url or f"sqlite+aiosqlite:///{self.log_dir / 'leadrouter.db'}"
        self.config_path = str(config_path) if config_path is not None else None
        self.command = list(command or DEFAULT_COMMAND)
        self.startup_timeout = startup_timeout
        self._overrides = dict(env or {})
        self._slack_api_url = slack_api_url
        self._api_keys = api_keys
        self._proc: subprocess.Popen[bytes] | None = None
        self._files: list[IO[bytes]] = []
        self.runs = 0
        self.stdout_path: Path | None = None
        self.stderr_path: Path | None = None

    # ------------------------------------------------------------------ environment

    def build_env(self) -> dict[str, str]:
        """The child's environment: ours minus SLACK_*/LEADROUTER_*, plus the settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEADROUTER_"))}
        pythonpath = [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(pythonpath),
                "PYTHONUNBUFFERED": "1",
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": self.signing_secret,
                "SLACK_API_URL": self._slack_api_url or UNREACHABLE_SLACK,
                "LEADROUTER_DATABASE_URL": self.db_url,
                "LEADROUTER_HOST": self.host,
                "LEADROUTER_PORT": str(self.port),
                "LEADROUTER_API_KEYS": self._api_keys,
                # Tests and benchmarks flood one key on purpose; limit tests set their own.
                "LEADROUTER_RATE_LIMIT": "off",
                # The fake Slack stands for a workspace granted 20x Slack's default tiers:
                # at the defaults (300 posts a minute) a thousand-lead test is Slack-bound.
                "LEADROUTER_SLACK_RATE_SCALE": "20",
            }
        )
        if self.config_path is not None:
            env["LEADROUTER_CONFIG"] = self.config_path
        for key, value in self._overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def start(self, wait: bool = True) -> Self:
        """Spawn the process (new log files per run) and, by default, wait for health."""
        if self.running:
            raise RuntimeError(f"app already running (pid {self.pid})")
        self._close_files()
        self.runs += 1
        self.stdout_path = self.log_dir / f"app-{self.port}-run{self.runs}.stdout.log"
        self.stderr_path = self.log_dir / f"app-{self.port}-run{self.runs}.stderr.log"
        out = self.stdout_path.open("wb")
        err = self.stderr_path.open("wb")
        self._files = [out, err]
        self._proc = subprocess.Popen(
            self.command,
            env=self.build_env(),
            cwd=self.log_dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, path: str = "/healthz", timeout: float | None = None) -> None:
        """Poll ``path`` until it answers 200; raise :class:`AppStartError` with stderr."""
        limit = self.startup_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        last_error = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self._proc is None or self._proc.poll() is not None:
                    code = None if self._proc is None else self._proc.returncode
                    raise AppStartError(self._failure(f"app exited with code {code} on start"))
                try:
                    resp = client.get(self.base_url + path)
                    if resp.status_code == 200:
                        return
                    last_error = f"{path} answered {resp.status_code}"
                except httpx.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                if time.monotonic() > deadline:
                    self.kill()
                    raise AppStartError(
                        self._failure(f"app not ready after {limit:g}s ({last_error})")
                    )
                time.sleep(0.1)

    def _failure(self, head: str) -> str:
        return (
            f"{head}\ncommand: {' '.join(self.command)}\nlogs: {self.log_dir}\n"
            f"--- stderr (tail) ---\n{self.stderr_tail()}\n"
            f"--- stdout (tail) ---\n{self.stdout_tail(20)}"
        )

    def kill(self) -> None:
        """SIGKILL, the way a machine dies: no shutdown hooks run."""
        self._signal_and_wait(signal.SIGKILL, timeout=10)

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait (graceful stop); SIGKILL if it overstays ``timeout``."""
        if self._proc is None:
            return None
        if not self._signal_and_wait(signal.SIGTERM, timeout=timeout):
            self.kill()
        return self.returncode

    stop = terminate

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> bool:
        proc = self._proc
        if proc is None:
            return True
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        self._close_files()
        return True

    def restart(self, *, hard: bool = False, wait: bool = True) -> Self:
        """Stop (SIGTERM, or SIGKILL with ``hard=True``) and start again on the same port."""
        if hard:
            self.kill()
        else:
            self.terminate()
        return self.start(wait=wait)

    def _close_files(self) -> None:
        for handle in self._files:
            with contextlib.suppress(OSError):
                handle.close()
        self._files = []

    def __enter__(self) -> Self:
        return self.start() if not self.running else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.terminate()

    # ------------------------------------------------------------------ logs

    def stderr_tail(self, lines: int = 60) -> str:
        """The last lines the current (or last) run wrote to stderr."""
        return _tail(self.stderr_path, lines)

    def stdout_tail(self, lines: int = 60) -> str:
        """The last lines the current (or last) run wrote to stdout."""
        return _tail(self.stdout_path, lines)

    def logs(self) -> str:
        """Everything every run wrote, oldest first: for assertions on log lines."""
        parts = []
        for run in range(1, self.runs + 1):
            for stream in ("stdout", "stderr"):
                path = self.log_dir / f"app-{self.port}-run{run}.{stream}.log"
                if path.exists():
                    parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "".join(parts)

    # ------------------------------------------------------------------ HTTP helpers

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP call to the app (a fresh connection: safe across kills/restarts)."""
        kwargs.setdefault("timeout", 15.0)
        with httpx.Client(base_url=self.base_url) as client:
            return client.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    @staticmethod
    def _auth(key: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {key}"} if key is not None else {}
        out.update(headers or {})
        return out

    def post_lead(
        self,
        body: Mapping[str, Any],
        key: str | None = "secret-1",
        headers: Mapping[str, str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """``POST /api/leads`` with an intake key (``key=None``: no Authorization)."""
        sent = self._auth(key, headers)
        if idempotency_key is not None:
            sent["Idempotency-Key"] = idempotency_key
        return self.post("/api/leads", json=dict(body), headers=sent)

    def post_leads_batch(
        self,
        body: Any,
        key: str | None = "secret-1",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``POST /api/leads/batch`` with ``body`` sent as JSON exactly as given."""
        return self.post("/api/leads/batch", json=body, headers=self._auth(key, headers))

    def get_lead(
        self,
        lead_id: int | str,
        key: str | None = "secret-1",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``GET /api/leads/{id}``."""
        return self.get(f"/api/leads/{lead_id}", headers=self._auth(key, headers))

    def post_lead_event(
        self,
        lead_id: int | str,
        event: Mapping[str, Any],
        key: str | None = "secret-2",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``POST /api/leads/{id}/events`` (the CRM's closed loop; the ``crm`` key)."""
        return self.post(
            f"/api/leads/{lead_id}/events", json=dict(event), headers=self._auth(key, headers)
        )

    def post_slack(
        self,
        body: bytes,
        content_type: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        sign: bool = True,
    ) -> httpx.Response:
        """``POST /slack/events`` signed as Slack signs (``secret`` defaults to the app's).

        ``timestamp`` set in the past makes a stale request; ``sign=False`` sends none.
        """
        if sign:
            sent = signed_headers(secret or self.signing_secret, body, content_type, timestamp)
        else:
            sent = {"Content-Type": content_type or "application/x-www-form-urlencoded"}
        sent.update(headers or {})
        return self.post("/slack/events", content=body, headers=sent)
