"""The governance gate inside the runner: decide → execute / block / approval, fail modes,
secrets, hooks and history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

from openai_trigger_bot import Bot, BotSettings, PolicyError, action
from openai_trigger_bot.governance import (
    Decision,
    EvaluatorError,
    ExecutionEvent,
    LocalRulesEvaluator,
    ProposedAction,
    StaticEvaluator,
)
from openai_trigger_bot.governance.gate import Governance
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ROOT = Path(__file__).resolve().parents[1]

REFUND_POLICY = """
policy: refunds
version: "7"
default: {recommendation: do_not_proceed, reason: "internal: unlisted action"}
rules:
  - id: small
    actions: [issue_refund]
    decision: proceed
  - id: large
    actions: [issue_refund]
    when: 'value > 500'
    decision:
      recommendation: do_not_proceed
      reason: "internal rule R-17 fired"
      better_action: escalate
  - id: velocity
    actions: [issue_refund]
    when: 'history.executed >= 2'
    history: {window: 1h}
    decision: {recommendation: review_recommended, reason: "velocity"}
"""


class Recorder:
    """A real evaluator wrapper that remembers every proposal it saw."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = "recorder"
        self.seen: list[ProposedAction] = []

    def evaluate(self, proposal: ProposedAction) -> Decision:
        self.seen.append(proposal)
        result: Decision = self.inner.evaluate(proposal)
        return result


class Raising:
    name = "raising"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def evaluate(self, proposal: ProposedAction) -> Decision:
        raise self.exc


def make(
    steps: list[Any], *, actions: list[Any], default: Any = None, **bot_kwargs: Any
) -> tuple[Bot, ScriptedResponses]:
    scripted = ScriptedResponses(steps)
    bot = Bot(name="gov", client=scripted.client(), settings=BotSettings(), **bot_kwargs)
    bot.register_actions(*actions)

    @bot.trigger("t", prompt="p", default_action=default, hidden_actions=actions)
    def t() -> dict[str, str]:
        return {}

    return bot, scripted


def outputs(scripted: ScriptedResponses, index: int = 1) -> list[str]:
    return [str(i["output"]) for i in scripted.requests[index]["input"]]


ran: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


@action(value_from_args="amount", target_from_args="customer")
def issue_refund(customer: str, amount: float) -> str:
    """Refund a customer.

    Args:
        customer: Customer id.
        amount: Amount in EUR.
    """
    ran.append(("issue_refund", {"customer": customer, "amount": amount}))
    return "refunded"


@action
def escalate(note: str) -> str:
    """Escalate to finance.

    Args:
        note: Why.
    """
    ran.append(("escalate", {"note": note}))
    return "escalated"


@action(risk="high", system="k8s", environment="production")
def restart_cluster(cluster: str) -> str:
    """Restart a cluster.

    Args:
        cluster: The cluster.
    """
    ran.append(("restart_cluster", {"cluster": cluster}))
    return "restarted"


@action(secret=["api_token"])
def call_vendor(endpoint: str, api_token: str) -> str:
    """Call a vendor API.

    Args:
        endpoint: Path to call.
        api_token: The vendor token.
    """
    ran.append(("call_vendor", {"endpoint": endpoint}))
    if endpoint == "fail":
        raise RuntimeError(f"401 for token {api_token}")
    return f"ok (used {api_token})"


def refunds() -> LocalRulesEvaluator:
    return LocalRulesEvaluator.from_yaml_string(REFUND_POLICY)


