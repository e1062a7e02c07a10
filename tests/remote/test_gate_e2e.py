"""A bot governed by a RemoteEvaluator, end to end through the gate (real local service).

While the service fails, ``fail_mode="closed"`` runs nothing and ``"open"`` runs the calls and
marks the events; ``Fallback(remote, local rules)`` decides locally. Healthy-service decisions
(deny, approval) are enforced as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.governance import Fallback, LocalRulesEvaluator
from openai_trigger_bot.governance.remote import BreakerPolicy, RemoteEvaluator, RetryPolicy
from openai_trigger_bot.governance.remote.testing import FakeDecisionService, Fault
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[dict[str, Any]] = []

LOCAL_POLICY = """
policy: local-refunds
version: "3"
default: {recommendation: do_not_proceed, reason: unlisted}
rules:
  - id: small
    actions: [issue_refund]
    when: 'value <= 50'
    decision: proceed
"""


@action(value_from_args="amount", target_from_args="customer", system="stripe")
def issue_refund(customer: str, amount: float) -> str:
    """Refund a customer.

    Args:
        customer: Customer id.
        amount: Amount in EUR.
    """
    ran.append({"customer": customer, "amount": amount})
    return "refunded"


@pytest.fixture(autouse=True)
def _clear() -> Iterator[None]:
    ran.clear()
    yield
    ran.clear()


def run(policy: Any, amounts: list[float], **bot_options: Any) -> Any:
    """One trigger run whose model proposes one refund per amount, in one response."""
    calls = [
        function_call("issue_refund", {"customer": f"c{i}", "amount": a})
        for i, a in enumerate(amounts)
    ]
    scripted = ScriptedResponses([calls, [message("done")]])
    bot = Bot(
        name="refund-bot",
        client=scripted.client(),
        settings=BotSettings(),
        policy=policy,
        **bot_options,
    )
    bot.register_actions(issue_refund)

    @bot.trigger("refunds", prompt="Handle refunds.", hidden_actions=[issue_refund])
    def refunds() -> dict[str, str]:
        return {}

    return bot.run(refunds())


def remote(service: FakeDecisionService, **options: Any) -> RemoteEvaluator:
    options.setdefault("retry", RetryPolicy(attempts=2, backoff=0.001, jitter=0))
    options.setdefault("breaker", BreakerPolicy(fail_max=2, reset_timeout=60))
    return RemoteEvaluator(service.base_url, **options)


def test_a_healthy_service_decides_each_call(service: FakeDecisionService) -> None:
    service.native = lambda p: (
        {"recommendation": "proceed", "policy_version": "v9"}
        if p["value"] <= 100
        else {"recommendation": "do_not_proceed", "reason": "too big", "better_action": "escalate"}
    )
    evaluator = remote(service)
    try:
        result = run(evaluator, [20, 900])
    finally:
        evaluator.close()
    assert ran == [{"customer": "c0", "amount": 20.0}]
    ok, blocked = result.events
    assert (ok.status, blocked.status) == ("executed", "blocked")
    assert ok.decision.evaluator == "remote-native" and ok.decision.policy_version == "v9"
    assert blocked.decision.reason == "too big"
    # the two calls of one model response went to the service as one batch
    (batch,) = service.requests
    assert batch.path == "/v1/decisions:batch" and len(batch.body["proposals"]) == 2
    (sent,) = [p for p in batch.body["proposals"] if p["target"] == "c0"]
    assert (sent["action"], sent["value"], sent["target"], sent["bot"]) == (
        "issue_refund",
        20,
        "c0",
        "refund-bot",
    )
    assert sent["trigger"] == "refunds" and sent["metadata"]["system"] == "stripe"


def test_authzen_access_request_suspends_for_approval(service: FakeDecisionService) -> None:
    service.authzen = lambda r: {"decision": False, "context": {"reason": "approval_required"}}
    evaluator = remote(service, protocol="authzen")
    try:
        result = run(evaluator, [20])
    finally:
        evaluator.close()
    assert ran == []
    assert result.status == "approval_required"
    assert result.events[0].decision.recommendation == "review_recommended"


@pytest.mark.parametrize(
    ("fault", "kind", "then"),
    [
        (Fault.error(503), "http_error", "circuit_open"),
        (Fault.error(500), "http_error", "circuit_open"),
        (Fault.malformed(), "malformed", "circuit_open"),
        (Fault(undefined=True), "no_decision", "no_decision"),  # not a service failure
    ],
)
def test_fail_closed_runs_nothing_while_the_service_fails(
    service: FakeDecisionService, fault: Fault, kind: str, then: str
) -> None:
    service.fault = fault
    evaluator = remote(service, protocol="opa" if fault.undefined else "native")
    try:
        first = run(evaluator, [1, 2, 3])  # three calls in one response: one batch decision
        second = run(evaluator, [4])  # fail_max=2: a counted failure here opens the circuit
        asked = service.request_count
        third = run(evaluator, [5])
    finally:
        evaluator.close()
    assert ran == []
    events = [*first.events, *second.events, *third.events]
    assert [e.status for e in events] == ["blocked"] * 5
    assert all(e.decision is None for e in events)
    # the calls fail on their own (retries count too) until the circuit opens
    assert kind in {e.failure for e in first.events}
    assert {e.failure for e in [*first.events, *second.events]} <= {kind, "circuit_open"}
    assert third.events[0].failure == then
    if then == "circuit_open":
        assert service.request_count == asked  # the open circuit sent nothing


def test_fail_closed_when_nothing_listens(refused_url: str) -> None:
    evaluator = RemoteEvaluator(refused_url, retry=RetryPolicy(attempts=1))
    try:
        result = run(evaluator, [1])
    finally:
        evaluator.close()
    assert ran == [] and result.events[0].failure == "transport_error"


def test_fail_closed_on_timeout(service: FakeDecisionService) -> None:
    service.fault = Fault.slow(30.0)  # hung: only the read timeout can end the call
    evaluator = remote(service, read_timeout=0.05, retry=RetryPolicy(attempts=1))
    try:
        result = run(evaluator, [1])
    finally:
        evaluator.close()
    assert ran == [] and (result.events[0].status, result.events[0].failure) == (
        "blocked",
        "timeout",
    )


def test_fail_open_runs_the_calls_and_marks_them(service: FakeDecisionService) -> None:
    service.fault = Fault.error(503)
    evaluator = remote(service)
    try:
        result = run(evaluator, [1, 2, 3], fail_mode="open")
    finally:
        evaluator.close()
    assert len(ran) == 3
    assert [e.status for e in result.events] == ["executed"] * 3
    failures = [e.failure for e in result.events]
    assert "http_error" in failures and set(failures) <= {"http_error", "circuit_open"}
    assert any("503" in (e.error or "") for e in result.events)


def test_fallback_decides_locally_while_the_service_is_down(service: FakeDecisionService) -> None:
    service.fault = Fault.error(503)
    evaluator = remote(service)
    fallback = Fallback(evaluator, LocalRulesEvaluator.from_yaml_string(LOCAL_POLICY))
    try:
        result = run(fallback, [20, 900])
        service.fault = Fault()  # circuit is open: still local, without asking the service
        asked = service.request_count
        again = run(fallback, [30])
    finally:
        evaluator.close()
    assert [r["amount"] for r in ran] == [20.0, 30.0]
    assert [e.status for e in result.events] == ["executed", "blocked"]
    assert {e.decision.policy_id for e in [*result.events, *again.events]} == {"local-refunds"}
    assert all(e.failure is None for e in result.events)
    assert fallback.fallbacks == 3 and service.request_count == asked
