"""Evaluator capabilities are protocol methods (a batch, the histories read), forwarded by the
wrappers; nothing is found by attribute names."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.governance import (
    Decision,
    EvaluatorError,
    Fallback,
    InMemoryHistory,
    LocalRulesEvaluator,
    MostRestrictive,
    ProposedAction,
    RuleEvaluationError,
    Shadow,
    StaticEvaluator,
)
from openai_trigger_bot.governance.capabilities import (
    BatchEvaluator,
    HistoryReader,
    evaluate_many,
    histories_of,
)
from openai_trigger_bot.governance.gate import Governance
from openai_trigger_bot.governance.rules.history import HistoryProvider
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

PROCEED = Decision(recommendation="proceed")
REVIEW = Decision(recommendation="review_recommended")
BLOCK = Decision(recommendation="do_not_proceed")

RULES = """
policy: p
version: "1"
default: {recommendation: proceed}
rules:
  - id: velocity
    actions: [note]
    when: 'history.executed >= 100'
    history: {window: 1h}
    decision: review_recommended
"""


class Remote:
    """A batching evaluator (like a remote service): single evaluation is a test failure."""

    def __init__(self, name: str, answers: Sequence[Any] | BaseException) -> None:
        self.name = name
        self.answers = answers
        self.batches: list[list[str]] = []

    def evaluate(self, proposal: ProposedAction) -> Decision:
        raise AssertionError(f"{self.name}: single evaluation used for a batch")

    async def evaluate_batch(self, proposals: Sequence[ProposedAction]) -> list[Any]:
        self.batches.append([p.call_id for p in proposals])
        if isinstance(self.answers, BaseException):
            raise self.answers
        return list(self.answers)


class Plain:
    """A custom evaluator with only ``name`` and ``evaluate``."""

    name = "plain"

    def __init__(self, decision: Decision = PROCEED) -> None:
        self.decision = decision
        self.seen: list[str] = []

    def evaluate(self, proposal: ProposedAction) -> Decision:
        self.seen.append(proposal.call_id)
        return self.decision


def proposals(n: int) -> list[ProposedAction]:
    return [ProposedAction(action="note", call_id=f"c{i}") for i in range(n)]


def rules() -> LocalRulesEvaluator:
    return LocalRulesEvaluator.from_yaml_string(RULES, history=InMemoryHistory())


def test_nested_wrappers_forward_the_batch_and_the_histories() -> None:
    remote = Remote("remote", [PROCEED, BLOCK, PROCEED])
    local = rules()
    other = rules()
    composed = MostRestrictive(Fallback(remote, local), other)

    answers = asyncio.run(evaluate_many(composed, proposals(3)))

    assert remote.batches == [["c0", "c1", "c2"]]
    assert [a.recommendation for a in answers if isinstance(a, Decision)] == [
        "proceed",
        "do_not_proceed",
        "proceed",
    ]
    assert histories_of(composed) == (local.history, other.history)
    assert Governance(evaluator=composed).recorders == (local.history, other.history)


def test_shadow_forwards_the_batch_to_live_and_candidate_and_both_histories() -> None:
    live_remote = Remote("live", [PROCEED, PROCEED])
    candidate_remote = Remote("candidate", [PROCEED, BLOCK])
    live_rules, candidate_rules = rules(), rules()
    shadow = Shadow(
        Fallback(live_remote, live_rules), MostRestrictive(candidate_remote, candidate_rules)
    )

    answers = asyncio.run(evaluate_many(shadow, proposals(2)))

    assert answers == [PROCEED, PROCEED]  # the live answers, never the candidate's
    assert live_remote.batches == [["c0", "c1"]]
    assert candidate_remote.batches == [["c0", "c1"]]
    assert [(d.proposal.call_id, d.candidate_outcome) for d in shadow.differences] == [
        ("c1", "block")
    ]
    assert shadow.histories() == (live_rules.history, candidate_rules.history)


def test_fallback_sends_only_the_failed_positions_to_the_secondary_in_one_batch() -> None:
    argument_error = RuleEvaluationError("bad args", rule_id="r", path="p.yaml", line=1)
    primary = Remote("primary", [PROCEED, EvaluatorError("down"), argument_error, "junk"])
    secondary = Remote("secondary", [REVIEW, BLOCK])
    seen: list[Exception] = []
    fallback = Fallback(primary, secondary, on_fallback=seen.append)

    answers = asyncio.run(evaluate_many(fallback, proposals(4)))

    assert secondary.batches == [["c1", "c3"]]  # an error the arguments caused does not fall back
    assert answers[0] == PROCEED and answers[1] == REVIEW and answers[3] == BLOCK
    assert answers[2] is argument_error
    assert fallback.fallbacks == 2 and len(seen) == 2


def test_fallback_when_the_whole_primary_batch_fails() -> None:
    down = EvaluatorError("service down")
    secondary = Plain(REVIEW)
    fallback = Fallback(Remote("primary", down), secondary)

    answers = asyncio.run(evaluate_many(fallback, proposals(3)))

    assert answers == [REVIEW] * 3
    assert secondary.seen == ["c0", "c1", "c2"]
    assert fallback.fallbacks == 3


def test_most_restrictive_batch_fails_only_the_positions_an_evaluator_failed() -> None:
    error = EvaluatorError("item failed")
    a = Remote("a", [PROCEED, PROCEED, error])
    b = Remote("b", [PROCEED, BLOCK, PROCEED])

    answers = asyncio.run(evaluate_many(MostRestrictive(a, b, Plain()), proposals(3)))

    assert answers[0] == PROCEED and answers[1] == BLOCK and answers[2] is error
    assert a.batches == b.batches == [["c0", "c1", "c2"]]


def test_a_custom_evaluator_with_only_evaluate_is_complete() -> None:
    plain = Plain(REVIEW)
    assert not isinstance(plain, BatchEvaluator) and not isinstance(plain, HistoryReader)
    assert histories_of(plain) == ()

    answers = asyncio.run(evaluate_many(plain, proposals(3)))

    assert answers == [REVIEW] * 3 and plain.seen == ["c0", "c1", "c2"]


def test_a_sync_evaluate_batch_is_accepted() -> None:
    class SyncBatch:
        name = "sync-batch"

        def __init__(self) -> None:
            self.batches: list[int] = []

        def evaluate(self, proposal: ProposedAction) -> Decision:
            raise AssertionError("single evaluation used for a batch")

        def evaluate_batch(self, proposals: Sequence[ProposedAction]) -> list[Decision]:
            self.batches.append(len(proposals))
            return [BLOCK] * len(proposals)

    evaluator = SyncBatch()
    assert asyncio.run(evaluate_many(evaluator, proposals(2))) == [BLOCK, BLOCK]
    assert evaluator.batches == [2]


# -- through a bot ---------------------------------------------------------------------------

ran: list[str] = []


@action
def note(text: str) -> str:
    """Take a note.

    Args:
        text: The note.
    """
    ran.append(text)
    return "noted"


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


def run(policy: Any, calls: int) -> list[str]:
    scripted = ScriptedResponses(
        [
            [function_call("note", {"text": str(i)}, call_id=f"c{i}") for i in range(calls)],
            [message("done")],
        ]
    )
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings(), policy=policy)
    bot.register_actions(note)

    @bot.trigger("t", prompt="p", hidden_actions=[note])
    def t() -> dict[str, str]:
        return {}

    return [e.status for e in bot.run(bot.triggers["t"]()).events]


def test_a_bot_batches_through_a_wrapper() -> None:
    remote = Remote("remote", [PROCEED, BLOCK, PROCEED])
    statuses = run(Fallback(remote, StaticEvaluator(BLOCK)), 3)
    assert remote.batches == [["c0", "c1", "c2"]]
    assert statuses == ["executed", "blocked", "executed"]


def test_a_bot_records_outcomes_into_the_histories_a_custom_wrapper_names() -> None:
    history = InMemoryHistory()

    class Custom:
        name = "custom"

        def evaluate(self, proposal: ProposedAction) -> Decision:
            return PROCEED

        def histories(self) -> Sequence[HistoryProvider]:
            return (history,)

    run(Custom(), 2)
    assert history.counts("note", since=0.0)["executed"] == 2


def test_histories_are_not_found_by_attribute_names() -> None:
    """An object with a ``history`` (or a ``primary``) but no ``histories()`` names none."""
    history = InMemoryHistory()

    class HasHistoryAttribute(Plain):
        def __init__(self) -> None:
            super().__init__()
            self.history = history

    class HasPrimaryAttribute(Plain):
        def __init__(self) -> None:
            super().__init__()
            self.primary = rules()

    wrapper = HasPrimaryAttribute()
    run(HasHistoryAttribute(), 1)
    run(wrapper, 1)
    assert history.counts("note", since=0.0)["total"] == 0
    assert wrapper.primary.history.counts("note", since=0.0)["total"] == 0
    assert histories_of(wrapper) == ()


def test_rules_without_history_conditions_record_nothing_unless_given_a_history() -> None:
    plain = RULES.replace("    when: 'history.executed >= 100'\n    history: {window: 1h}\n", "")
    assert "history" not in plain
    assert LocalRulesEvaluator.from_yaml_string(plain).histories() == ()  # nobody reads it
    given = InMemoryHistory()
    assert LocalRulesEvaluator.from_yaml_string(plain, history=given).histories() == (given,)
    counting = LocalRulesEvaluator.from_yaml_string(RULES)
    assert counting.histories() == (counting.history,)
