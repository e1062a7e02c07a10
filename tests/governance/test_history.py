"""The in-process history of outcomes behind the ``history`` variable."""

from __future__ import annotations

from openai_trigger_bot.governance import HistoryProvider, InMemoryHistory

from ._helpers import FakeClock


def test_counts_by_status_within_the_window() -> None:
    clock = FakeClock(1000.0)
    history = InMemoryHistory(clock=clock)
    assert isinstance(history, HistoryProvider)
    history.record("refund", "executed", at=900.0)
    history.record("refund", "executed")
    history.record("refund", "tool_error")
    history.record("deploy", "executed")
    counts = history.counts("refund", since=950.0)
    assert (counts["executed"], counts["tool_error"], counts["total"]) == (1, 1, 2)
    assert counts["blocked"] == 0
    assert history.counts("refund", since=800.0)["executed"] == 2
    assert history.counts("unknown", since=0.0)["total"] == 0


def test_counts_per_target() -> None:
    history = InMemoryHistory(clock=FakeClock())
    history.record("scale", "executed", target="web")
    history.record("scale", "executed", target="db")
    history.record("scale", "executed")
    assert history.counts("scale", since=0.0, target="web")["total"] == 1
    assert history.counts("scale", since=0.0)["total"] == 3


def test_out_of_order_records_are_kept_sorted() -> None:
    history = InMemoryHistory(clock=FakeClock(100.0))
    history.record("a", "executed", at=50.0)
    history.record("a", "blocked", at=10.0)
    history.record("a", "denied", at=30.0)
    counts = history.counts("a", since=20.0)
    assert (counts["executed"], counts["denied"], counts["blocked"]) == (1, 1, 0)


def test_old_entries_are_pruned_after_the_retention() -> None:
    clock = FakeClock(0.0)
    history = InMemoryHistory(clock=clock, retention=60.0)
    history.record("a", "executed")
    clock.advance(120.0)
    history.record("a", "executed")
    assert history.counts("a", since=-1000.0)["total"] == 1
    history.clear()
    assert history.counts("a", since=-1000.0)["total"] == 0
