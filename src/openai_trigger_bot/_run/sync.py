"""Drive the async core from synchronous code, on event loops their owner closes.

``asyncio.run`` would create and tear down an event loop per call, and an ``AsyncOpenAI``
client's connection pool is bound to the loop it first ran on, so a second ``Bot.run`` with the
same client would fail. A :class:`LoopRunner` therefore keeps one private loop per thread (the
pattern of ``asyncio.Runner``, which needs Python 3.11; we support 3.10) and closes them all in
:meth:`LoopRunner.close`; nothing is left to ``__del__`` or ``atexit``. The loop of a thread
that has ended is closed the next time the runner makes a loop, so a program that starts a
thread per request does not gather loops.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..exceptions import UsageError

__all__ = ["LoopRunner"]

T = TypeVar("T")


class LoopRunner:
    """One private event loop per calling thread, all closed by :meth:`close`.

    Args:
        owner: Named in errors (``"bot 'support'"``).
    """

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._lock = threading.Lock()
        self._loops: dict[threading.Thread, asyncio.AbstractEventLoop] = {}
        self._busy: set[threading.Thread] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion on this thread's private event loop.

        Raises:
            UsageError: Called from inside a running event loop (use the async API there),
                or after :meth:`close`.
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
        thread = threading.current_thread()
        with self._lock:
            if self._closed:
                coro.close()
                raise UsageError(f"{self._owner} is closed")
            loop = self._loops.get(thread)
            stale = []
            if loop is None:
                stale = [(t, self._loops.pop(t)) for t in list(self._loops) if not t.is_alive()]
                loop = self._loops[thread] = asyncio.new_event_loop()
            self._busy.add(thread)
        for _, old in stale:
            _close_loop(old)
        try:
            return loop.run_until_complete(coro)
        finally:
            with self._lock:
                self._busy.discard(thread)
                orphaned = self._closed and self._loops.pop(thread, None) is loop
            if orphaned:  # close() ran while this loop was busy: it was left to this thread
                _close_loop(loop)

    def close(self) -> None:
        """Close every idle loop; a loop still running closes when its run ends (idempotent)."""
        with self._lock:
            self._closed = True
            idle = [t for t in self._loops if t not in self._busy]
            loops = [self._loops.pop(t) for t in idle]
        for loop in loops:
            _close_loop(loop)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Finish async generators and the default executor (when possible), then close."""
    if loop.is_closed():
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop runs on this thread: the loop can run its own shutdown
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
    else:
        loop.close()
