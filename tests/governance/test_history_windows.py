"""InMemoryHistory counts in O(log n) and stays exact (issue 8 item 11).

``InMemoryHistory`` is the default history of ``LocalRulesEvaluator`` and the history of
``trigger-bot serve``. Before the fix a count walked every outcome of its window, so with the
shipped ``refund-velocity`` rule each ``issue_refund`` decision cost as much as the refunds of
the last 24 h. The work is asserted (Python line events, comparisons), never the time.
"""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from openai_trigger_bot.governance import InMemoryHistory, LocalRulesEvaluator, ProposedAction

from .._cost import CountingFloat, python_lines
from ._helpers import FakeClock

REFUNDS = Path(__file__).resolve().parents[2] / "policies" / "refunds.yaml"
NOW = 1_800_000_000.0
SMALL, LARGE = 40, 20_000
STATUSES = ("executed", "blocked", "tool_error", "denied")
TARGETS = (None, "cus-1", "cus-2")


def filled(n: int) -> InMemoryHistory:
    """``n`` refunds in the last 23 hours over 10 customers, none executed for ``cus-hot``."""
    history = InMemoryHistory(clock=FakeClock(NOW))
    for i in range(n):
        target = "cus-hot" if i % 10 == 0 else f"cus-{i % 10}"
        status = STATUSES[1 + i % 3] if target == "cus-hot" else STATUSES[i % 4]
        history.record("issue_refund", status, target=target, at=NOW - 23 * 3600 + i * 60 / n)
    return history


def test_a_decision_does_the_same_work_with_40_or_20000_refunds_in_the_window() -> None:
    proposal = ProposedAction(action="issue_refund", target="cus-hot", value=40)
    work = []
    for n in (SMALL, LARGE):
        rules = LocalRulesEvaluator.from_files(REFUNDS, history=filled(n), clock=FakeClock(NOW))
        decision = rules.evaluate(proposal)
        assert decision.recommendation == "proceed"  # no executed refund for cus-hot
        work.append(python_lines(lambda rules=rules: rules.evaluate(proposal)))  # type: ignore[misc]
    assert work[1] == work[0], work


def test_counts_do_the_same_work_for_every_window_size() -> None:
    small, large = filled(SMALL), filled(LARGE)

    def both(history: InMemoryHistory) -> None:
        history.counts("issue_refund", since=NOW - 86400)
        history.counts("issue_refund", since=NOW - 86400, target="cus-hot")

    assert large.counts("issue_refund", since=NOW - 86400)["total"] == LARGE
    assert python_lines(lambda: both(large)) == python_lines(lambda: both(small))


def test_a_count_bisects_each_status_once() -> None:
    history = filled(LARGE)
    since = CountingFloat(NOW - 23 * 3600 + 30)  # half of the outcomes are in the window
    counts = history.counts("issue_refund", since=since)
    assert counts["total"] == LARGE // 2
    # One bisect per status over about LARGE / 4 times: ~13 comparisons each.
    assert since.comparisons <= len(STATUSES) * (math.log2(LARGE / 4) + 2)


def test_outcomes_past_the_retention_are_never_counted() -> None:
    clock = FakeClock(1000.0)
    history = InMemoryHistory(clock=clock, retention=100.0)
    history.record("a", "executed", at=950.0)
    clock.advance(80.0)  # 950 is now 130 s old, though no record has pruned it yet
    assert history.counts("a", since=0.0)["total"] == 0
    history.record("a", "executed")
    assert history.size == 1  # pruned when the next outcome came


def naive(
    outcomes: list[tuple[str, str, str | None, float]], since: float, target: str | None
) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for _action, status, t, at in outcomes:
        if at >= since and (target is None or t == target):
            counts[status] += 1
    return counts


step = st.one_of(
    st.tuples(
        st.just("record"),
        st.sampled_from(STATUSES),
        st.sampled_from(TARGETS),
        st.integers(0, 30).map(float),
    ),
    st.tuples(st.just("advance"), st.integers(1, 20).map(float)),
)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(step, max_size=40))
def test_counts_match_a_walk_over_every_outcome(steps: list[tuple[object, ...]]) -> None:
    clock = FakeClock(30.0)
    retention = 25.0
    history = InMemoryHistory(clock=clock, retention=retention)
    outcomes: list[tuple[str, str, str | None, float]] = []
    for op, *args in steps:
        if op == "record":
            status, target, at = args
            assert isinstance(status, str) and isinstance(at, float)
            assert target is None or isinstance(target, str)
            history.record("a", status, target=target, at=at)
            outcomes.append(("a", status, target, at))
        else:
            assert isinstance(args[0], float)
            clock.advance(args[0])
        for since in (0.0, 10.0, 15.5, 30.0, clock.now - 5):
            for target in TARGETS:
                expected = naive(outcomes, max(since, clock.now - retention), target)
                counts = history.counts("a", since=since, target=target)
                assert {s: counts[s] for s in STATUSES} == expected
                assert counts["total"] == sum(expected.values())


def test_windows_keep_out_of_order_times_sorted_through_prunes() -> None:
    from openai_trigger_bot.governance.rules._windows import OutcomeWindows

    windows = OutcomeWindows()
    times = [5.0, 1.0, 9.0, 3.0, 3.0, 7.0, 2.0, 8.0]
    for at in times:
        windows.add("a", "executed", "t", at)
    assert windows.prune(3.0) == 2
    windows.add("a", "executed", "t", 0.5)  # older than everything kept: counted, prunable
    windows.add("a", "executed", "t", 4.0)
    assert windows.counts("a", since=3.0) == {"executed": 7}
    assert windows.counts("a", since=0.0, target="t") == {"executed": 8}
    assert sorted(at for *_, at in windows.records()) == [0.5, 3.0, 3.0, 4.0, 5.0, 7.0, 8.0, 9.0]
    assert windows.prune(100.0) == 8 and len(windows) == 0
    assert windows.counts("a", since=0.0) == {}
