"""Drive the async core from synchronous code.

``asyncio.run`` would create and tear down an event loop per call, and an ``AsyncOpenAI``
client's connection pool is bound to the loop it first ran on, so a second ``Bot.run`` with the
same client would fail. Each thread therefore keeps one private loop for its sync runs (the
pattern of ``asyncio.Runner``, which needs Python 3.11; we support 3.10).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..exceptions import UsageError

__all__ = ["run_sync"]

T = TypeVar("T")


class _LoopHolder:
    """Owns a thread's private loop and closes it when the thread's locals are dropped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed() and not self.loop.is_running():
            self.loop.close()


_local = threading.local()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on this thread's private event loop.

    Raises:
        UsageError: Called from inside a running event loop (use the async API there).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise UsageError(
            "Bot.run() cannot be called from a running event loop; use 'await bot.arun(...)'"
        )
    holder: _LoopHolder | None = getattr(_local, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _local.holder = _LoopHolder()
    return holder.loop.run_until_complete(coro)
