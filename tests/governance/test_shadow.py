"""Shadow evaluation: the live decision is enforced; candidate differences are only recorded."""

from __future__ import annotations

import asyncio
import logging

import pytest

from openai_trigger_bot.governance import (
    Decision,
    ProposedAction,
    Shadow,
    ShadowDifference,
    StaticEvaluator,
    evaluate,
)

from ._helpers import BLOCK, PROCEED, REVIEW, proposal


async def test_shadow_returns_live_and_records_a_difference() -> None:
    seen: list[ShadowDifference] = []
    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(BLOCK), on_difference=seen.append)
    decision = await evaluate(shadow, proposal("refund"))
    assert decision is PROCEED
    assert len(shadow.differences) == 1 and seen == list(shadow.differences)
    record = seen[0]
    assert record.live is PROCEED and record.candidate is BLOCK
    assert (record.live_outcome, record.candidate_outcome) == ("execute", "block")
    assert record.proposal.action == "refund"


async def test_shadow_never_enforces_a_more_permissive_candidate_either() -> None:
    shadow = Shadow(StaticEvaluator(BLOCK), StaticEvaluator(PROCEED, asynchronous=True))
    assert await evaluate(shadow, proposal()) is BLOCK
    assert shadow.differences[0].candidate_outcome == "execute"


async def test_shadow_records_nothing_when_they_agree() -> None:
    same = Decision(recommendation="proceed", reason="other words")
    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(same))
    await evaluate(shadow, proposal())
    assert not shadow.differences and shadow.evaluations == 1


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_candidate_errors_never_affect_the_live_decision(asynchronous: bool) -> None:
    candidate = StaticEvaluator(error=RuntimeError("candidate broke"), asynchronous=asynchronous)
    shadow = Shadow(StaticEvaluator(REVIEW), candidate)
    assert await evaluate(shadow, proposal()) is REVIEW
    record = shadow.differences[0]
    assert record.candidate is None and record.candidate_outcome is None
    assert record.candidate_error == "RuntimeError: candidate broke"


async def test_a_slow_candidate_times_out_without_delaying_the_live_decision_much() -> None:
    class Sleepy:
        name = "sleepy"

        async def evaluate(self, item: ProposedAction) -> Decision:
            await asyncio.sleep(10)
            return BLOCK

    shadow = Shadow(StaticEvaluator(PROCEED), Sleepy(), candidate_timeout=0.01)
    assert await evaluate(shadow, proposal()) is PROCEED
    assert (shadow.differences[0].candidate_error or "").startswith("TimeoutError")


async def test_a_failing_callback_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    def explode(record: ShadowDifference) -> None:
        raise ValueError("callback bug")

    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(BLOCK), on_difference=explode)
    with caplog.at_level(logging.ERROR):
        assert await evaluate(shadow, proposal()) is PROCEED
    assert "on_difference" in caplog.text


async def test_an_async_callback_is_awaited() -> None:
    seen: list[str] = []

    async def record(difference: ShadowDifference) -> None:
        await asyncio.sleep(0)
        seen.append(difference.live.recommendation)

    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(BLOCK), on_difference=record)
    await evaluate(shadow, proposal())
    assert seen == ["proceed"]


async def test_live_errors_propagate_and_cancel_the_candidate() -> None:
    cancelled = asyncio.Event()

    class Waiting:
        name = "waiting"

        async def evaluate(self, item: ProposedAction) -> Decision:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return BLOCK

    shadow = Shadow(StaticEvaluator(error=OSError("live down"), asynchronous=True), Waiting())
    with pytest.raises(OSError, match="live down"):
        await evaluate(shadow, proposal())
    assert cancelled.is_set() and not shadow.differences


async def test_differences_are_bounded() -> None:
    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(BLOCK), max_records=2)
    for _ in range(5):
        await evaluate(shadow, proposal())
    assert len(shadow.differences) == 2 and shadow.evaluations == 5


async def test_outcomes_in_records_follow_the_shadow_enforcement_mode() -> None:
    shadow = Shadow(StaticEvaluator(PROCEED), StaticEvaluator(REVIEW), enforcement="advisory")
    await evaluate(shadow, proposal())
    assert shadow.differences[0].candidate_outcome == "execute"
