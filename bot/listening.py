"""The listening socket of `serve` and `demo`, bound before anything starts, so a port in
use is one clear line (exit code 2) instead of a failure after the start-up work."""

from __future__ import annotations

import socket


class PortInUse(Exception):
    """The port is taken or not ours to bind: shown as one `leadrouter: …` line."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one) to hand to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PortInUse(
            f"cannot listen on {host}:{port} ({error.strerror}): choose another port"
        ) from None
    sock.listen(2048)
    return sock
