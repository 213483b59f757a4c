"""The `leadrouter demo` command: text logs and the event loop."""

from __future__ import annotations

import asyncio

from bot.logs import configure_logging


def run_demo_command(port: int, empty: bool) -> int:
    """Run the demo until Ctrl-C (a taken port raises PortInUse: exit code 2)."""
    from bot.demo.server import run_demo

    configure_logging("text")
    return asyncio.run(run_demo(port, empty=empty))
