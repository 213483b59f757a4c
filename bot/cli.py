"""`leadrouter`: serve, migrate, config validate|import|export, import, simulate,
scoring report, experiment, review, intake test, webhooks replay|test, demo.

Exit codes: 0 done; 1 input refused (an invalid configuration, or refused CSV rows: the
good rows are stored); 2 the command could not run (a bad setting, argument or file, a
port in use, an unreachable database); 3 Slack refused the app's setup at start (token,
scopes, channels); 130 interrupted."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot import evidence_commands, scoring_command
from bot.bounded_files import read_text_limited
from bot.demo.command import run_demo_command
from bot.intake_command import add_intake_parser
from bot.listening import PortInUse, listen
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.startup_checks import StartupError, describe_database, start_up
from bot.webhooks_command import add_webhooks_parser
from domain.config import MAX_CONFIG_BYTES, Config, dump_config, load_config, validate_config
from domain.durations import parse_duration
from domain.errors import InvalidInput

log = logging.getLogger("leadrouter")


class CliError(Exception):
    """Shown as one `leadrouter: …` line; exit code 2."""


def _read(path: Path) -> str:
    try:
        return read_text_limited(path, MAX_CONFIG_BYTES)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None


def _load_file(path: Path) -> Config:
    return load_config(_read(path))


async def _serve(settings: Settings) -> None:
    import uvicorn

    from bot.app import Application

    settings.require_serve()
    with listen(settings.host, settings.port) as sock:
        application = Application(settings)
        try:
            await start_up(application)  # Slack token and scopes, database, configuration
        except BaseException:
            await application.db.dispose()
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                application.http_app(),
                host=settings.host,
                port=settings.port,
                log_level="info",
                lifespan="on",
                timeout_graceful_shutdown=20,
                access_log=False,
                log_config=None,  # uvicorn's lines go through our (redacting) root handler
            )
        )
        mode = "Socket Mode" if settings.socket_mode else "HTTP mode (/slack/events)"
        log.info("leadrouter serving on %s:%s, Slack in %s", settings.host, settings.port, mode)
        await server.serve(sockets=[sock])


async def _with_database(
    settings: Settings, work: Callable[[Any], Coroutine[Any, Any, int]]
) -> int:
    from storage.migrate import upgrade_to_head
    from storage.uow import Database

    db = Database(settings.database_url)
    try:
        await upgrade_to_head(db.engine)
        return await work(db)
    finally:
        await db.dispose()


async def _migrate(settings: Settings) -> int:
    async def done(_db: Any) -> int:
        print("database is at the latest schema")
        return 0

    return await _with_database(settings, done)


async def _import_config(settings: Settings, path: Path) -> int:
    from bot.clock import SystemClock
    from bot.services.configuration import ConfigService

    config = await _resolved(settings, _load_file(path))

    async def save(db: Any) -> int:
        async with db.transaction() as uow:
            version = await ConfigService().save(
                uow,
                config,
                f"cli:{getpass.getuser()}",
                SystemClock().now(),
                f"imported from {path}",
            )
        print(f"imported {path} as configuration version {version}")
        return 0

    return await _with_database(settings, save)


async def _resolved(settings: Settings, config: Config) -> Config:
    """People named by email and channels by #name, looked up in Slack; the bot token is
    needed only when there are some."""
    from bot.services.directory import needs_resolution, resolve_emails

    if not needs_resolution(config):
        return config
    client = _slack_client(settings)
    if client is None:
        raise CliError(
            "the file names people by email or channels by #name: set SLACK_BOT_TOKEN so "
            "that Slack can give their ids"
        )
    return await resolve_emails(config, client)


def _slack_client(settings: Settings) -> Any:
    """A Web API client when a bot token is set, else None."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import SLACK_API_URL

    if not settings.slack_bot_token:
        return None
    return AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url or SLACK_API_URL
    )


async def _live_config(settings: Settings) -> Config | None:
    result: list[Config | None] = [None]

    async def read(db: Any) -> int:
        async with db.snapshot() as uow:
            latest = await uow.configs.latest()
        result[0] = validate_config(latest[1]) if latest else None
        return 0

    await _with_database(settings, read)
    return result[0]


def _export_config(settings: Settings, path: str) -> int:
    config = asyncio.run(_live_config(settings))
    if config is None:
        raise CliError("the database holds no configuration yet (use `leadrouter config import`)")
    text = dump_config(config)
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
        print(f"exported the live configuration to {path}")
    return 0


async def _import_leads(settings: Settings, csv_path: Path, submitter: str) -> int:
    from rich.console import Console

    from bot.clock import SystemClock
    from bot.import_command import import_command
    from bot.services.configuration import ConfigService
    from bot.services.intake import IntakeService

    async def run_import(db: Any) -> int:
        configs = ConfigService()
        async with db.snapshot() as uow:
            current = await configs.current(uow)
        if current is None:
            raise CliError(
                f"no configuration in {describe_database(settings.database_url)}: the leads "
                "would be routed to nobody; run `leadrouter config import FILE` first"
            )
        intake = IntakeService(db, configs, SystemClock().now, lambda: None)
        return await import_command(csv_path, intake, current[1].lead_types(), submitter, Console())

    return await _with_database(settings, run_import)


def _validate(path: Path) -> int:
    config = _load_file(path)
    print(
        f"{path}: valid — {len(config.reps)} reps, {len(config.teams)} teams, "
        f"{len(config.rules)} rules, {len(config.slas)} SLA policies"
    )
    return 0


