"""The explicit seam for running sync work off the event loop, and the pool its owner closes.

A run never reaches for a process-wide pool or an ambient flag to run sync work: the
:class:`~openai_trigger_bot._run.loop.RunSpec` carries two :data:`Offload` seams, async
callables that run ``fn(*args)`` and return its result:

- ``offload``, for sync actions (and the gate's SQLite work): always the bot's own
  :class:`WorkerPool`, which it starts lazily and shuts down in ``Bot.close()``.
- ``sync_io``, for the run's own blocking backends: a sync OpenAI client's model calls and the
  memory manager's store and embedder calls. ``Bot.arun`` passes the pool; ``Bot.run`` passes
  :func:`inline`, since nothing else runs on its private per-thread loop while the run waits.

Outside a run (``MemoryManager.aselect`` called by user code, an action's own model call) the
default is :func:`to_thread`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from ..exceptions import UsageError

__all__ = ["Offload", "WorkerPool", "inline", "to_thread"]

T = TypeVar("T")


class Offload(Protocol):
    """Runs ``fn(*args)`` off the event loop (with the caller's context variables)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> Awaitable[T]: ...


async def to_thread(fn: Callable[..., T], /, *args: Any) -> T:
    """An :data:`Offload` on the running loop's default executor (owned by that loop)."""
    return await asyncio.to_thread(fn, *args)


async def inline(fn: Callable[..., T], /, *args: Any) -> T:
    """An :data:`Offload` that calls ``fn(*args)`` right here, on the loop's own thread.

    Only for a loop nothing else runs on while the call blocks: ``Bot.run``'s private loop.
    """
    return fn(*args)


class WorkerPool:
    """A thread pool for sync actions, started on first use and shut down by its owner.

    Args:
        name: Prefix of the worker threads' names.
        max_workers: The most sync calls running at once.
    """

    def __init__(self, name: str, *, max_workers: int = 32) -> None:
        self._name = name
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._threads: set[threading.Thread] = set()  # the workers, to know who calls close
        self._closed = False

    async def __call__(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run ``fn(*args)`` in a worker thread and return its result.

        Raises:
            UsageError: The pool was closed.
        """
        with self._lock:
            if self._closed:
                raise UsageError(f"{self._name} is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._max_workers,
                    thread_name_prefix=self._name,
                    initializer=self._register,
                )
            executor = self._executor
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(ctx.run, fn, *args))

    @property
    def started(self) -> bool:
        """Whether a worker thread pool exists (it is created on first use)."""
        return self._executor is not None

    def close(self) -> None:
        """Refuse new work, wait for running calls, and stop the threads (idempotent).

        Called from one of the pool's own threads (a sync action closing its bot), it cannot
        wait for itself: the threads then stop as soon as their calls return.
        """
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            inside = threading.current_thread() in self._threads
        if executor is not None:
            executor.shutdown(wait=not inside)

    def _register(self) -> None:
        with self._lock:
            self._threads.add(threading.current_thread())
