"""Shared fixtures: a fake Slack, test databases on SQLite and PostgreSQL, the app process.

Why here: every layer's tests (storage, services, end to end) need the same few things,
and keeping them generic in one place means a storage test and an e2e test run against
the very same database matrix.

- ``fake_slack``: a started :class:`FakeSlack`, stopped after the test.
- ``postgres_url``: the server in ``LEADROUTER_TEST_POSTGRES_URL`` (skips when unset).
- ``postgres_db``: a new, empty database on that server, dropped after the test.
- ``db_url``: parametrized ``sqlite`` (a fresh file) and ``postgres`` (a fresh database,
  dropped afterwards; skipped without a server). Tests using it run once per backend.
- ``start_app``: a factory starting ``leadrouter serve`` subprocesses wired to
  ``fake_slack``; all are stopped afterwards and their stderr printed if the test failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.app_process import AppProcess
from harness.databases import (
    POSTGRES_ENV,
    create_postgres_database,
    drop_postgres_database,
    postgres_server_url,
    sqlite_url,
)
from tests.support.fake_slack import FakeSlack


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Why tests were skipped, one line per reason (`-q` alone only counts them): a reader
    who sees 100 skipped must learn that a PostgreSQL URL would run them."""
    reasons = Counter(
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    )
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}", yellow=True)


def _test_failed(node: pytest.Item) -> bool:
    report = getattr(node, "_report_call", None)
    return bool(report is not None and report.failed)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on a free local port, fresh for each test."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server to test against; skips the test when none is configured."""
    url = postgres_server_url()
    if url is None:
        pytest.skip(
            f"PostgreSQL tests: {POSTGRES_ENV} is not set "
            "(postgresql+asyncpg://USER:PASS@HOST:PORT/postgres; they create their own databases)"
        )
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL (SQLAlchemy async form), once per backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "lr.db")
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server, dropped after the test (its
    sessions cut, so a replica still running cannot keep it)."""
    url = create_postgres_database(postgres_url)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def start_app(
    request: pytest.FixtureRequest, tmp_path: Path, fake_slack: FakeSlack
) -> Iterator[Callable[..., AppProcess]]:
    """Factory: ``start_app(db_url=None, config_path=None, env=None, **kw) -> AppProcess``.

    Each call starts one ``leadrouter serve`` against ``fake_slack`` (several calls with
    the same ``db_url`` make replicas) and waits for ``/healthz``; extra keywords go to
    :class:`AppProcess` (``wait=False`` skips the wait).
    """
    started: list[AppProcess] = []

    def factory(
        db_url: str | None = None,
        config_path: str | Path | None = None,
        env: dict[str, str | None] | None = None,
        *,
        wait: bool = True,
        **kwargs: Any,
    ) -> AppProcess:
        kwargs.setdefault("slack_api_url", fake_slack.url)
        kwargs.setdefault("log_dir", tmp_path / f"app{len(started) + 1}")
        app = AppProcess(env, db_url, config_path, **kwargs)
        started.append(app)
        return app.start(wait=wait)

    yield factory
    failed = _test_failed(request.node)
    for app in started:
        app.terminate()
        if failed:
            print(f"\n=== app on port {app.port} (logs in {app.log_dir}) stderr tail ===")
            print(app.stderr_tail(80))