def _simulate(
    settings: Settings,
    csv_path: Path,
    config_path: Path | None,
    show_all: bool,
    open_for: str | None,
    experiment: str | None = None,
) -> int:
    from rich.console import Console

    from bot.clock import SystemClock
    from bot.simulate_command import simulate_command
    from domain.simulation import only_experiment

    live = asyncio.run(_live_config(settings))
    candidate = _load_file(config_path) if config_path else live
    if candidate is None:
        raise CliError("no configuration: pass --config FILE or import one first")
    if experiment is not None:
        try:
            candidate = only_experiment(candidate, experiment)
        except ValueError as error:
            raise CliError(f"--experiment: {error}") from None
    return simulate_command(
        csv_path,
        candidate,
        live if config_path else None,
        Console(),
        SystemClock().now(),
        show_all=show_all,
        open_for=_duration_option("--open-for", open_for),
    )


def _intake_test(settings: Settings, profile: str, path: Path, config_path: Path | None) -> int:
    from rich.console import Console

    from bot.intake_command import intake_test_command

    config = _load_file(config_path) if config_path else asyncio.run(_live_config(settings))
    return intake_test_command(profile, path, config or Config(), Console())


async def _webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.services.configuration import ConfigService
    from bot.webhooks_command import CommandError, replay_command, test_command

    async def run_command(db: Any) -> int:
        async with db.snapshot() as uow:
            current = await ConfigService().current(uow)
        config = current[1] if current else Config()
        now = SystemClock().now()
        if args.webhooks_command == "test":
            return await test_command(config, args.name, now)
        return await replay_command(db, config, args.since, args.endpoint, now)

    try:
        return await _with_database(settings, run_command)
    except CommandError as error:
        raise CliError(str(error)) from None


def _duration_option(flag: str, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise CliError(f"{flag}: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadrouter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the Slack bot and the intake API")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    config = commands.add_parser("config", help="validate, import or export the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    for name, help_text in (
        ("validate", "check a configuration file and list every error"),
        ("import", "store a configuration file as the new live version"),
        ("export", "write the live configuration to FILE (- for stdout)"),
    ):
        config_commands.add_parser(name, help=help_text).add_argument("file")
    bulk = commands.add_parser("import", help="bulk intake of a CSV of leads (safe to re-run)")
    bulk.add_argument("file", type=Path)
    bulk.add_argument("--submitter", default="csv_import", help="recorded as the leads' sender")
    simulate = commands.add_parser("simulate", help="dry-run routing for a CSV of leads")
    simulate.add_argument("file", type=Path)
    simulate.add_argument("--config", type=Path, help="candidate configuration (default: live)")
    simulate.add_argument("--all", action="store_true", help="print every decision")
    simulate.add_argument(
        "--open-for",
        metavar="DURATION",
        help="how long a simulated lead counts against its owner's capacity, e.g. 3d "
        "(default: for the whole run)",
    )
    simulate.add_argument(
        "--experiment", metavar="NAME", help="preview this experiment's split (whatever its dates)"
    )
    demo = commands.add_parser("demo", help="the bot in a local Slack workspace in your browser")
    demo.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    demo.add_argument(
        "--empty", action="store_true", help="no configuration: try Set up Leadrouter in App Home"
    )
    scoring_command.add_parser(commands)
    evidence_commands.add_commands(commands)
    add_intake_parser(commands)
    add_webhooks_parser(commands)
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "config" and args.config_command == "validate":
        return _validate(Path(args.file))
    if args.command == "demo":
        return run_demo_command(args.port, args.empty)
    settings = load_settings()
    configure_logging(settings.log_format, settings.secrets())
    if args.command == "serve":
        import uvloop  # a faster event loop for the long-running server

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(settings))
        return 0
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "import":
        return asyncio.run(_import_leads(settings, args.file, args.submitter))
    if args.command == "simulate":
        return _simulate(settings, args.file, args.config, args.all, args.open_for, args.experiment)
    if args.command == "scoring":
        return asyncio.run(_with_database(settings, scoring_command.runner(args.days)))
    if args.command in evidence_commands.COMMANDS:
        return evidence_commands.run_command(args, settings, _slack_client(settings))
    if args.command == "intake":
        return _intake_test(settings, args.profile, args.file, args.config)
    if args.command == "webhooks":
        return asyncio.run(_webhooks(settings, args))
    if args.config_command == "import":
        return asyncio.run(_import_config(settings, Path(args.file)))
    return _export_config(settings, args.file)


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except (SettingsError, CliError) as error:
        print(f"leadrouter: {error}", file=sys.stderr)
        code = 2
    except StartupError as error:
        print(f"leadrouter: {error}", file=sys.stderr)
        code = 3
    except PortInUse as error:
        print(f"leadrouter: {error}", file=sys.stderr)
        code = 2
    except SQLAlchemyError as error:
        reason = str(error).splitlines()[0]
        print(
            f"leadrouter: the database failed: {reason} (LEADROUTER_DATABASE_URL)", file=sys.stderr
        )
        code = 2
    except OSError as error:  # a server that cannot be reached (the database, Slack)
        print(f"leadrouter: a connection failed: {error}", file=sys.stderr)
        code = 2
    except InvalidInput as error:
        print("leadrouter: the configuration is invalid; nothing was changed:", file=sys.stderr)
        for problem in error.errors:
            print(f"  {problem}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
