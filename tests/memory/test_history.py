"""The persistent history behind ``history`` rules: across managers, processes and restarts."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from pathlib import Path

from openai_trigger_bot.governance import HistoryProvider, LocalRulesEvaluator, ProposedAction
from openai_trigger_bot.governance.rules.history import empty_counts
from openai_trigger_bot.memory import (
    InMemoryMemoryStore,
    MemoryManager,
    OutcomeRecord,
    StoreHistory,
)

from . import _workers
from ._helpers import FakeClock

POLICY = """
policy: history-test
version: "1"
default: {recommendation: proceed, reason: fine}
rules:
  - id: failing
    actions: [refund]
    when: 'history.tool_error >= 3'
    history: {window: 1h}
    decision: {recommendation: do_not_proceed, reason: failed 3 times in the last hour}
"""


def test_counts_per_status_target_and_window_across_two_managers(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "m.db"
    first = MemoryManager(path, clock=clock)
    second = MemoryManager(path, clock=clock)
    assert isinstance(first.history, HistoryProvider)
    first.history.record("refund", "tool_error", target="o1", at=clock.now - 7200)
    first.history.record("refund", "tool_error", target="o1")
    first.history.record("refund", "executed", target="o2")
    first.history.record("deploy", "executed")
    # Visible at once in this process, before the background write:
    assert first.history.counts("refund", since=clock.now - 60)["total"] == 2
    first.history.flush()
    assert first.history.pending == 0
    counts = second.history.counts("refund", since=clock.now - 3600)
    assert counts == {**empty_counts(), "tool_error": 1, "executed": 1, "total": 2}
    assert second.history.counts("refund", since=0, target="o1")["tool_error"] == 2
    assert second.history.counts("refund", since=0, target="o3")["total"] == 0
    first.close()
    second.close()


def test_pending_and_stored_records_are_never_counted_twice(tmp_path: Path) -> None:
    history = MemoryManager(tmp_path / "m.db").history
    for i in range(200):
        history.record("a", "executed")
        assert history.counts("a", since=0)["total"] == i + 1
    history.close()
    assert history.counts("a", since=0)["total"] == 200


def test_rules_see_failures_recorded_by_another_process_and_after_a_restart(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "m.db")
    proc = multiprocessing.get_context("spawn").Process(
        target=_workers.record_outcomes, args=(path, "refund", "tool_error", 2, "o1")
    )
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 0
    memory = MemoryManager(path)
    rules = LocalRulesEvaluator.from_yaml_string(POLICY, history=memory.history)
    proposal = ProposedAction(action="refund", target="o1")
    assert rules.evaluate(proposal).recommendation == "proceed"  # 2 failures so far
    memory.history.record("refund", "tool_error", target="o1")
    assert rules.evaluate(proposal).recommendation == "do_not_proceed"
    memory.close()  # flushes
    restarted = MemoryManager(path)
    rules = LocalRulesEvaluator.from_yaml_string(POLICY, history=restarted.history)
    decision = rules.evaluate(proposal)
    assert decision.recommendation == "do_not_proceed"
    assert decision.reason == "failed 3 times in the last hour"
    restarted.close()


def test_old_outcomes_are_pruned_after_the_retention(tmp_path: Path) -> None:
    clock = FakeClock()
    memory = MemoryManager(tmp_path / "m.db", clock=clock, history_retention=3600)
    memory.history.record("a", "executed", at=clock.now - 7200)
    memory.history.record("a", "executed")
    memory.history.flush()
    assert memory.history.counts("a", since=0)["total"] == 1
    assert memory.store.count_outcomes("a", since=0) == {"executed": 1}
    memory.close()


def test_a_standalone_history_over_any_store() -> None:
    history = StoreHistory(InMemoryMemoryStore(), clock=FakeClock())
    history.record("x", "denied")
    history.close()
    history.close()
    assert history.counts("x", since=0)["denied"] == 1


class StuckStore(InMemoryMemoryStore):
    """Writes of outcomes hang until released, like a write behind another process's lock."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released: list[bool] = []

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        self.entered.set()
        self.released.append(self.release.wait(30))
        super().record_outcomes(outcomes)


def test_counts_do_not_wait_for_a_flush_stuck_behind_another_writer() -> None:
    store = StuckStore()
    history = StoreHistory(store, clock=FakeClock(), flush_delay=0.0)
    history.record("a", "executed")
    history.record("a", "tool_error")
    assert store.entered.wait(30)  # the writer is stuck inside the store
    # The store is released only after counts() returned: a count that waited for the flush
    # would wait until the stuck write gave up after 30 s, and `released` would say so.
    counts = history.counts("a", since=0)
    assert (counts["executed"], counts["tool_error"], counts["total"]) == (1, 1, 2)
    store.release.set()
    history.close()
    assert history.pending == 0 and history.counts("a", since=0)["total"] == 2  # not twice
    assert store.released and all(store.released)
    assert store.count_outcomes("a", since=0) == {"executed": 1, "tool_error": 1}
