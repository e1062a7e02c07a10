"""Property: no sequence of model tool calls ever executes something it should not."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from openai_trigger_bot.testing import function_call

from .fuzz_harness import run_case, scripts

# No deadline: one run of a script takes milliseconds, but a cold first run (imports, CEL
# compilation) or a loaded machine can take longer than hypothesis' default 200 ms, and a
# single slow call makes hypothesis report the example as flaky. Speed lives in benchmarks.
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FIND_SETTINGS = settings(max_examples=2000, deadline=None, database=None)


@PROPERTY_SETTINGS
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
    find(scripts, lambda s: run_case(s).executed > 0, settings=FIND_SETTINGS)
    find(scripts, lambda s: run_case(s).status == "approval_required", settings=FIND_SETTINGS)


def test_a_slow_call_does_not_fail_the_search() -> None:
    """Issue 8 item 10: one slow call (a loaded machine) must not fail a search.

    With hypothesis' default 200 ms deadline this raises ``FlakyFailure``: the slow call is
    recorded as a failure that does not reproduce. The sleep only makes one call slow; nothing
    here depends on how fast the machine is.
    """
    calls = 0

    def slow_once(value: int) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.3)
        return value > 1000

    assert find(st.integers(), slow_once, settings=FIND_SETTINGS) == 1001
