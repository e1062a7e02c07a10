"""The evaluator's pooled httpx clients: one ``AsyncClient`` per event loop, one ``Client``.

An ``httpx.AsyncClient``'s connections belong to the loop they were opened on, so a client
is never shared between loops: each running loop gets its own on first use and keeps it
(keep-alive) until :meth:`ClientPool.aclose` (on that loop) or :meth:`ClientPool.close`.
Clients of loops that were closed in the meantime are dropped when the next one is created
(their connections cannot be awaited any more).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from ...exceptions import UsageError

__all__ = ["ClientPool"]


class ClientPool:
    """Lazily created httpx clients sharing one set of settings.

    Args:
        settings: Keyword arguments for both client kinds (see ``_http.client_settings``).
        transport: An injected transport (used by whichever client kind it supports).
    """

    def __init__(
        self,
        settings: dict[str, Any],
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._async: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._sync: httpx.Client | None = None
        self._lock = threading.Lock()

    def async_client(self) -> httpx.AsyncClient:
        """The running loop's client (created on first use in that loop)."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            transport = self._transport
            client = httpx.AsyncClient(
                transport=transport if isinstance(transport, httpx.AsyncBaseTransport) else None,
                **self._settings,
            )
            with self._lock:
                for gone in [other for other in self._async if other.is_closed()]:
                    del self._async[gone]
                self._async[loop] = client
        return client

    def sync_client(self) -> httpx.Client:
        """The thread-safe sync client (created on first use)."""
        client = self._sync
        if client is None:
            with self._lock:
                client = self._sync
                if client is None:
                    transport = self._transport
                    client = self._sync = httpx.Client(
                        transport=transport if isinstance(transport, httpx.BaseTransport) else None,
                        **self._settings,
                    )
        return client

    @property
    def open_clients(self) -> int:
        """How many clients are open (async ones of every loop, and the sync one)."""
        return len(self._async) + (self._sync is not None)

    async def aclose(self) -> None:
        """Close the running loop's client and the sync client."""
        with self._lock:
            client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        self._close_sync()

    def close(self) -> None:
        """Close every client, each async one on its own loop.

        Raises:
            UsageError: Called inside a running event loop while async clients are open (use
                ``await aclose()`` there).
        """
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        with self._lock:
            clients = {loop: c for loop, c in self._async.items() if not loop.is_closed()}
            if running is not None and clients:
                raise UsageError("close() inside a running event loop: use `await aclose()`")
            self._async = {}
        self._close_sync()
        for loop, client in clients.items():
            if loop.is_running():  # another thread's loop
                asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=10)
            else:
                loop.run_until_complete(client.aclose())

    def _close_sync(self) -> None:
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()