def test_policy_allows_small_and_blocks_large_in_one_response() -> None:
    bot, scripted = make(
        [
            [
                function_call("issue_refund", {"customer": "c1", "amount": 20}),
                function_call("issue_refund", {"customer": "c2", "amount": 900}),
            ],
            [message("done")],
        ],
        actions=[issue_refund, escalate],
        policy=refunds(),
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == [("issue_refund", {"customer": "c1", "amount": 20.0})]
    ok, blocked = result.events
    assert ok.status == "executed" and ok.decision is not None
    assert ok.decision.matched_rules == ("small",)
    assert blocked.status == "blocked"
    assert blocked.decision is not None and blocked.decision.policy_version == "7"
    told = outputs(scripted)[1]
    # short, no policy internals, but the better action when the trigger offers it
    assert told == "Not run: blocked by policy. Consider `escalate` instead."
    assert "R-17" not in told and "internal" not in told
    assert result.status == "completed"


def test_default_policy_requires_approval_for_high_risk_and_suspends() -> None:
    bot, scripted = make(
        [[function_call("restart_cluster", {"cluster": "prod-eu"})], [message("x")]],
        actions=[restart_cluster],
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    assert result.status == "approval_required"
    assert result.last is not None and result.last.status == "approval_required"
    assert result.last.decision is not None
    assert result.last.decision.recommendation == "review_recommended"
    assert len(scripted.requests) == 1  # suspended: nothing more sent


@pytest.mark.parametrize(
    ("answer", "status", "executed"),
    [(True, "executed", True), (False, "denied", False), (None, "approval_required", False)],
)
def test_approval_handler_answers(answer: bool | None, status: str, executed: bool) -> None:
    asked: list[tuple[str, str]] = []

    def handler(proposal: ProposedAction, decision: Decision) -> bool | None:
        asked.append((proposal.action, decision.recommendation))
        return answer

    bot, _ = make(
        [[function_call("restart_cluster", {"cluster": "prod-eu"})], [message("x")]],
        actions=[restart_cluster],
        approval_handler=handler,
    )
    result = bot.run(bot.triggers["t"]())
    assert asked == [("restart_cluster", "review_recommended")]
    assert result.events[0].status == status
    assert bool(ran) is executed


async def test_async_approval_handler_and_async_hook() -> None:
    seen: list[str] = []

    async def handler(proposal: ProposedAction, decision: Decision) -> bool:
        return True

    async def hook(event: ExecutionEvent) -> None:
        seen.append(event.status)

    scripted = ScriptedResponses(
        [[function_call("restart_cluster", {"cluster": "a"})], [message("x")]]
    )
    bot = Bot(
        name="b",
        client=scripted.async_client(),
        approval_handler=handler,
        on_decision=hook,
    )
    bot.register_actions(restart_cluster)

    @bot.trigger("t", prompt="p", hidden_actions=[restart_cluster])
    def t() -> dict[str, str]:
        return {}

    result = await bot.arun(t())
    assert result.status == "completed"
    assert seen == ["executed"]


def test_approval_handler_that_raises_blocks_the_call_fail_closed() -> None:
    def handler(proposal: ProposedAction, decision: Decision) -> bool:
        raise RuntimeError("pager down")

    bot, scripted = make(
        [[function_call("restart_cluster", {"cluster": "a"})], [message("x")]],
        actions=[restart_cluster],
        approval_handler=handler,
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    event = result.events[0]
    # blocked (not denied: no person said no), and the run goes on instead of suspending
    assert (event.status, event.failure) == ("blocked", "approval_error")
    assert "RuntimeError" in (event.error or "") and "pager down" not in (event.error or "")
    assert event.approval is not None and event.approval.resolution == "error"
    assert outputs(scripted) == [
        "Not run: no valid approval could be obtained, so the call was blocked."
    ]
    assert result.status == "completed"


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (RuntimeError("boom"), "evaluator_error"),
        (EvaluatorError("down"), "evaluator_error"),
        (TimeoutError("slow"), "evaluator_error"),
    ],
)
def test_evaluator_failure_fails_closed_by_default(exc: Exception, failure: str) -> None:
    bot, scripted = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=Raising(exc),
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    event = result.events[0]
    assert (event.status, event.failure, event.decision) == ("blocked", failure, None)
    assert outputs(scripted) == [
        "Not run: the policy check is unavailable, so the call was blocked. Do not retry it."
    ]


def test_fail_open_executes_and_marks_the_event() -> None:
    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=Raising(RuntimeError("boom")),
        fail_mode="open",
    )
    result = bot.run(bot.triggers["t"]())
    assert [name for name, _ in ran] == ["escalate"]
    event = result.events[0]
    assert (event.status, event.failure) == ("executed", "evaluator_error")
    assert "boom" in (event.error or "")


