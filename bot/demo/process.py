"""`leadrouter demo` in a child process, for the browser test and the screenshot script:
started on a free port, its address read from the line it prints when ready."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

READY = re.compile(r"demo ready in [\d.]+ s: open (http://\S+/)")
CHROMIUM = Path("/usr/bin/chromium")
# A headless Chromium that needs no sandbox, GPU or network of its own (containers, CI).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class DemoProcess:
    """`with DemoProcess() as demo: demo.url` (the page); stopped with SIGTERM after.
    `options` go to the command (e.g. `--empty`)."""

    def __init__(self, *options: str, timeout: float = 60.0):
        self.options = options
        self.timeout = timeout
        self.url = ""
        self.output: list[str] = []
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        root = Path(__file__).resolve().parents[2]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "demo", "--port", "0", *self.options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(self.timeout) or not self.url:
            self.__exit__(None, None, None)
            raise RuntimeError("the demo did not start:\n" + "".join(self.output[-30:]))
        return self

    def _read(self, ready: threading.Event) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            found = READY.search(line)
            if found:
                self.url = found.group(1)
                ready.set()
        ready.set()  # the process ended

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()
