"""How long the decision server waits for a client, and how many it serves at once.

:class:`ServerLimits` holds the settings; :func:`uvicorn_options` turns them into keyword
arguments for ``uvicorn.run`` / ``uvicorn.Config``, which ``trigger-bot serve`` and
:func:`~.threaded.serve_in_thread` both use:

=====================  =======  ============================================================
setting                default  effect
=====================  =======  ============================================================
``header_timeout``     10 s     the request line and headers must arrive within it (408)
``body_timeout``       30 s     the body must arrive within it after the headers (408)
``keep_alive_timeout`` 5 s      an idle kept-alive connection is closed after it (uvicorn)
``max_connections``    1000     beyond it, requests get 503 (uvicorn's ``limit_concurrency``)
``max_header_bytes``   64 KiB   a larger header block gets 431 (bodies: 16 MiB, then 413)
=====================  =======  ============================================================

The read deadlines are enforced by :mod:`._read_guard` (uvicorn has none of its own). The
event loop is uvloop and the HTTP parser httptools when installed (the ``serve`` extra
installs both); otherwise asyncio's loop and h11.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError

__all__ = ["ServerLimits", "uvicorn_options"]


@dataclass(frozen=True)
class ServerLimits:
    """Read deadlines and connection bounds of the decision server (see the module table).

    Attributes:
        header_timeout: Seconds for a request's line and headers, from the connection's
            opening or the next request's first byte.
        body_timeout: Seconds for a request's body, from the end of its headers.
        keep_alive_timeout: Seconds an idle kept-alive connection stays open.
        max_connections: Connections and requests in progress beyond which new requests are
            answered 503.
        max_header_bytes: The largest request line and header block accepted.

    Raises:
        ConfigurationError: A value is not a positive (finite) number.
    """

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    max_header_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        for name in ("max_connections", "max_header_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive whole number")


def uvicorn_options(limits: ServerLimits | None = None) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that apply ``limits``.

    Args:
        limits: The limits (default: :class:`ServerLimits`'s defaults).

    Returns:
        ``http`` (the protocol class with the read deadlines), ``loop`` (``"auto"``: uvloop
        when installed), ``ws`` (``"none"``: the server has no websockets),
        ``timeout_keep_alive``, ``limit_concurrency`` and ``h11_max_incomplete_event_size``.
    """
    from ._read_guard import guarded_protocol  # imports uvicorn: only when a server starts

    limits = limits or ServerLimits()
    protocol = guarded_protocol(
        header_timeout=limits.header_timeout,
        body_timeout=limits.body_timeout,
        max_header_bytes=limits.max_header_bytes,
    )
    return {
        "http": protocol,
        "loop": "auto",
        "ws": "none",
        "timeout_keep_alive": limits.keep_alive_timeout,
        "limit_concurrency": limits.max_connections,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
