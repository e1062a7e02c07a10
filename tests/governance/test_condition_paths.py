"""One condition alone is run on plain values, several share a converted context: same answers.

When a proposal's candidate rules hold a single ``when:`` condition without a comprehension,
the engine hands CEL the plain values (it converts them once) instead of building a shared
``cel.Context`` (see ``rules/_context.py``). Both paths must decide, and fail, alike.
"""

from __future__ import annotations

import pytest

from openai_trigger_bot.governance import LocalRulesEvaluator
from openai_trigger_bot.governance.errors import RuleEvaluationError
from openai_trigger_bot.governance.rules.matcher import RuleIndex

from ._helpers import FakeClock, proposal

ARGUMENTS = {
    "amount": 250,
    "ratio": 1.5,
    "region": "eu",
    "items": [1, 2, 3],
    "note": None,
    "nested": {"k": "v"},
    "flag": True,
}

CONDITIONS = [
    "args.amount > 100",
    "args.ratio < 1.0",
    "args.region == 'eu' && size(args.items) == 3",
    "args.note == null",
    "args.nested.k == 'v'",
    "args.flag",
    "has(args.missing)",
    "args.region.startsWith('e') && args.region.matches('^e.$')",
    "value > 10 && target == 'acct-1'",
    "action.name == 'refund' && 'money' in action.tags",
    "trigger == 'daily'",
    "now.getHours() == 12",
    "history.executed == 0",
    "args.missing > 1",  # a missing field: an error on both paths
    "args.region + 1 == 2",  # a type error
    "args.amount",  # not a boolean
]

EXTRA = """
  - id: other
    actions: [refund]
    when: 'args.amount >= 0'
    decision: proceed_with_caution
"""


def _engine(condition: str, *, shared: bool) -> LocalRulesEvaluator:
    history = "    history: {window: 1h}\n" if "history" in condition else ""
    text = (
        'policy: paths\nversion: "1"\n'
        "default: {recommendation: proceed, reason: nothing matched}\nrules:\n"
        f"  - id: tested\n    actions: [refund]\n    when: {condition!r}\n{history}"
        "    decision: do_not_proceed\n"
    )
    if shared:
        text += EXTRA
    clock = FakeClock(1_767_268_800.0)  # 2026-01-01T12:00:00Z
    return LocalRulesEvaluator.from_yaml_string(text, clock=clock)


def _answer(engine: LocalRulesEvaluator) -> tuple[str, ...]:
    p = proposal(
        "refund",
        dict(ARGUMENTS),
        tags=("money",),
        value=12.5,
        target="acct-1",
        trigger="daily",
    )
    try:
        decision = engine.evaluate(p)
    except RuleEvaluationError as exc:
        return ("error", str(exc))
    return ("ok", *(rule for rule in decision.matched_rules if rule == "tested"))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_condition_alone_decides_as_when_it_shares_the_context(condition: str) -> None:
    alone, shared = _engine(condition, shared=False), _engine(condition, shared=True)
    assert RuleIndex(alone.rules).candidates("refund").conditions == 1
    assert RuleIndex(shared.rules).candidates("refund").conditions == 2
    assert _answer(alone) == _answer(shared)


def test_the_paths_do_give_different_answers_for_different_conditions() -> None:
    """The comparison above can fail: a true and a false condition answer differently."""
    assert _answer(_engine("args.amount > 100", shared=False)) == ("ok", "tested")
    assert _answer(_engine("args.amount < 100", shared=False)) == ("ok",)
    assert _answer(_engine("args.missing > 1", shared=False))[0] == "error"
