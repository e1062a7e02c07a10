"""Measures of work that do not depend on the machine's speed, for complexity tests.

Speed is measured in ``benchmarks/``; a test instead counts steps that a slower algorithm
takes more of: Python line events, SQLite virtual-machine instructions, comparisons.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def python_lines(fn: Callable[[], object]) -> int:
    """How many Python lines ``fn()`` executes in this thread (C code counts nothing)."""
    events = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal events
        if event == "line":
            events += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return events


def sqlite_steps(conn: sqlite3.Connection, fn: Callable[[], object]) -> int:
    """How many virtual-machine instructions ``conn`` runs during ``fn()``.

    SQLite calls the progress handler every ``n`` instructions; with ``n = 1``, the number of
    calls is the number of instructions, which grows with the rows a statement visits.
    """
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 1)
    return steps


class CountingFloat(float):
    """A float that counts the comparisons made against it (pass it as a window start)."""

    def __new__(cls, value: float) -> CountingFloat:
        made = super().__new__(cls, value)
        made.comparisons = 0
        return made

    comparisons: int

    def _count(self) -> None:
        self.comparisons += 1

    def __lt__(self, other: object) -> bool:
        self._count()
        return float(self) < other  # type: ignore[operator,no-any-return]

    def __le__(self, other: object) -> bool:
        self._count()
        return float(self) <= other  # type: ignore[operator,no-any-return]

    def __gt__(self, other: object) -> bool:
        self._count()
        return float(self) > other  # type: ignore[operator,no-any-return]

    def __ge__(self, other: object) -> bool:
        self._count()
        return float(self) >= other  # type: ignore[operator,no-any-return]

    def __hash__(self) -> int:
        return float.__hash__(self)
