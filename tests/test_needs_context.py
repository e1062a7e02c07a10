"""A ``needs_context`` decision asks the model, not a person: the call does not run, the model
hears the policy's question, and the run goes on so that it can propose the call again."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot import (
    Bot,
    BotSettings,
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    SQLiteMemoryStore,
    action,
)
from openai_trigger_bot.governance import Decision, LocalRulesEvaluator, ProposedAction
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

QUESTION = "Which support ticket asks for this refund? Pass its id as `ticket`."
TOLD = f"Not run yet: the policy needs more context: {QUESTION} Gather it, then call again."

POLICY = f"""
policy: refunds
version: "2"
default: {{recommendation: do_not_proceed, reason: unlisted}}
rules:
  - id: with-ticket
    actions: [issue_refund]
    when: 'args.ticket != ""'
    decision: proceed
  - id: needs-ticket
    actions: [issue_refund]
    when: 'args.ticket == ""'
    decision: {{recommendation: review_recommended, mode: needs_context, reason: "{QUESTION}"}}
  - id: stop-asking
    actions: [issue_refund]
    when: 'history.needs_context >= 2'
    history: {{window: 1h}}
    decision: {{recommendation: do_not_proceed, reason: asked twice}}
"""

ran: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def _clear() -> Iterator[None]:
    ran.clear()
    yield
    ran.clear()


@action(value_from_args="amount", target_from_args="customer")
def issue_refund(customer: str, amount: float, ticket: str = "") -> str:
    """Refund a customer.

    Args:
        customer: Customer id.
        amount: Amount in EUR.
        ticket: The support ticket asking for the refund.
    """
    ran.append({"customer": customer, "amount": amount, "ticket": ticket})
    return "refunded"


def first_without_then_with_ticket() -> list[Any]:
    return [
        [function_call("issue_refund", {"customer": "c1", "amount": 20})],
        [function_call("issue_refund", {"customer": "c1", "amount": 20, "ticket": "T-9"})],
        [message("done")],
    ]


def make(steps: list[Any], **bot_kwargs: Any) -> tuple[Bot, ScriptedResponses]:
    scripted = ScriptedResponses(steps)
    bot_kwargs.setdefault("policy", LocalRulesEvaluator.from_yaml_string(POLICY))
    bot = Bot(name="refund-bot", client=scripted.client(), settings=BotSettings(), **bot_kwargs)
    bot.register_actions(issue_refund)

    @bot.trigger(
        "refunds",
        prompt="Handle refunds.",
        hidden_actions=[issue_refund],
        memory_request=MemoryRequest(scopes=("global",), query="refunds"),
    )
    def refunds() -> dict[str, str]:
        return {}

    return bot, scripted


def told(scripted: ScriptedResponses, request: int) -> list[str]:
    """The tool outputs sent to the model in one request."""
    return [
        str(item["output"])
        for item in scripted.requests[request]["input"]
        if item.get("type") == "function_call_output"
    ]


class Handler:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, proposal: ProposedAction, decision: Decision) -> bool:
        self.asked.append(proposal.action)
        return True


@pytest.mark.parametrize("enforcement", ["enforced", "review"])
def test_the_model_is_asked_for_the_context_and_proposes_again(enforcement: str) -> None:
    handler = Handler()
    bot, scripted = make(
        first_without_then_with_ticket(), approval_handler=handler, enforcement=enforcement
    )
    result = bot.run(bot.triggers["refunds"]())
    first, second = result.events
    assert first.status == "needs_context"
    assert first.decision is not None and first.decision.mode == "needs_context"
    assert first.message_to_model == TOLD
    assert told(scripted, 1) == [TOLD]  # the policy's question reached the model
    assert second.status == "executed"
    assert ran == [{"customer": "c1", "amount": 20.0, "ticket": "T-9"}]
    assert handler.asked == []  # no person was asked
    assert result.status == "completed" and result.text == "done"
    assert len(scripted.requests) == 3


def test_without_a_handler_the_run_does_not_suspend() -> None:
    bot, scripted = make(first_without_then_with_ticket())
    result = bot.run(bot.triggers["refunds"]())
    assert [e.status for e in result.events] == ["needs_context", "executed"]
    assert result.status == "completed"
    assert len(scripted.requests) == 3  # not suspended after the first round


@pytest.mark.parametrize("enforcement", ["advisory", "shadow"])
def test_advisory_and_shadow_execute_it(enforcement: str) -> None:
    handler = Handler()
    bot, _ = make(
        [[function_call("issue_refund", {"customer": "c1", "amount": 20})], [message("ok")]],
        approval_handler=handler,
        enforcement=enforcement,
    )
    result = bot.run(bot.triggers["refunds"]())
    assert [e.status for e in result.events] == ["executed"]
    assert result.events[0].decision is not None
    assert result.events[0].decision.mode == "needs_context"
    assert ran == [{"customer": "c1", "amount": 20.0, "ticket": ""}]
    assert handler.asked == []


def test_a_hard_stop_with_needs_context_still_blocks() -> None:
    policy = LocalRulesEvaluator.from_yaml_string(
        "policy: p\nversion: '1'\ndefault: {recommendation: do_not_proceed, "
        "mode: needs_context, reason: 'internal R-3'}\n"
    )
    bot, scripted = make(
        [[function_call("issue_refund", {"customer": "c1", "amount": 20})], [message("ok")]],
        policy=policy,
    )
    result = bot.run(bot.triggers["refunds"]())
    assert result.events[0].status == "blocked"
    assert told(scripted, 1) == ["Not run: blocked by policy."]  # no internals for a block
    assert ran == []


def test_history_counts_it_across_runs() -> None:
    """``history.needs_context`` counts every needs_context outcome: the third ask is blocked."""
    one = [[function_call("issue_refund", {"customer": "c1", "amount": 20})], [message("x")]]
    bot, _ = make(one * 3)
    statuses = [bot.run(bot.triggers["refunds"]()).events[0].status for _ in range(3)]
    assert statuses == ["needs_context", "needs_context", "blocked"]
    assert ran == []


def test_memory_capture_and_outcome_reports_record_it(tmp_path: Path) -> None:
    reports: list[dict[str, Any]] = []
    lock = threading.Lock()

    def service(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with lock:
            reports.extend(body["reports"])
        return httpx.Response(200, json={"accepted": len(body["reports"]), "duplicates": 0})

    outbox = OutcomeOutbox(
        tmp_path / "outbox.db",
        url="http://decisions.test",
        token="t0k",
        transport=httpx.MockTransport(service),
    )
    memory = MemoryManager(store=SQLiteMemoryStore(tmp_path / "m.db"), embedder=HashingEmbedder())
    try:
        bot, _ = make(first_without_then_with_ticket(), outbox=outbox, memory=memory)
        result = bot.run(bot.triggers["refunds"]())
        assert [e.status for e in result.events] == ["needs_context", "executed"]
        assert outbox.flush(timeout=30)
        with lock:
            assert sorted(r["event"]["status"] for r in reports) == ["executed", "needs_context"]
        block = memory.recall(MemoryRequest(scopes=("global",), recent_limit=10), query="refund")
        assert block is not None and "issue_refund on c1: needs_context" in block
        counts = memory.history.counts("issue_refund", since=0.0)
        assert counts["needs_context"] == 1 and counts["executed"] == 1
    finally:
        outbox.close()
        memory.close()


REMOTE_POLICY = POLICY.split("  - id: stop-asking")[0]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("starlette", reason="the server extra is not installed")
    pytest.importorskip("uvicorn", reason="the server extra is not installed")
    from openai_trigger_bot.server import create_app, serve_in_thread

    root = tmp_path_factory.mktemp("serve")
    (root / "policies").mkdir()
    (root / "policies" / "refunds.yaml").write_text(REMOTE_POLICY)
    app = create_app(root / "policies", token="t" * 24, db_path=root / "r.db", reload_interval=None)
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(serve_in_thread(app))


@pytest.mark.parametrize("protocol", ["native", "authzen"])
def test_a_remote_needs_context_decision_behaves_the_same(server_url: str, protocol: str) -> None:
    from openai_trigger_bot.governance.remote import RemoteEvaluator

    handler = Handler()
    evaluator = RemoteEvaluator(server_url, protocol=protocol, token="t" * 24)  # type: ignore[arg-type]
    try:
        bot, scripted = make(
            first_without_then_with_ticket(), policy=evaluator, approval_handler=handler
        )
        result = bot.run(bot.triggers["refunds"]())
    finally:
        evaluator.close()
    assert [e.status for e in result.events] == ["needs_context", "executed"]
    assert told(scripted, 1) == [TOLD]
    assert handler.asked == [] and result.status == "completed"


def test_a_policy_test_can_expect_needs_context(tmp_path: Path) -> None:
    from openai_trigger_bot.governance.rules import run_policy_tests

    tests = """
tests:
  - name: a refund without a ticket asks the model for one
    proposal: {action: issue_refund, args: {customer: c1, amount: 20, ticket: ""}}
    expect: {outcome: needs_context, mode: needs_context}
  - name: under advisory it runs
    proposal: {action: issue_refund, args: {customer: c1, amount: 20, ticket: ""}}
    expect: {outcome: execute, enforcement: advisory}
"""
    (tmp_path / "refunds.yaml").write_text(REMOTE_POLICY + tests)
    report = run_policy_tests(tmp_path / "refunds.yaml")
    assert report.ok and report.passed == 2, [r.failures for r in report.failed]