def test_action_fail_mode_overrides_the_bot() -> None:
    @action(fail_mode="closed")
    def careful(x: int) -> int:
        """Careful.

        Args:
            x: X.
        """
        ran.append(("careful", {"x": x}))
        return x

    bot, _ = make(
        [
            [function_call("careful", {"x": 1}), function_call("escalate", {"note": "n"})],
            [message("x")],
        ],
        actions=[careful, escalate],
        policy=Raising(RuntimeError("boom")),
        fail_mode="open",
    )
    result = bot.run(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["blocked", "executed"]
    assert [name for name, _ in ran] == ["escalate"]


def test_malformed_decision_is_a_failure_not_an_allow() -> None:
    class Sloppy:
        name = "sloppy"

        def evaluate(self, proposal: ProposedAction) -> Any:
            return {"recommendation": "proceed"}

    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=Sloppy(),
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    assert (result.events[0].status, result.events[0].failure) == ("blocked", "malformed")


def test_unknown_recommendation_blocks() -> None:
    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=StaticEvaluator(Decision(recommendation="maybe_later", mode="autonomous")),
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == [] and result.events[0].status == "blocked"


@pytest.mark.parametrize(
    ("enforcement", "recommendation", "status"),
    [
        ("shadow", "do_not_proceed", "executed"),
        ("advisory", "review_recommended", "executed"),
        ("advisory", "do_not_proceed", "blocked"),
        ("review", "proceed_with_caution", "approval_required"),
        ("enforced", "proceed_with_caution", "executed"),
    ],
)
def test_enforcement_modes(enforcement: str, recommendation: str, status: str) -> None:
    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=StaticEvaluator(Decision(recommendation=recommendation)),
        enforcement=enforcement,
    )
    result = bot.run(bot.triggers["t"]())
    assert result.events[0].status == status
    assert result.events[0].decision is not None
    assert result.events[0].decision.recommendation == recommendation


def test_invalid_calls_never_reach_the_evaluator() -> None:
    recorder = Recorder(refunds())
    bot, _ = make(
        [
            [
                function_call("issue_refund", {"customer": "c1"}),
                function_call("nope", {}),
                function_call("issue_refund", "{bad"),
            ],
            [message("x")],
        ],
        actions=[issue_refund],
        policy=recorder,
    )
    result = bot.run(bot.triggers["t"]())
    assert recorder.seen == []
    assert [e.status for e in result.events] == ["invalid", "invalid", "invalid"]


def test_proposal_carries_value_target_metadata_and_ids() -> None:
    recorder = Recorder(refunds())
    bot, _ = make(
        [
            [function_call("issue_refund", {"customer": "c9", "amount": 12.5}, call_id="call_1")],
            [message("x")],
        ],
        actions=[issue_refund],
        policy=recorder,
        actor="alice",
        domain="billing",
    )
    result = bot.run(bot.triggers["t"]())
    (p,) = recorder.seen
    assert (p.action, p.value, p.target, p.actor, p.domain) == (
        "issue_refund",
        12.5,
        "c9",
        "alice",
        "billing",
    )
    assert (p.bot, p.trigger, p.run_id, p.call_id) == ("gov", "t", result.run_id, "call_1")
    assert len(p.idempotency_key) == 64


def test_extractor_that_raises_is_a_tool_error_not_an_allow() -> None:
    @action(value_from_args=lambda args: args["amount"] / 0)
    def broken(amount: int) -> int:
        """Broken extractor.

        Args:
            amount: A.
        """
        ran.append(("broken", {}))
        return amount

    bot, scripted = make(
        [[function_call("broken", {"amount": 3})], [message("x")]], actions=[broken]
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    assert result.events[0].status == "tool_error"
    assert "extractor" in (result.events[0].error or "")
    assert outputs(scripted) == ["Error: broken could not be checked, so it was not run."]


def test_history_rule_counts_outcomes_across_runs() -> None:
    bot, _ = make(
        [
            [function_call("issue_refund", {"customer": "c", "amount": 1})],
            [message("x")],
            [function_call("issue_refund", {"customer": "c", "amount": 1})],
            [message("x")],
            [function_call("issue_refund", {"customer": "c", "amount": 1})],
            [message("x")],
        ],
        actions=[issue_refund],
        policy=refunds(),
    )
    statuses = [bot.run(bot.triggers["t"]()).events[0].status for _ in range(3)]
    assert statuses == ["executed", "executed", "approval_required"]


def test_secrets_never_leave_the_action() -> None:
    token = "sk-live-SUPERSECRET-123"
    events: list[ExecutionEvent] = []
    recorder = Recorder(StaticEvaluator(Decision(recommendation="proceed")))
    bot, scripted = make(
        [
            [
                function_call("call_vendor", {"endpoint": "/x", "api_token": token}),
                function_call("call_vendor", {"endpoint": "fail", "api_token": token}),
                function_call("call_vendor", {"endpoint": 5, "api_token": token}),
            ],
            [message("x")],
        ],
        actions=[call_vendor],
        policy=recorder,
        on_decision=events.append,
    )
    result = bot.run(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "tool_error", "invalid"]
    everything = result.model_dump_json() + json.dumps(outputs(scripted))
    everything += "".join(p.model_dump_json() for p in recorder.seen)
    everything += "".join(e.model_dump_json() for e in events)
    assert token not in everything
    assert "[REDACTED]" in everything
    assert result.events[0].arguments == {"endpoint": "/x", "api_token": "[REDACTED]"}


def test_on_decision_hook_failure_does_not_change_outcomes() -> None:
    def hook(event: ExecutionEvent) -> None:
        raise RuntimeError("observer broke")

    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        on_decision=hook,
    )
    result = bot.run(bot.triggers["t"]())
    assert result.events[0].status == "executed"


