"""Recent outcomes of actions, counted over a time window, for rules such as rate limits.

The rules engine asks a :class:`HistoryProvider` for "how many times did ``refund`` end in each
status since ``t``" (optionally for one target) and exposes the counts to ``when:`` conditions
as ``history``. The gate records each outcome with :meth:`HistoryProvider.record`.

:class:`InMemoryHistory` keeps them in this process only; a persistent provider (backed by the
memory store) implements the same protocol.

A decision asks for one count per history window its rules use, so a count must not walk the
window: every provider shipped here answers in O(log n) of the outcomes it holds (a bisect per
status in process, index seeks in SQLite), and a custom provider should too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from ...outcomes import EVENT_STATUSES
from ._windows import OutcomeWindows

__all__ = ["HistoryProvider", "InMemoryHistory", "empty_counts"]


def empty_counts() -> dict[str, int]:
    """Counts with every status of :data:`~openai_trigger_bot.outcomes.EVENT_STATUSES` at zero,
    plus ``total``."""
    counts: dict[str, int] = dict.fromkeys(EVENT_STATUSES, 0)
    counts["total"] = 0
    return counts


@runtime_checkable
class HistoryProvider(Protocol):
    """Where the outcomes of past calls are counted."""

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        """Remember that a call of ``action`` ended with ``status`` (at ``at``, default now)."""
        ...

    def counts(self, action: str, *, since: float, target: str | None = None) -> Mapping[str, int]:
        """Outcomes of ``action`` recorded at or after ``since`` (epoch seconds).

        Args:
            action: The action name.
            since: The start of the window, epoch seconds.
            target: Count only calls on this target (``None``: every target).

        Returns:
            A count per status; statuses with no calls may be missing or zero. The rules engine
            fills in zeros for every known status and adds ``total``.
        """
        ...


class InMemoryHistory:
    """Outcomes kept in this process, forgotten after ``retention`` seconds.

    Thread-safe. A count costs one bisect per status of the action (O(log n), whatever the
    window holds; see :mod:`._windows`); recording costs O(1) for an outcome newer than the
    others of its key. Outcomes older than ``retention`` are never counted and are dropped at
    most a minute after they expire.

    Args:
        clock: Returns epoch seconds (inject a fake clock in tests).
        retention: Outcomes older than this many seconds are forgotten.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, retention: float = 7 * 86400.0
    ) -> None:
        self._clock = clock
        self._retention = retention
        self._lock = threading.Lock()
        self._windows = OutcomeWindows()
        self._next_prune = -math.inf

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        """Remember one outcome (see :meth:`HistoryProvider.record`)."""
        now = self._clock()
        with self._lock:
            self._windows.add(action, status, target, now if at is None else at)
            if now >= self._next_prune:
                self._next_prune = now + min(60.0, self._retention)
                self._windows.prune(now - self._retention)

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        """Outcomes since ``since`` (see :meth:`HistoryProvider.counts`), with ``total``."""
        since = max(since, self._clock() - self._retention)
        with self._lock:
            found = self._windows.counts(action, since=since, target=target)
        counts = empty_counts()
        counts.update(found)
        counts["total"] = sum(found.values())
        return counts

    @property
    def size(self) -> int:
        """How many outcomes are held (expired ones included until the next prune)."""
        with self._lock:
            return len(self._windows)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._windows.clear()
