"""Shared helpers for the outcome-count tests: the stores to open and a naive reference count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openai_trigger_bot.memory import (
    FileMemoryStore,
    InMemoryMemoryStore,
    MemoryStore,
    OutcomeRecord,
    SQLiteMemoryStore,
)

STORES: dict[str, Callable[[Path], MemoryStore]] = {
    "inmemory": lambda d: InMemoryMemoryStore(),
    "sqlite": lambda d: SQLiteMemoryStore(d / "memory.db"),
    "sqlite-in-memory": lambda d: SQLiteMemoryStore(":memory:"),
    "file": lambda d: FileMemoryStore(d / "memory.json"),
}
"""Each memory store by name, opened in (or, for the in-memory ones, beside) a directory."""


def naive(
    outcomes: list[OutcomeRecord], action: str, since: float, target: str | None
) -> dict[str, int]:
    """What ``count_outcomes(action, since=since, target=target)`` must return, by a full walk."""
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.action == action and o.at >= since and (target is None or o.target == target):
            counts[o.status] = counts.get(o.status, 0) + 1
    return counts
