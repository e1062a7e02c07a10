"""The local rules engine: each matching dimension, globs, conflicts, defaults and CEL."""

from __future__ import annotations

from typing import Any

import pytest

from openai_trigger_bot.governance import (
    InMemoryHistory,
    LocalRulesEvaluator,
    RuleEvaluationError,
)

from ._helpers import FakeClock, proposal

HEADER = """
policy: test-policy
version: "v7"
default: {recommendation: review_recommended, reason: nothing matched}
rules:
"""


def engine(rules: str, **kwargs: Any) -> LocalRulesEvaluator:
    return LocalRulesEvaluator.from_yaml_string(HEADER + rules, **kwargs)


def matched(evaluator: LocalRulesEvaluator, **fields: Any) -> tuple[str, ...]:
    return evaluator.evaluate(proposal(**fields)).matched_rules


def test_an_unmatched_action_gets_the_default() -> None:
    rules = engine("  - {id: r, actions: [refund], decision: proceed}\n")
    decision = rules.evaluate(proposal("delete_all"))
    assert decision.recommendation == "review_recommended"
    assert decision.reason == "nothing matched" and decision.matched_rules == ()
    assert (decision.policy_id, decision.policy_version) == ("test-policy", "v7")
    assert decision.evaluator == "local-rules"


def test_a_matching_rule_decides_and_carries_the_policy_version() -> None:
    rules = engine("  - {id: r, actions: [refund], decision: proceed}\n")
    decision = rules.evaluate(proposal("refund"))
    assert decision.recommendation == "proceed" and decision.matched_rules == ("r",)
    assert (decision.policy_id, decision.policy_version) == ("test-policy", "v7")
    assert decision.confidence == 1.0


@pytest.mark.parametrize(
    ("pattern", "hits", "misses"),
    [
        ("grant_*", ["grant_access", "grant_", "grant_x_y"], ["grantaccess", "regrant_access"]),
        ("scale_?", ["scale_a"], ["scale_ab", "scale_"]),
        ("deploy_[ab]", ["deploy_a", "deploy_b"], ["deploy_c"]),
        ("deploy_[!ab]", ["deploy_c"], ["deploy_a"]),
        ("*", ["anything", "x"], []),
        ("exact_name", ["exact_name"], ["exact_name2", "Exact_name"]),
    ],
)
def test_action_globs(pattern: str, hits: list[str], misses: list[str]) -> None:
    rules = engine(f'  - {{id: r, actions: ["{pattern}"], decision: proceed}}\n')
    for name in hits:
        assert matched(rules, action=name) == ("r",), name
    for name in misses:
        assert matched(rules, action=name) == (), name


def test_a_rule_without_actions_applies_to_every_action() -> None:
    rules = engine("  - {id: all, decision: proceed_with_caution}\n")
    assert matched(rules, action="whatever") == ("all",)


def test_exact_names_and_globs_in_one_rule_match_once() -> None:
    rules = engine('  - {id: r, actions: [grant_access, "grant_*"], decision: proceed}\n')
    assert matched(rules, action="grant_access") == ("r",)


@pytest.mark.parametrize(
    ("dimension", "rule_value", "hit", "miss"),
    [
        ("system", "aws", {"system": "aws"}, {"system": "gcp"}),
        ("system", "[aws, gcp]", {"system": "gcp"}, {}),
        ("environment", "production", {"environment": "production"}, {"environment": "prod"}),
        ("risk", "[high, critical]", {"risk": "critical"}, {"risk": "medium"}),
        ("tags", "[pii, money]", {"tags": ("x", "money")}, {"tags": ("x",)}),
        ("trigger", "on-ticket", {"trigger": "on-ticket"}, {"trigger": "nightly"}),
    ],
)
def test_each_dimension_filters(
    dimension: str, rule_value: str, hit: dict[str, Any], miss: dict[str, Any]
) -> None:
    rules = engine(f"  - {{id: r, {dimension}: {rule_value}, decision: proceed}}\n")
    assert matched(rules, action="a", **hit) == ("r",)
    assert matched(rules, action="a", **miss) == ()


