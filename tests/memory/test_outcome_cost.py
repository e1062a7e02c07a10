"""A windowed count costs the same with 40 or 20,000 outcomes in the window (issue 8 item 11).

With the shipped ``refund-velocity`` rule (24 h window), decisions slowed as history grew
because every count walked its window. Time is not asserted (see ``benchmarks/history.py``);
the work is: Python line events for the in-process stores, SQLite virtual-machine instructions
for the SQLite store, and comparisons against the window start. Before the fix each of these
grew with the window.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from openai_trigger_bot.memory import (
    InMemoryMemoryStore,
    MemoryStore,
    OutcomeRecord,
    SQLiteMemoryStore,
    StoreHistory,
)

from .._cost import CountingFloat, python_lines, sqlite_steps
from ._outcomes import STORES

SMALL, LARGE = 40, 20_000
T0 = 1_800_000_000.0
STATUSES = ("executed", "blocked", "tool_error", "denied")


def filled(kind: str, directory: Path, n: int) -> MemoryStore:
    """A store holding ``n`` refund outcomes in the last hour, over 10 customers and 4 statuses."""
    directory.mkdir()
    store = STORES[kind](directory)
    store.record_outcomes(
        [
            OutcomeRecord("refund", STATUSES[i % 4], f"cus-{i % 10}", T0 - 3600 + i * 3600 / n)
            for i in range(n)
        ]
    )
    return store


def count_both(store: MemoryStore) -> None:
    store.count_outcomes("refund", since=T0 - 1800)
    store.count_outcomes("refund", since=T0 - 1800, target="cus-3")


@pytest.mark.parametrize("kind", ["inmemory", "file"])
def test_in_process_stores_count_without_walking_the_window(kind: str, tmp_path: Path) -> None:
    small = filled(kind, tmp_path / "small", SMALL)
    large = filled(kind, tmp_path / "large", LARGE)
    count_both(small)  # warm: the file store reads its file once
    count_both(large)
    assert large.count_outcomes("refund", since=T0 - 1800)["executed"] == LARGE // 8
    lines_small = python_lines(lambda: count_both(small))
    lines_large = python_lines(lambda: count_both(large))
    assert lines_large == lines_small, (lines_small, lines_large)


def test_in_process_counts_bisect_the_window() -> None:
    store = InMemoryMemoryStore()
    store.record_outcomes(
        [OutcomeRecord("refund", STATUSES[i % 4], None, float(i)) for i in range(LARGE)]
    )
    since = CountingFloat(LARGE / 2)
    counts = store.count_outcomes("refund", since=since)
    assert sum(counts.values()) == LARGE // 2
    # One bisect per status over LARGE / 4 times: about log2(5000) = 13 comparisons each.
    assert since.comparisons <= len(STATUSES) * (math.log2(LARGE / 4) + 2)


def test_sqlite_counts_are_index_seeks(tmp_path: Path) -> None:
    small = filled("sqlite", tmp_path / "small", SMALL)
    large = filled("sqlite", tmp_path / "large", LARGE)
    assert isinstance(small, SQLiteMemoryStore) and isinstance(large, SQLiteMemoryStore)
    count_both(small)  # opens the read connections
    count_both(large)
    assert large.count_outcomes("refund", since=T0 - 1800)["executed"] == LARGE // 8
    assert small._reader is not None and large._reader is not None
    steps_small = sqlite_steps(small._reader, lambda: count_both(small))
    steps_large = sqlite_steps(large._reader, lambda: count_both(large))
    # The same statements, the same seeks: the instructions do not depend on the rows.
    assert steps_large == steps_small, (steps_small, steps_large)
    small.close()
    large.close()


def test_store_history_over_sqlite_counts_in_the_same_work(tmp_path: Path) -> None:
    stores = [filled("sqlite", tmp_path / name, n) for name, n in (("s", SMALL), ("l", LARGE))]
    histories = [StoreHistory(store, clock=lambda: T0) for store in stores]
    work = []
    for store, history in zip(stores, histories, strict=True):
        history.counts("refund", since=T0 - 1800, target="cus-3")
        assert isinstance(store, SQLiteMemoryStore) and store._reader is not None
        reader = store._reader

        def both(history: StoreHistory = history) -> None:
            history.counts("refund", since=T0 - 1800)
            history.counts("refund", since=T0 - 1800, target="cus-3")

        work.append((python_lines(both), sqlite_steps(reader, both)))
    assert work[1] == work[0]
    for history in histories:
        history.close()
    for store in stores:
        store.close()
