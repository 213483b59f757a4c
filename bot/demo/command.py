"""The `leadrouter demo` command: text logs, the event loop, a taken port as one line."""

from __future__ import annotations

import asyncio
import sys

from bot.logs import configure_logging


def run_demo_command(port: int) -> int:
    """Run the demo until Ctrl-C; exit code 2 (with one line) when the port is taken."""
    from bot.demo.server import PortInUse, run_demo

    configure_logging("text")
    try:
        return asyncio.run(run_demo(port))
    except PortInUse as error:
        print(f"leadrouter: {error}", file=sys.stderr)
        return 2
