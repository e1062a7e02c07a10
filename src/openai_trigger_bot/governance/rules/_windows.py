"""Outcome times indexed for window counts in O(log n): one sorted list per key, bisected.

A history count asks "how many calls of ``action`` ended in each status since ``t``"
(optionally for one target). Walking the entries of the window costs as much as the window
holds, so a busy action slows every decision about it. :class:`OutcomeWindows` keeps, per
``(action, status)`` and per ``(action, target, status)``, the sorted times of the outcomes;
a count is one dictionary lookup and one bisect per status, whatever the window holds.

Appending in time order is O(1); an older time is inserted in place (``insort``: a binary
search and a ``memmove``). Pruning moves a start offset forward and compacts a list only once
half of it is dead, so the amortized cost per pruned entry is O(1).

Used by :class:`~openai_trigger_bot.governance.rules.history.InMemoryHistory` (and so by
``trigger-bot serve``) and by the in-process memory stores (in-memory and JSON file). Not
thread-safe: the owner holds a lock.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator
from typing import TypeVar

__all__ = ["OutcomeWindows", "SortedTimes"]

K = TypeVar("K", bound=Hashable)


class SortedTimes:
    """Times in ascending order; the live ones are ``items[start:]``."""

    __slots__ = ("_items", "_start")

    def __init__(self) -> None:
        self._items: list[float] = []
        self._start = 0

    def add(self, at: float) -> None:
        """Insert one time (O(1) when it is the newest)."""
        items = self._items
        if not items or at >= items[-1]:
            items.append(at)
        else:
            bisect.insort_right(items, at, lo=self._start)

    def count_since(self, since: float) -> int:
        """How many times are at or after ``since`` (one bisect)."""
        return len(self._items) - bisect.bisect_left(self._items, since, lo=self._start)

    def drop_before(self, cutoff: float) -> int:
        """Forget the times before ``cutoff``; returns how many were dropped."""
        first = bisect.bisect_left(self._items, cutoff, lo=self._start)
        dropped = first - self._start
        self._start = first
        if first and first * 2 >= len(self._items):
            del self._items[:first]
            self._start = 0
        return dropped

    def __len__(self) -> int:
        return len(self._items) - self._start

    def __iter__(self) -> Iterator[float]:
        return iter(self._items[self._start :])


def _prune(index: dict[K, dict[str, SortedTimes]], before: float) -> int:
    """Drop the times before ``before`` from every key of ``index``; returns how many."""
    pruned = 0
    for key in list(index):
        statuses = index[key]
        for status in list(statuses):
            pruned += statuses[status].drop_before(before)
            if not statuses[status]:
                del statuses[status]
        if not statuses:
            del index[key]
    return pruned


class OutcomeWindows:
    """Outcome times per ``(action, status)`` and ``(action, target, status)``."""

    def __init__(self) -> None:
        self._by_action: dict[str, dict[str, SortedTimes]] = {}
        self._by_target: dict[tuple[str, str | None], dict[str, SortedTimes]] = {}
        self._size = 0

    def add(self, action: str, status: str, target: str | None, at: float) -> None:
        """Remember one outcome."""
        for statuses in (
            self._by_action.setdefault(action, {}),
            self._by_target.setdefault((action, target), {}),
        ):
            times = statuses.get(status)
            if times is None:
                times = statuses[status] = SortedTimes()
            times.add(at)
        self._size += 1

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        """Outcomes of ``action`` at or after ``since`` per status, zeros left out.

        Args:
            action: The action name.
            since: The start of the window (epoch seconds).
            target: Count only this target's outcomes (``None``: every target).
        """
        statuses = (
            self._by_action.get(action) if target is None else self._by_target.get((action, target))
        )
        counts: dict[str, int] = {}
        if statuses:
            for status, times in statuses.items():
                n = times.count_since(since)
                if n:
                    counts[status] = n
        return counts

    def prune(self, before: float) -> int:
        """Forget outcomes before ``before`` (and keys left empty); returns how many."""
        pruned = _prune(self._by_action, before)
        _prune(self._by_target, before)  # the same outcomes, indexed by target
        self._size -= pruned
        return pruned

    def records(self) -> Iterator[tuple[str, str, str | None, float]]:
        """Every outcome as ``(action, status, target, at)``, grouped by key."""
        for (action, target), statuses in self._by_target.items():
            for status, times in statuses.items():
                for at in times:
                    yield action, status, target, at

    def clear(self) -> None:
        """Forget everything."""
        self._by_action.clear()
        self._by_target.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size
