"""Test helpers: run an ASGI app on a real loopback port, make valid identifiers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from connectors.identifiers import credit_code_check_char, id_number_check_char


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 and yield its base URL.

    The socket is bound and listening before the server task starts, so a client
    may connect at once: the kernel queues the connection until uvicorn accepts.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it small answers wait on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def log_seal_files(folder: Path) -> dict[str, str]:
    """An `[access_log]` section's key and checkpoint files, made in `folder`, as
    production must name them."""
    from auth.access_log_seal import development_chain_key, development_checkpoint_key

    private, public = development_checkpoint_key(folder)
    return {
        "chain_key_file": str(development_chain_key(folder)),
        "checkpoint_key_file": str(private),
        "checkpoint_public_key_file": str(public),
        "checkpoint_file": str(folder / "checkpoints.jsonl"),
    }


def id_number(n: int, birth: str = "19850312", region: str = "210102") -> str:
    """A valid resident ID number; `n` picks the sequence digits (0..999)."""
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(n: int, prefix: str = "91210102") -> str:
    """A valid unified social credit code; `n` picks the body (0..999_999_999)."""
    first17 = f"{prefix}{n % 1_000_000_000:09d}"
    return first17 + credit_code_check_char(first17)
