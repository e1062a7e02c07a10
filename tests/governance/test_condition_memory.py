"""A decision keeps nothing of the proposal it decided (issue 10, gate overhead).

The converted data a ``when:`` condition sees lives in a ``cel.Context``, a native object the
cyclic garbage collector cannot look inside. Anything that refers back from the context to
the evaluation (the cost counter's function) made a cycle no collector could break: every
proposal decided with a condition, its arguments included, stayed in memory for good, and
the growing heap slowed every later collection (the "cache effect" of the runner benchmark).
"""

from __future__ import annotations

import contextlib
import gc
import weakref

import pytest

from openai_trigger_bot.governance import LocalRulesEvaluator
from openai_trigger_bot.governance.errors import RuleEvaluationError

from ._helpers import proposal

POLICY = """
policy: memory
version: "1"
default: {recommendation: proceed, reason: nothing matched}
rules:
  - id: plain
    actions: [refund]
    when: 'args.amount > 100'
    decision: review_recommended
  - id: looping
    actions: [refund]
    when: 'args.items.exists(x, x > 5)'
    decision: do_not_proceed
  - id: counted
    actions: [refund]
    when: 'history.executed > 1000'
    history: {window: 1h}
    decision: do_not_proceed
  - id: alone
    actions: [lookup]
    when: 'args.amount > 100'
    decision: review_recommended
"""


def _freed_after(action: str, arguments: dict[str, object], *, explain: bool) -> bool:
    engine = LocalRulesEvaluator.from_yaml_string(POLICY)
    p = proposal(action, arguments)
    ref = weakref.ref(p)
    if explain:
        engine.explain(p)
    else:
        with contextlib.suppress(RuleEvaluationError):  # the `failing` case raises
            engine.evaluate(p)
    del p
    gc.collect()
    return ref() is None


@pytest.mark.parametrize("action", ["refund", "lookup"], ids=["shared", "alone"])
@pytest.mark.parametrize("explain", [False, True], ids=["evaluate", "explain"])
@pytest.mark.parametrize(
    "arguments",
    [
        {"amount": 500, "items": [1, 2]},  # matches `plain`, runs the comprehension
        {"amount": 5, "items": [9]},  # matches `looping`
        {"amount": 5},  # `looping` fails on a missing field: the error path
    ],
    ids=["match", "loop-match", "failing"],
)
def test_a_decided_proposal_is_freed(
    action: str, arguments: dict[str, object], explain: bool
) -> None:
    assert _freed_after(action, arguments, explain=explain)


def test_many_decisions_do_not_grow_the_heap() -> None:
    engine = LocalRulesEvaluator.from_yaml_string(POLICY)
    proposals = [proposal("refund", {"amount": i, "items": [i]}) for i in range(50)]
    for p in proposals:  # warm up the engine's caches
        engine.evaluate(p)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(10):
        for p in proposals:
            engine.evaluate(p)
    gc.collect()
    assert len(gc.get_objects()) - before < 100