def test_most_restrictive_matching_rule_wins_and_all_are_listed() -> None:
    rules = engine(
        """
  - {id: base, actions: [refund], decision: proceed}
  - {id: big, actions: [refund], when: 'args.amount > 100', decision: review_recommended}
  - {id: huge, actions: [refund], when: 'args.amount > 1000', decision: do_not_proceed}
  - {id: careful, actions: ["ref*"], decision: proceed_with_caution}
"""
    )
    small = rules.evaluate(proposal("refund", {"amount": 5}))
    assert small.recommendation == "proceed_with_caution"
    assert small.matched_rules == ("base", "careful")
    large = rules.evaluate(proposal("refund", {"amount": 500}))
    assert large.recommendation == "review_recommended"
    huge = rules.evaluate(proposal("refund", {"amount": 5000}))
    assert huge.recommendation == "do_not_proceed"
    assert huge.matched_rules == ("base", "big", "huge", "careful")


def test_a_mode_makes_a_rule_more_restrictive_than_its_recommendation() -> None:
    rules = engine(
        """
  - {id: review, decision: review_recommended}
  - id: needs-context
    decision: {recommendation: proceed, mode: blocked, reason: mode wins}
"""
    )
    assert rules.evaluate(proposal()).reason == "mode wins"


def test_ties_go_to_the_higher_risk_then_the_earlier_rule() -> None:
    rules = engine(
        """
  - {id: first, decision: {recommendation: review_recommended, risk: 0.2, reason: first}}
  - {id: riskier, decision: {recommendation: review_recommended, risk: 0.6, reason: riskier}}
  - {id: later, decision: {recommendation: review_recommended, risk: 0.6, reason: later}}
"""
    )
    assert rules.evaluate(proposal()).reason == "riskier"


def test_the_most_restrictive_default_of_several_files_applies() -> None:
    lenient = """
policy: lenient
version: "1"
default: proceed
rules:
  - {id: refund-ok, actions: [refund], decision: proceed}
"""
    strict = """
policy: strict
version: "2"
default: {recommendation: do_not_proceed, reason: strict default}
"""
    rules = LocalRulesEvaluator.from_yaml_string(lenient, strict)
    unmatched = rules.evaluate(proposal("deploy"))
    assert (unmatched.reason, unmatched.policy_id) == ("strict default", "strict")
    assert rules.evaluate(proposal("refund")).policy_id == "lenient"


def test_cel_over_args_value_target_extra_and_trigger() -> None:
    rules = engine(
        """
  - id: r
    when: >-
      args.amount > 10 && value >= 10.5 && target.startsWith("cus-")
      && extra.tier == "gold" && trigger == "support" && action.name == "refund"
      && "money" in action.tags && actor == "alice"
    decision: do_not_proceed
"""
    )
    fields: dict[str, Any] = {
        "action": "refund",
        "arguments": {"amount": 11},
        "value": 10.5,
        "target": "cus-9",
        "extra": {"tier": "gold"},
        "trigger": "support",
        "tags": ("money",),
        "actor": "alice",
    }
    assert matched(rules, **fields) == ("r",)
    for key, other in [
        ("arguments", {"amount": 10}),
        ("value", 3),
        ("target", "acct-1"),
        ("extra", {"tier": "silver"}),
        ("trigger", "other"),
        ("tags", ()),
        ("actor", "bob"),
    ]:
        assert matched(rules, **{**fields, key: other}) == (), key


def test_history_counts_within_the_window_with_a_fake_clock() -> None:
    clock = FakeClock()
    history = InMemoryHistory(clock=clock)
    rules = engine(
        """
  - id: rate-limit
    actions: [refund]
    when: 'history.executed >= 3 || history.tool_error > 0'
    history: {window: 1h}
    decision: do_not_proceed
""",
        history=history,
        clock=clock,
    )
    for _ in range(2):
        history.record("refund", "executed")
    history.record("other_action", "tool_error")
    assert matched(rules, action="refund") == ()
    history.record("refund", "executed")
    assert matched(rules, action="refund") == ("rate-limit",)
    clock.advance(3601)
    assert matched(rules, action="refund") == ()
    history.record("refund", "tool_error")
    assert matched(rules, action="refund") == ("rate-limit",)


def test_history_per_target_counts_only_that_target() -> None:
    clock = FakeClock()
    history = InMemoryHistory(clock=clock)
    rules = engine(
        """
  - id: per-customer
    when: 'history.total >= 2'
    history: {window: 1d, per_target: true}
    decision: review_recommended
  - id: overall
    when: 'history.total >= 4'
    history: {window: 1d}
    decision: do_not_proceed
""",
        history=history,
        clock=clock,
    )
    history.record("refund", "executed", target="cus-1")
    history.record("refund", "blocked", target="cus-2")
    assert matched(rules, action="refund", target="cus-1") == ()
    history.record("refund", "denied", target="cus-1")
    assert matched(rules, action="refund", target="cus-1") == ("per-customer",)
    assert matched(rules, action="refund", target="cus-2") == ()
    history.record("refund", "executed", target="cus-3")
    assert matched(rules, action="refund", target="cus-2") == ("overall",)


