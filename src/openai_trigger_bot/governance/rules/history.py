"""Recent outcomes of actions, counted over a time window, for rules such as rate limits.

The rules engine asks a :class:`HistoryProvider` for "how many times did ``refund`` end in each
status since ``t``" (optionally for one target) and exposes the counts to ``when:`` conditions
as ``history``. The gate records each outcome with :meth:`HistoryProvider.record`.

:class:`InMemoryHistory` keeps them in this process only; a persistent provider (backed by the
memory store) implements the same protocol.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from ..decision import EVENT_STATUSES

__all__ = ["HistoryProvider", "InMemoryHistory", "empty_counts"]


def empty_counts() -> dict[str, int]:
    """Counts with every known status at zero, plus ``total``."""
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
    """Outcomes kept in this process, pruned after ``retention`` seconds.

    Thread-safe. Counting walks only the entries inside the window.

    Args:
        clock: Returns epoch seconds (inject a fake clock in tests).
        retention: Entries older than this many seconds are dropped as new ones arrive.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, retention: float = 7 * 86400.0
    ) -> None:
        self._clock = clock
        self._retention = retention
        self._lock = threading.Lock()
        # Per action: parallel lists sorted by time (times; (status, target)).
        self._times: dict[str, list[float]] = {}
        self._entries: dict[str, list[tuple[str, str | None]]] = {}

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        """Remember one outcome (see :meth:`HistoryProvider.record`)."""
        when = self._clock() if at is None else at
        with self._lock:
            times = self._times.setdefault(action, [])
            entries = self._entries.setdefault(action, [])
            index = bisect.bisect_right(times, when)
            times.insert(index, when)
            entries.insert(index, (status, target))
            cutoff = bisect.bisect_left(times, self._clock() - self._retention)
            if cutoff:
                del times[:cutoff]
                del entries[:cutoff]

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        """Outcomes since ``since`` (see :meth:`HistoryProvider.counts`), with ``total``."""
        counts = empty_counts()
        with self._lock:
            times = self._times.get(action)
            if not times:
                return counts
            entries = self._entries[action][bisect.bisect_left(times, since) :]
        total = 0
        for status, entry_target in entries:
            if target is None or entry_target == target:
                counts[status] = counts.get(status, 0) + 1
                total += 1
        counts["total"] = total
        return counts

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._times.clear()
            self._entries.clear()
