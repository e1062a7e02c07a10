"""Sync and async context management for objects that own threads, loops or connections.

An owner closes what it started: :class:`Closing` gives a class with a ``close()`` the
``with`` / ``async with`` forms and an :meth:`~Closing.aclose` that waits in a worker thread,
so closing from async code never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_Self = TypeVar("_Self", bound="Closing")


class Closing:
    """Mixin: ``with obj:`` and ``async with obj:`` call :meth:`close` / :meth:`aclose`."""

    def close(self) -> None:
        """Release what this object owns (idempotent)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """The async twin of :meth:`close` (any waiting happens in a worker thread)."""
        await asyncio.to_thread(self.close)

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