def test_policy_directory_loads_and_broken_directory_fails_at_startup(tmp_path: Path) -> None:
    bot = Bot(name="b", client=ScriptedResponses([]).client(), policy=ROOT / "policies")
    assert isinstance(bot.governance, Governance)
    assert isinstance(bot.governance.evaluator, LocalRulesEvaluator)
    (tmp_path / "bad.yaml").write_text(
        "policy: x\nversion: '1'\nrules:\n  - id: r\n    when: 'args.'\n"
    )
    with pytest.raises(PolicyError) as info:
        Bot(name="b", client=ScriptedResponses([]).client(), policy=tmp_path)
    assert "bad.yaml:" in str(info.value)


def test_governed_false_runs_every_valid_call() -> None:
    bot, _ = make(
        [[function_call("restart_cluster", {"cluster": "a"})], [message("x")]],
        actions=[restart_cluster],
        governed=False,
    )
    result = bot.run(bot.triggers["t"]())
    assert result.events[0].status == "executed" and result.events[0].decision is None


class _Timeout(EvaluatorError):
    failure = "timeout"


@pytest.mark.parametrize(
    ("exc", "status"),
    [(_Timeout("slow"), "executed"), (EvaluatorError("down"), "blocked")],
)
def test_fail_modes_per_failure_kind(exc: Exception, status: str) -> None:
    bot, _ = make(
        [[function_call("escalate", {"note": "n"})], [message("x")]],
        actions=[escalate],
        policy=Raising(exc),
        fail_modes={"timeout": "open"},
    )
    result = bot.run(bot.triggers["t"]())
    assert result.events[0].status == status
    assert result.events[0].failure == exc.failure  # type: ignore[attr-defined]


def test_unknown_fail_mode_is_a_configuration_error() -> None:
    from openai_trigger_bot import ConfigurationError

    with pytest.raises(ConfigurationError, match="'sometimes'"):
        Bot(name="b", client=ScriptedResponses([]).client(), fail_modes={"timeout": "sometimes"})  # type: ignore[dict-item]


class Batching:
    """An evaluator with evaluate_batch: several calls of one response arrive together."""

    name = "batching"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.batches: list[list[str]] = []

    def evaluate(self, proposal: ProposedAction) -> Decision:
        raise AssertionError("single evaluation should not be used for several calls")

    async def evaluate_batch(self, proposals: list[ProposedAction]) -> list[Any]:
        self.batches.append([p.call_id for p in proposals])
        return self.answers


def test_several_calls_are_decided_in_one_batch() -> None:
    evaluator = Batching(
        [Decision(recommendation="proceed"), "not a decision", EvaluatorError("item failed")]
    )
    bot, _ = make(
        [
            [function_call("escalate", {"note": str(i)}, call_id=f"c{i}") for i in range(3)],
            [message("x")],
        ],
        actions=[escalate],
        policy=evaluator,
    )
    result = bot.run(bot.triggers["t"]())
    assert evaluator.batches == [["c0", "c1", "c2"]]
    assert [(e.status, e.failure) for e in result.events] == [
        ("executed", None),
        ("blocked", "malformed"),
        ("blocked", "evaluator_error"),
    ]


