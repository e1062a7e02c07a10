"""Windowed outcome counts of every memory store against a naive reference (issue 8 item 11).

Random sequences of batches (times out of order, ties, ``None`` and named targets, several
statuses and actions), prunes and counts; after each step every store must count exactly what
a walk over all the outcomes counts. The SQLite store keeps ranks instead of counting rows, so
these sequences are what shows the ranks stay consecutive through out-of-order inserts, ties
and prunes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_trigger_bot.memory import InMemoryMemoryStore, MemoryStore, OutcomeRecord, StoreHistory

from ._outcomes import STORES, naive

ACTIONS = ("refund", "deploy")
STATUSES = ("executed", "blocked", "tool_error", "denied")
TARGETS = (None, "cus-1", "cus-2", "cus-3")
TIMES = st.integers(0, 40).map(float)  # few distinct times: many ties

record = st.builds(
    OutcomeRecord,
    st.sampled_from(ACTIONS),
    st.sampled_from(STATUSES),
    st.sampled_from(TARGETS),
    TIMES,
)
step = st.one_of(
    st.tuples(st.just("record"), st.lists(record, min_size=1, max_size=8)),
    st.tuples(st.just("prune"), TIMES),
)


def check_every_count(store: MemoryStore, outcomes: list[OutcomeRecord]) -> None:
    for action in ACTIONS:
        for target in TARGETS:
            for since in (-1.0, 0.0, 7.0, 20.0, 20.5, 39.0, 41.0):
                expected = naive(outcomes, action, since, target)
                assert store.count_outcomes(action, since=since, target=target) == expected, (
                    action,
                    since,
                    target,
                )


@contextmanager
def opened(kind: str) -> Iterator[MemoryStore]:
    with tempfile.TemporaryDirectory() as directory:
        store = STORES[kind](Path(directory))
        try:
            yield store
        finally:
            store.close()


@pytest.mark.parametrize("kind", sorted(STORES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_counts_match_a_walk_over_every_outcome(kind: str, steps: list[tuple[str, object]]) -> None:
    outcomes: list[OutcomeRecord] = []
    with opened(kind) as store:
        for op, arg in steps:
            if op == "record":
                assert isinstance(arg, list)
                store.record_outcomes(arg)
                outcomes += arg
            else:
                assert isinstance(arg, float)
                kept = [o for o in outcomes if o.at >= arg]
                assert store.prune_outcomes(before=arg) == len(outcomes) - len(kept)
                outcomes = kept
            check_every_count(store, outcomes)


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_counts_survive_a_reopen(kind: str, tmp_path: Path) -> None:
    batch = [
        OutcomeRecord("refund", STATUSES[i % 4], TARGETS[i % 3], float((i * 7) % 30))
        for i in range(60)
    ]
    store = STORES[kind](tmp_path)
    store.record_outcomes(batch)
    store.close()
    reopened = STORES[kind](tmp_path)
    check_every_count(reopened, batch)
    reopened.close()


def test_store_history_adds_its_buffer_to_the_store_counts() -> None:
    store = InMemoryMemoryStore()
    store.record_outcomes([OutcomeRecord("refund", "executed", "cus-1", 10.0)])
    history = StoreHistory(store, clock=lambda: 100.0, flush_delay=3600.0)
    history.record("refund", "executed", target="cus-1", at=20.0)  # still buffered
    history.record("refund", "blocked", target="cus-2", at=5.0)
    counts = history.counts("refund", since=8.0, target="cus-1")
    assert (counts["executed"], counts["total"]) == (2, 2)
    assert history.counts("refund", since=0.0)["total"] == 3
    history.close()
    assert store.count_outcomes("refund", since=0.0) == {"executed": 2, "blocked": 1}
