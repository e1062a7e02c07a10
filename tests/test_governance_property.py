"""Property: no sequence of model tool calls ever executes something it should not."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from openai_trigger_bot.testing import function_call

from .fuzz_harness import run_case, scripts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts)
def test_no_forbidden_execution(script: list[list[dict[str, Any]]]) -> None:
    case = run_case(script)
    assert case.forbidden == 0
    assert case.executed <= case.proposed
    assert case.status in {"completed", "approval_required", "max_model_calls", "max_action_calls"}


def test_the_oracle_catches_an_ungoverned_bot() -> None:
    script = [[function_call("transfer", {"amount": 500, "to": "ops"})]]
    assert run_case(script, governed=False).forbidden == 1
    assert run_case(script).forbidden == 0


def test_the_generator_reaches_every_outcome() -> None:
    """The property is only meaningful if random scripts execute, block and refuse calls."""
    from hypothesis import find

    find(scripts, lambda s: run_case(s).executed > 0)
    find(scripts, lambda s: run_case(s).status == "approval_required")
