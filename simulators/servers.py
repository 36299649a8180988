"""Serve several ASGI apps from one process, and stop them all cleanly on Ctrl-C.

uvicorn's own signal capture assumes one server per process; here one group
owns SIGINT/SIGTERM and tells every server to finish its in-flight requests
and exit. Sockets are bound before any server starts, so a port that is taken
fails at once with a clear message, and a client may connect as soon as
`serve_all` reports ready (the kernel queues connections until uvicorn accepts).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

__all__ = ["PortInUse", "ServedApp", "bind", "serve_all"]


class PortInUse(OSError):
    """The address a server should listen on is taken."""


@dataclass(frozen=True)
class ServedApp:
    name: str
    app: ASGIApp
    host: str
    port: int


class _GroupMember(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its group."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it small answers wait on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve_all(
    apps: list[ServedApp],
    on_ready: Callable[[dict[str, str]], None],
    *,
    log_level: str = "warning",
) -> None:
    """Serve every app until SIGINT/SIGTERM (or until one server stops).

    `on_ready` gets {name: base URL} once every socket is listening.
    """
    sockets: list[socket.socket] = []
    try:
        for served in apps:
            sockets.append(bind(served.host, served.port))
        servers = [
            _GroupMember(uvicorn.Config(served.app, log_level=log_level, lifespan="on"))
            for served in apps
        ]
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for server in servers:
                server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        try:
            tasks = [
                asyncio.create_task(server.serve(sockets=[sock]))
                for server, sock in zip(servers, sockets, strict=True)
            ]
            on_ready({served.name: _url(sock) for served, sock in zip(apps, sockets, strict=True)})
            # When any server ends (a crash, or a signal), the others are told to stop too.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            stop()
            await asyncio.gather(*tasks)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    finally:
        for sock in sockets:
            sock.close()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