def test_a_batch_of_the_wrong_length_blocks_every_call() -> None:
    evaluator = Batching([Decision(recommendation="proceed")])
    bot, _ = make(
        [
            [function_call("escalate", {"note": "a"}), function_call("escalate", {"note": "b"})],
            [message("x")],
        ],
        actions=[escalate],
        policy=evaluator,
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == []
    assert [e.failure for e in result.events] == ["malformed", "malformed"]


def test_a_rate_limit_holds_within_one_response() -> None:
    """Six refunds in one response: the velocity rule sees the earlier calls of the response."""
    bot, _ = make(
        [
            [function_call("issue_refund", {"customer": "c", "amount": 1}) for _ in range(6)],
            [message("x")],
        ],
        actions=[issue_refund],
        policy=refunds(),
    )
    result = bot.run(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "executed", *["approval_required"] * 4]
    assert len(ran) == 2


def test_secrets_stay_out_of_extractors_truncations_escapes_and_numbers() -> None:
    token = 'sk-"quoted"\\-SECRET-0123456789-abcdefghijklmnop'
    seen: list[ProposedAction] = []

    @action(
        secret=["token", "pin"],
        metadata_from_args=lambda a: dict(a),
        target_from_args=lambda a: a["token"],
    )
    def risky(token: str, pin: int, mode: Literal["a", "b"]) -> dict[str, object]:
        """Uses secrets.

        Args:
            token: A token.
            pin: A PIN.
            mode: A mode.
        """
        ran.append(("risky", {}))
        if mode == "b":
            raise RuntimeError("x" * 230 + token)
        return {"echo": token, "pin": pin, "json": json.dumps({"t": token})}

    recorder = Recorder(StaticEvaluator(Decision(recommendation="proceed")))
    recorder.seen = seen
    bot, scripted = make(
        [
            [
                function_call("risky", {"token": token, "pin": 987654, "mode": "a"}),
                function_call("risky", {"token": token, "pin": 987654, "mode": "b"}),
                function_call("risky", {"token": token, "pin": "x" + token, "mode": "c"}),
            ],
            [message("x")],
        ],
        actions=[risky],
        policy=recorder,
    )
    result = bot.run(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "tool_error", "invalid"]
    assert result.action_calls[0].ok  # a numeric secret in the output is redacted, not an error
    everything = result.model_dump_json() + json.dumps(outputs(scripted))
    everything += "".join(p.model_dump_json() for p in seen)
    for fragment in (token, token[:30], json.dumps(token)[1:-1], "987654"):
        assert fragment not in everything, fragment


def test_a_validator_that_raises_anything_is_an_invalid_call() -> None:
    from pydantic import BaseModel, field_validator

    class Ref(BaseModel):
        value: str

        @field_validator("value")
        @classmethod
        def split(cls, v: str) -> str:
            return v.split(":")[1]  # IndexError on bad input: not a ValueError

    @action
    def use_ref(ref: Ref) -> str:
        """Use a reference.

        Args:
            ref: The reference.
        """
        ran.append(("use_ref", {}))
        return ref.value

    bot, scripted = make(
        [[function_call("use_ref", {"ref": {"value": "no-colon"}})], [message("x")]],
        actions=[use_ref],
    )
    result = bot.run(bot.triggers["t"]())
    assert ran == [] and result.status == "completed"
    assert result.events[0].status == "invalid"
    assert "IndexError" in outputs(scripted)[0]


def test_the_run_deadline_bounds_a_hung_decision() -> None:
    """The decision hangs (for 30 s, then it would allow the call); the run's deadline, 0.05 s
    away when it starts, cuts it. The run's clock is fake: the model "takes" all but 0.05 s
    of the 60 s budget, so the deadline falls after the first round however slow the machine,
    and the time the decision hung for passes on that clock too."""
    import asyncio

    from .governance._helpers import FakeClock

    clock = FakeClock(0.0)

    class Hung:
        name = "hung"

        async def evaluate(self, proposal: ProposedAction) -> Decision:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                clock.now = 60.0  # it hung until the deadline
                raise
            return Decision(recommendation="proceed")

    def model(body: dict[str, Any]) -> list[dict[str, Any]]:
        if "previous_response_id" in body:
            return [message("x")]
        clock.now = 59.95
        return [function_call("escalate", {"note": "n"})]

    scripted = ScriptedResponses(model)
    bot = Bot(
        name="b",
        client=scripted.async_client(),
        settings=BotSettings(timeout_s=60),
        policy=Hung(),
        clock=clock,
    )
    bot.register_actions(escalate)

    @bot.trigger("t", prompt="p", hidden_actions=[escalate])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert ran == []
    assert (result.events[0].status, result.events[0].failure) == ("blocked", "timeout")
    assert result.status == "deadline"


def test_history_rules_work_behind_a_fallback() -> None:
    from openai_trigger_bot.governance import Fallback

    policy = Fallback(Raising(RuntimeError("service down")), refunds())
    steps: list[Any] = []
    for _ in range(3):
        steps += [[function_call("issue_refund", {"customer": "c", "amount": 1})], [message("x")]]
    bot, _ = make(steps, actions=[issue_refund], policy=policy)
    statuses = [bot.run(bot.triggers["t"]()).events[0].status for _ in range(3)]
    assert statuses == ["executed", "executed", "approval_required"]
