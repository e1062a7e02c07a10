"""Read deadlines for uvicorn's HTTP/1.1 protocols: a stalled request loses its connection.

uvicorn (0.30 to 0.54 at least) has no timeout while it *reads* a request:
``timeout_keep_alive`` is armed only after a response and cancelled by the first byte of the
next request, and nothing is armed when a connection opens. A client that connects and sends
nothing, or half a header block, or a ``Content-Length`` it never delivers, holds its
connection (and a slot of ``limit_concurrency``) for ever. ASGI middleware cannot help: the
app is called only once the headers are complete. So the deadlines live in the protocol,
in subclasses of uvicorn's own h11 and httptools protocols (``uvicorn.Config(http=...)``
accepts a protocol class), hooked only at the connection-level entry points every asyncio
protocol has (``connection_made``, ``data_received``, ``connection_lost``) and reading the
request cycle both uvicorn implementations keep in ``self.cycle``:

- **headers**: from the moment a connection opens, or the first byte of the next request on
  a kept-alive connection, the whole header block must arrive within ``header_timeout``
  seconds and be at most ``max_header_bytes`` long (httptools has no header size limit);
- **body**: from the end of the headers, the whole body must arrive within ``body_timeout``.

When a deadline passes, the server answers ``408 Request Timeout`` (unless a response already
started) and closes the connection; the app, if it was waiting for the body, sees the client
disconnect. While the app works on a complete request no read deadline runs: between
requests uvicorn's own ``timeout_keep_alive`` applies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedH11Protocol", "guarded_protocol", "httptools_available"]

logger = logging.getLogger("openai_trigger_bot.server")

Phase = Literal["idle", "headers", "body"]

_RESPONSES = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}


class _ReadGuard(asyncio.Protocol):
    """The deadlines; mixed in before one of uvicorn's protocol classes."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 64 * 1024

    # Set by uvicorn's protocol classes.
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    client: tuple[str, int] | None

    _phase: Phase = "idle"
    _timer: asyncio.TimerHandle | None = None
    _seen_cycle: Any = None
    _header_bytes: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._enter("headers")

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if self._phase == "idle" and (cycle is None or cycle.response_complete):
            self._enter("headers")  # the first bytes of the next request on this connection
        if self._phase == "headers":
            self._header_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen_cycle:
            self._seen_cycle = cycle  # the headers of a new request are complete
            self._enter("body" if cycle.more_body else "idle")
        elif self._phase == "body" and cycle is not None and not cycle.more_body:
            self._enter("idle")
        elif self._phase == "headers" and self._header_bytes > self.max_header_bytes:
            self._refuse(431, f"request headers over {self.max_header_bytes} bytes")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    # -- the deadlines ------------------------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        self._cancel()
        self._phase = phase
        if phase == "headers":
            self._header_bytes = 0
            self._timer = self.loop.call_later(self.header_timeout, self._expired, phase)
        elif phase == "body":
            self._timer = self.loop.call_later(self.body_timeout, self._expired, phase)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, phase: Phase) -> None:
        self._timer = None
        limit = self.header_timeout if phase == "headers" else self.body_timeout
        self._refuse(
            408,
            f"request {'headers' if phase == 'headers' else 'body'} not "
            f"received within {limit:g} s",
        )

    def _refuse(self, status: int, why: str) -> None:
        """Answer ``status`` when no response has started, then close the connection."""
        self._cancel()
        self._phase = "idle"
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            # Written as raw bytes: the connection closes right after, so the protocol's
            # parser state no longer matters.
            self.transport.write(
                _RESPONSES[status] + b"content-length: 0\r\nconnection: close\r\n\r\n"
            )
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.info("closed the connection of %s: %s", peer, why)
        self.transport.close()


class GuardedH11Protocol(_ReadGuard, H11Protocol):
    """uvicorn's h11 protocol with read deadlines."""


def httptools_available() -> bool:
    """Whether uvicorn's httptools protocol (the fast C parser) can be used."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return False
    return True


def guarded_protocol(
    *,
    header_timeout: float,
    body_timeout: float,
    max_header_bytes: int,
    parser: Literal["auto", "httptools", "h11"] = "auto",
) -> type[asyncio.Protocol]:
    """A uvicorn HTTP protocol class with these read deadlines, for ``uvicorn.Config(http=)``.

    Args:
        header_timeout: Seconds for a whole header block.
        body_timeout: Seconds for a whole body, from the end of the headers.
        max_header_bytes: The largest header block accepted (431 beyond).
        parser: ``"httptools"`` (fast; in the ``serve`` extra), ``"h11"`` (pure Python), or
            ``"auto"``: httptools when installed.

    Raises:
        ImportError: ``parser="httptools"`` without httptools installed.
    """
    base: type[_ReadGuard]
    if parser == "httptools" or (parser == "auto" and httptools_available()):
        from ._read_guard_httptools import GuardedHttpToolsProtocol

        base = GuardedHttpToolsProtocol
    else:
        base = GuardedH11Protocol
    settings = {
        "header_timeout": float(header_timeout),
        "body_timeout": float(body_timeout),
        "max_header_bytes": int(max_header_bytes),
    }
    return cast("type[asyncio.Protocol]", type(base.__name__, (base,), settings))
