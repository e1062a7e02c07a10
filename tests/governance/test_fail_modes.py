"""Fail modes: an outage may fail open, a failure the model's arguments cause never does.

A rule's ``when:`` that fails on the proposal (over its cost budget, a missing key) is something
the model provokes at will: with ``fail_mode="open"`` applying to it, padding a list to 600
items switched off a deny rule and the forbidden call ran (second hostile review of issue 8).
Such failures block unless the user names their kind in ``fail_modes``; ``fail_mode`` (the
bot's and an action's) covers outages only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.actions import Action
from openai_trigger_bot.governance import (
    Decision,
    EvaluatorError,
    Fallback,
    LocalRulesEvaluator,
    RuleEvaluationError,
    StaticEvaluator,
    evaluate,
)
from openai_trigger_bot.governance.enforcement import fail_mode_for
from openai_trigger_bot.governance.errors import ConditionBudgetError
from openai_trigger_bot.governance.remote.errors import FAILURE_KINDS
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from ._helpers import PROCEED, proposal

# The reviewer's rule: deny deploying to prod. Its `map` costs ~n²/2 steps, so 600 items put it
# over budget; `args.labels.region` is missing from the model's arguments in the second case.
POLICY = """
policy: deploys
version: "1"
default: {recommendation: proceed}
rules:
  - id: no-prod
    actions: [deploy, deploy_anyway, deploy_carefully]
    when: 'args.envs.map(e, e + "").exists(e, e == "prod")'
    decision: do_not_proceed
  - id: no-eu
    actions: [deploy_region]
    when: 'args.labels.region == "eu"'
    decision: do_not_proceed
