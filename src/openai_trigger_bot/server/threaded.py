"""Run an ASGI app with uvicorn in a background thread (for tests and notebooks).

``serve_in_thread`` binds the socket itself before the server starts, so port ``0`` gives an
ephemeral port that is known (and already accepting connections) when the context is entered.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

try:
    import uvicorn
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the decision server needs starlette and uvicorn: pip install 'openai-trigger-bot[serve]'"
    ) from exc

from .limits import ServerLimits, uvicorn_options

__all__ = ["serve_in_thread"]


@contextlib.contextmanager
def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    log_level: str = "warning",
    limits: ServerLimits | None = None,
) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` in a daemon thread for the duration of the block.

    Args:
        app: An ASGI application (its lifespan runs: startup before the block, shutdown after).
        host: The interface (IPv4) to listen on.
        port: The port; ``0`` picks a free one.
        startup_timeout: Seconds to wait for the server to start.
        log_level: uvicorn's log level.
        limits: Read deadlines and connection bounds (default: :class:`~.limits.ServerLimits`'s),
            applied as ``trigger-bot serve`` applies them.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``.

    Raises:
        RuntimeError: The server did not start in time (or its startup failed).
    """
    # proto=IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says TCP; with proto=0 every answer waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", **uvicorn_options(limits)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{bound_port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {host}:{bound_port} did not start")
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        sock.close()