def test_now_is_the_injected_clock() -> None:
    clock = FakeClock(1_767_268_800.0)  # 2026-01-01T12:00:00Z, a Thursday
    rules = engine(
        "  - {id: afternoon, when: 'now.getHours() >= 12 && now.getDayOfWeek() == 4', "
        "decision: proceed}\n",
        clock=clock,
    )
    assert matched(rules) == ("afternoon",)
    clock.advance(-3600)
    assert matched(rules) == ()


@pytest.mark.parametrize(
    ("condition", "arguments", "message"),
    [
        ("args.missing > 1", {"amount": 1}, "no field 'missing'"),
        ("args.amount + 'x' == 'y'", {"amount": 1}, "TypeError"),
        ("args.amount", {"amount": 1}, "not true or false"),
        ("target.startsWith('a')", {}, "failed"),
    ],
)
def test_a_condition_that_fails_raises_instead_of_allowing(
    condition: str, arguments: dict[str, Any], message: str
) -> None:
    rules = engine(f'  - {{id: broken, when: "{condition}", decision: do_not_proceed}}\n')
    with pytest.raises(RuleEvaluationError, match=message) as info:
        rules.evaluate(proposal("refund", arguments))
    error = info.value
    assert (error.rule_id, error.path, error.line) == ("broken", "<string>", 6)
    assert error.failure == "evaluator_error"


def test_has_protects_optional_fields() -> None:
    rules = engine("  - {id: r, when: 'has(args.note) && args.note == \"x\"', decision: proceed}\n")
    assert matched(rules, arguments={}) == ()
    assert matched(rules, arguments={"note": "x"}) == ("r",)


def test_conditions_of_rules_filtered_out_earlier_are_not_evaluated() -> None:
    rules = engine(
        "  - {id: prod, environment: production, when: 'args.missing > 1', "
        "decision: do_not_proceed}\n"
    )
    assert matched(rules, environment="staging") == ()


def test_decisions_are_reused_for_the_same_matches() -> None:
    rules = engine("  - {id: r, actions: [refund], decision: proceed}\n")
    first = rules.evaluate(proposal("refund", {"a": 1}))
    assert rules.evaluate(proposal("refund", {"a": 2})) is first


def test_explain_lists_matches_misses_and_why() -> None:
    rules = engine(
        """
  - {id: base, actions: [refund], decision: proceed}
  - {id: prod, actions: [refund], environment: production, decision: review_recommended}
  - {id: big, actions: ["ref*"], when: 'args.amount > 100', decision: do_not_proceed}
  - {id: unrelated, actions: [deploy], decision: proceed}
"""
    )
    explanation = rules.explain(proposal("refund", {"amount": 5}, environment="staging"))
    by_id = {check.rule_id: check for check in explanation.checks}
    assert set(by_id) == {"base", "prod", "big"} and explanation.unrelated == 1
    assert by_id["base"].matched and by_id["base"].decisive
    assert not by_id["prod"].matched and "environment is 'staging'" in by_id["prod"].reason
    assert not by_id["big"].matched and "is false" in by_id["big"].reason
    assert explanation.decision is not None and explanation.decision.matched_rules == ("base",)
    text = explanation.format()
    assert "MATCH base (decides)" in text and "1 other rule(s)" in text

    everything = rules.explain(proposal("refund", {"amount": 5}), all_rules=True)
    assert len(everything.checks) == 4 and everything.unrelated == 0
    assert "not in actions" in everything.checks[3].reason


def test_explain_reports_a_failing_condition_instead_of_raising() -> None:
    rules = engine("  - {id: broken, when: 'args.nope > 1', decision: proceed}\n")
    explanation = rules.explain(proposal("refund"))
    assert explanation.decision is None and explanation.checks[0].error
    assert explanation.error is not None and "broken" in explanation.error
    assert "error:" in explanation.format()


def test_explain_says_when_the_default_decided() -> None:
    explanation = engine("  - {id: r, actions: [x], decision: proceed}\n").explain(proposal("y"))
    assert explanation.used_default and explanation.decision is not None
    assert "default of policy" in explanation.format()
