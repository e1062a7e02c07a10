"""The evaluator seam: sync and async evaluators, most-restrictive and fallback wrappers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.governance import (
    Decision,
    Fallback,
    LocalRulesEvaluator,
    MalformedDecisionError,
    MostRestrictive,
    PolicyEvaluator,
    ProposedAction,
    Shadow,
    StaticEvaluator,
    evaluate,
    evaluate_sync,
    most_restrictive,
)

from ._helpers import BLOCK, CAUTION, PROCEED, REVIEW, proposal

RULES = """
policy: contract
version: "1"
default: {recommendation: review_recommended, reason: unlisted}
rules:
  - id: refunds-proceed
    actions: [refund]
    decision: proceed
"""


class Slow:
    """An async evaluator that waits, then answers (or is cancelled)."""

    def __init__(self, decision: Decision, delay: float, name: str = "slow") -> None:
        self.decision = decision
        self.delay = delay
        self.name = name
        self.cancelled = False

    async def evaluate(self, item: ProposedAction) -> Decision:
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return self.decision


# One contract, every implementation: a refund proposal gets a proceed decision.
FACTORIES: dict[str, Callable[[], PolicyEvaluator]] = {
    "static": lambda: StaticEvaluator(PROCEED),
    "static-async": lambda: StaticEvaluator(PROCEED, asynchronous=True),
    "local-rules": lambda: LocalRulesEvaluator.from_yaml_string(RULES),
    "most-restrictive": lambda: MostRestrictive(
        StaticEvaluator(PROCEED), StaticEvaluator(PROCEED, asynchronous=True)
    ),
    "fallback": lambda: Fallback(StaticEvaluator(error=OSError("down")), StaticEvaluator(PROCEED)),
    "shadow": lambda: Shadow(StaticEvaluator(PROCEED), StaticEvaluator(BLOCK)),
}


@pytest.mark.parametrize("factory", FACTORIES.values(), ids=FACTORIES.keys())
async def test_evaluator_contract(factory: Callable[[], PolicyEvaluator]) -> None:
    evaluator = factory()
    assert isinstance(evaluator, PolicyEvaluator)
    assert isinstance(evaluator.name, str) and evaluator.name
    decision = await evaluate(evaluator, proposal("refund"))
    assert decision.recommendation == "proceed"


async def test_evaluate_rejects_something_that_is_not_a_decision() -> None:
    class Broken:
        name = "broken"

        def evaluate(self, item: ProposedAction) -> object:
            return {"recommendation": "proceed"}

    with pytest.raises(MalformedDecisionError, match=r"broken.*dict") as info:
        await evaluate(Broken(), proposal())  # type: ignore[arg-type]
    assert info.value.failure == "malformed"


def test_evaluate_sync_works_for_sync_and_refuses_async_evaluators() -> None:
    assert evaluate_sync(StaticEvaluator(REVIEW), proposal()) is REVIEW
    with pytest.raises(UsageError, match="async"):
        evaluate_sync(StaticEvaluator(REVIEW, asynchronous=True), proposal())


def test_static_evaluator_records_calls_and_raises_its_error() -> None:
    evaluator = StaticEvaluator(error=TimeoutError("slow"))
    with pytest.raises(TimeoutError):
        evaluate_sync(evaluator, proposal("a"))
    assert [p.action for p in evaluator.calls] == ["a"]
    with pytest.raises(UsageError):
        StaticEvaluator()
    with pytest.raises(UsageError):
        StaticEvaluator(PROCEED, error=ValueError())


def test_most_restrictive_prefers_level_then_risk_then_order() -> None:
    assert most_restrictive([PROCEED, BLOCK, REVIEW]) is BLOCK
    low = Decision(recommendation="review_recommended", risk=0.2)
    high = Decision(recommendation="review_recommended", risk=0.8)
    assert most_restrictive([low, high]) is high
    first = Decision(recommendation="proceed", reason="first")
    assert most_restrictive([first, Decision(recommendation="proceed")]) is first
    unknown = Decision.from_wire({"recommendation": "new-thing"})
    assert most_restrictive([REVIEW, unknown]) is unknown
    with pytest.raises(ValueError):
        most_restrictive([])


async def test_most_restrictive_wrapper_mixes_sync_and_async() -> None:
    combined = MostRestrictive(
        StaticEvaluator(PROCEED),
        StaticEvaluator(REVIEW, asynchronous=True),
        StaticEvaluator(CAUTION),
    )
    assert await evaluate(combined, proposal()) is REVIEW
    assert combined.name == "most-restrictive(static,static,static)"


async def test_most_restrictive_runs_async_evaluators_concurrently() -> None:
    """Each evaluator answers only once all three have started: run one after the other, the
    first would wait for the others forever (here: until its 30 s bound fails the test)."""
    started = [asyncio.Event() for _ in range(3)]

    class Together:
        name = "together"

        def __init__(self, index: int, decision: Decision) -> None:
            self.index, self.decision = index, decision

        async def evaluate(self, item: ProposedAction) -> Decision:
            started[self.index].set()
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started)), 30)
            return self.decision

    combined = MostRestrictive(Together(0, PROCEED), Together(1, BLOCK), Together(2, REVIEW))
    assert await evaluate(combined, proposal()) is BLOCK


async def test_most_restrictive_fails_when_one_fails_and_cancels_the_rest() -> None:
    slow = Slow(PROCEED, 10)
    combined = MostRestrictive(slow, StaticEvaluator(error=OSError("down"), asynchronous=True))
    with pytest.raises(OSError, match="down"):
        await evaluate(combined, proposal())
    assert slow.cancelled


async def test_most_restrictive_closes_pending_coroutines_when_a_sync_one_raises() -> None:
    # filterwarnings=error turns a "coroutine was never awaited" warning into a failure.
    combined = MostRestrictive(
        StaticEvaluator(PROCEED, asynchronous=True), StaticEvaluator(error=KeyError("x"))
    )
    with pytest.raises(KeyError):
        await evaluate(combined, proposal())


def test_most_restrictive_needs_an_evaluator() -> None:
    with pytest.raises(UsageError):
        MostRestrictive()


async def test_fallback_uses_the_secondary_only_when_the_primary_raises() -> None:
    seen: list[Exception] = []
    primary = StaticEvaluator(error=ConnectionError("refused"), asynchronous=True, name="remote")
    secondary = StaticEvaluator(REVIEW, name="local")
    fallback = Fallback(primary, secondary, on_fallback=seen.append)
    assert await evaluate(fallback, proposal()) is REVIEW
    assert fallback.fallbacks == 1 and isinstance(seen[0], ConnectionError)
    assert fallback.name == "remote-or-local"

    healthy = Fallback(StaticEvaluator(BLOCK), secondary)
    assert await evaluate(healthy, proposal()) is BLOCK
    assert healthy.fallbacks == 0


async def test_fallback_treats_an_unknown_decision_as_a_decision() -> None:
    unknown = Decision.from_wire({"recommendation": "mystery"})
    fallback = Fallback(StaticEvaluator(unknown), StaticEvaluator(PROCEED))
    assert await evaluate(fallback, proposal()) is unknown
    assert fallback.fallbacks == 0


async def test_fallback_raises_when_both_fail() -> None:
    fallback = Fallback(StaticEvaluator(error=OSError("a")), StaticEvaluator(error=OSError("b")))
    with pytest.raises(OSError, match="b"):
        await evaluate(fallback, proposal())


async def test_fallback_falls_back_on_a_malformed_answer() -> None:
    class Garbage:
        name = "garbage"

        def evaluate(self, item: ProposedAction) -> object:
            return None

    fallback = Fallback(Garbage(), StaticEvaluator(CAUTION))  # type: ignore[arg-type]
    assert await evaluate(fallback, proposal()) is CAUTION