"""

ran: list[str] = []


@action
def deploy(envs: list[str]) -> str:
    """Deploy.

    Args:
        envs: Environments.
    """
    ran.append("deploy")
    return "deployed"


@action(fail_mode="open")
def deploy_anyway(envs: list[str]) -> str:
    """Deploy (its own fail mode is open).

    Args:
        envs: Environments.
    """
    ran.append("deploy_anyway")
    return "deployed"


@action(fail_mode="closed")
def deploy_carefully(envs: list[str]) -> str:
    """Deploy (its own fail mode is closed).

    Args:
        envs: Environments.
    """
    ran.append("deploy_carefully")
    return "deployed"


@action
def deploy_region(labels: dict[str, str]) -> str:
    """Deploy with labels.

    Args:
        labels: Labels (``region``...).
    """
    ran.append("deploy_region")
    return "deployed"


PADDED = {"envs": ["prod"] + ["x"] * 599}


def run(tool: Action, arguments: dict[str, Any], policy: Any = None, **bot_kwargs: Any) -> Any:
    ran.clear()
    scripted = ScriptedResponses([[function_call(tool.name, arguments)], [message("done")]])
    bot = Bot(
        name="deployer",
        client=scripted.client(),
        settings=BotSettings(),
        policy=policy or LocalRulesEvaluator.from_yaml_string(POLICY),
        **bot_kwargs,
    )
    bot.register_actions(tool)

    @bot.trigger("t", prompt="p", hidden_actions=[tool])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(bot.triggers["t"]())
    assert len(result.events) == 1
    return result.events[0]


def test_the_rule_blocks_prod_when_it_can_decide() -> None:
    event = run(deploy, {"envs": ["prod"]}, fail_mode="open")
    assert (event.status, event.failure) == ("blocked", None)
    assert ran == []


@pytest.mark.parametrize(
    ("tool", "arguments", "failure"),
    [(deploy, PADDED, "over_budget"), (deploy_region, {"labels": {}}, "evaluator_error")],
    ids=["over-budget", "missing-key"],
)
def test_fail_open_does_not_let_the_model_switch_off_a_deny_rule(
    tool: Action, arguments: dict[str, Any], failure: str
) -> None:
    event = run(tool, arguments, fail_mode="open")
    assert (event.status, event.failure, event.decision) == ("blocked", failure, None)
    assert ran == []


def test_an_actions_own_fail_open_does_not_either() -> None:
    event = run(deploy_anyway, PADDED, fail_mode="open")
    assert (event.status, event.failure) == ("blocked", "over_budget")
    assert ran == []


@pytest.mark.parametrize(
    ("tool", "arguments", "kinds"),
    [
        (deploy, PADDED, {"over_budget": "open"}),
        (deploy_anyway, PADDED, {"over_budget": "open"}),
        (deploy_region, {"labels": {}}, {"evaluator_error": "open"}),
    ],
    ids=["over-budget", "over-budget-action-open", "missing-key"],
)
def test_naming_the_kind_in_fail_modes_opts_in(
    tool: Action, arguments: dict[str, Any], kinds: dict[str, str]
) -> None:
    event = run(tool, arguments, fail_modes=kinds)
    assert event.status == "executed"
    assert event.failure == next(iter(kinds))
    assert ran == [tool.name]


def test_naming_another_kind_does_not_open_this_one() -> None:
    event = run(deploy, PADDED, fail_mode="open", fail_modes={"evaluator_error": "open"})
    assert (event.status, event.failure) == ("blocked", "over_budget")
    assert ran == []


def test_an_actions_own_fail_closed_wins_over_the_opt_in() -> None:
    event = run(deploy_carefully, PADDED, fail_modes={"over_budget": "open"})
    assert (event.status, event.failure) == ("blocked", "over_budget")
    assert ran == []


class Down:
    """A custom evaluator whose backend is down (an outage, not the arguments' doing)."""

    name = "down"

    def evaluate(self, item: Any) -> Decision:
        raise ConnectionError("backend unreachable")


@pytest.mark.parametrize(
    ("tool", "kwargs"),
    [(deploy, {"fail_mode": "open"}), (deploy_anyway, {})],
    ids=["bot-open", "action-open"],
)
def test_an_outage_still_follows_fail_open(tool: Action, kwargs: dict[str, Any]) -> None:
    event = run(tool, {"envs": ["prod"]}, policy=Down(), **kwargs)
    assert (event.status, event.failure) == ("executed", "evaluator_error")
    assert ran == [tool.name]


class BrokenHistory:
    """A history store that fails while counting (its database is locked, say)."""

    def record(self, action: str, status: str, *, target: str | None = None) -> None:
        pass

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        raise OSError("database is locked")


VELOCITY = """
policy: velocity
version: "1"
default: {recommendation: proceed}
rules:
  - id: too-many
    actions: [deploy]
    history: {window: 1h}
    when: 'history.executed > 3'
    decision: do_not_proceed
"""


@pytest.mark.parametrize(("mode", "status"), [("open", "executed"), ("closed", "blocked")])
def test_a_failing_history_store_is_an_outage(mode: str, status: str) -> None:
    rules = LocalRulesEvaluator.from_yaml_string(VELOCITY, history=BrokenHistory())
    with pytest.raises(EvaluatorError) as info:
        rules.evaluate(proposal("deploy", {"envs": []}))
    assert not isinstance(info.value, RuleEvaluationError)
    assert "history is unavailable" in str(info.value) and "database is locked" in str(info.value)
    event = run(deploy, {"envs": ["prod"]}, policy=rules, fail_mode=mode)
    assert (event.status, event.failure) == (status, "evaluator_error")


def test_fallback_does_not_fall_back_on_a_failure_the_arguments_caused() -> None:
    # Falling back would let the model pick the (here permissive) secondary evaluator.
    rules = LocalRulesEvaluator.from_yaml_string(POLICY)
    seen: list[Exception] = []
    both = Fallback(rules, StaticEvaluator(PROCEED), on_fallback=seen.append)
    with pytest.raises(ConditionBudgetError):
        asyncio.run(evaluate(both, proposal("deploy", PADDED)))
    assert (both.fallbacks, seen) == (0, [])
    event = run(deploy, PADDED, policy=both, fail_mode="open")
    assert (event.status, event.failure) == ("blocked", "over_budget")
    assert ran == []


def test_fallback_still_falls_back_on_an_outage() -> None:
    both = Fallback(Down(), StaticEvaluator(PROCEED))
    assert asyncio.run(evaluate(both, proposal("deploy", {"envs": ["prod"]}))) == PROCEED
    assert both.fallbacks == 1


OUTAGES = [*FAILURE_KINDS, "evaluator_error"]
ARGUMENT_KINDS = ["over_budget", "evaluator_error"]


@pytest.mark.parametrize("failure", OUTAGES)
@pytest.mark.parametrize(
    ("action_mode", "kinds", "default", "expected"),
    [
        (None, {}, "open", "open"),
        (None, {}, "closed", "closed"),
        ("open", {}, "closed", "open"),
        ("closed", {}, "open", "closed"),
        (None, {"*": "open"}, "closed", "closed"),
    ],
)
def test_fail_mode_for_an_outage(
    failure: str, action_mode: str | None, kinds: dict[str, str], default: str, expected: str
) -> None:
    got = fail_mode_for(
        failure, caused_by_arguments=False, action=action_mode, per_kind=kinds, default=default
    )
    assert got == expected
    named = fail_mode_for(
        failure, caused_by_arguments=False, per_kind={failure: "open"}, default="closed"
    )
    assert named == "open"


@pytest.mark.parametrize("failure", ARGUMENT_KINDS)
@pytest.mark.parametrize(
    ("action_mode", "named", "default", "expected"),
    [
        (None, False, "open", "closed"),
        ("open", False, "open", "closed"),
        (None, True, "closed", "open"),
        ("open", True, "closed", "open"),
        ("closed", True, "open", "closed"),
    ],
)
def test_fail_mode_for_a_failure_the_arguments_caused(
    failure: str, action_mode: str | None, named: bool, default: str, expected: str
) -> None:
    kinds = {failure: "open"} if named else {}
    got = fail_mode_for(
        failure, caused_by_arguments=True, action=action_mode, per_kind=kinds, default=default
    )
    assert got == expected


def test_which_errors_count_as_caused_by_the_arguments() -> None:
    assert RuleEvaluationError("x", rule_id="r", path="p", line=1).caused_by_arguments
    assert ConditionBudgetError("x", rule_id="r", path="p", line=1).caused_by_arguments
    assert not EvaluatorError("down").caused_by_arguments
