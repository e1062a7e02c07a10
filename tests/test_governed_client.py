"""The message-driven entry point: a thin layer over the same runner and gate."""

from __future__ import annotations

from typing import Any

import pytest

from openai_trigger_bot import ActionDefinitionError, GovernedClient, UsageError, action
from openai_trigger_bot.governance import Decision, ProposedAction
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[str] = []


def refund(order_id: str, amount: float) -> str:
    """Refund an order.

    Args:
        order_id: The order.
        amount: Amount in EUR.
    """
    ran.append(order_id)
    return "refunded"


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


def test_tool_run_and_list_tools() -> None:
    scripted = ScriptedResponses(
        [[function_call("issue_refund", {"order_id": "42", "amount": 10})], [message("done")]]
    )
    with GovernedClient(scripted.client()) as gc:
        gc.tool("issue_refund", refund, value_from_args="amount", system="stripe")
        assert [t["name"] for t in gc.list_tools()] == ["issue_refund"]
        result = gc.run(
            messages=[{"role": "user", "content": "Refund order 42"}],
            model="gpt-5.2-mini",
            instructions="You are a billing assistant.",
        )
    assert result.status == "completed" and ran == ["42"]
    body = scripted.requests[0]
    assert body["model"] == "gpt-5.2-mini"
    assert body["instructions"] == "You are a billing assistant."
    assert body["input"] == [{"role": "user", "content": "Refund order 42"}]
    assert body["store"] is True and body["prompt_cache_key"] == "governed-client:messages"
    assert scripted.requests[1]["previous_response_id"] == result.model_calls[0].response_id
    assert result.events[0].decision is not None


def test_register_tool_accepts_actions_and_functions() -> None:
    @action(risk="low")
    def lookup(order_id: str) -> str:
        """Look an order up.

        Args:
            order_id: The order.
        """
        return order_id

    gc = GovernedClient(ScriptedResponses([]).client())
    gc.register_tool(lookup)
    gc.register_tool(refund, risk="high")
    assert [t["name"] for t in gc.list_tools()] == ["lookup", "refund"]
    with pytest.raises(UsageError, match="options go into @action"):
        gc.register_tool(lookup, risk="high")


def test_run_with_approval_is_asked_for_risky_calls() -> None:
    asked: list[str] = []

    def approve(proposal: ProposedAction, decision: Decision) -> bool:
        asked.append(proposal.action)
        return True

    scripted = ScriptedResponses(
        [[function_call("refund", {"order_id": "7", "amount": 1})], [message("ok")]]
    )
    gc = GovernedClient(scripted.client())
    gc.register_tool(refund, risk="high")
    result = gc.run_with_approval(
        [{"role": "user", "content": "refund 7"}], on_approval_required=approve
    )
    assert asked == ["refund"] and ran == ["7"]
    assert result.events[0].status == "executed"
    # without the handler, the same call waits for approval
    scripted2 = ScriptedResponses([[function_call("refund", {"order_id": "8", "amount": 1})]])
    gc2 = GovernedClient(scripted2.client())
    gc2.register_tool(refund, risk="high")
    assert gc2.run([{"role": "user", "content": "x"}]).status == "approval_required"
    assert ran == ["7"]


async def test_async_run_and_context_manager() -> None:
    scripted = ScriptedResponses([[message("nothing to do")]])
    async with GovernedClient(scripted.async_client()) as gc:
        gc.tool("refund", refund)
        result = await gc.arun([{"role": "user", "content": "hi"}])
    assert result.status == "completed" and ran == []


@pytest.mark.parametrize(
    "messages",
    [[], "hello", [{"content": "no role"}], [{"role": "user"}], ["text"]],
)
def test_malformed_messages_are_refused_before_any_call(messages: Any) -> None:
    scripted = ScriptedResponses([[message("x")]])
    gc = GovernedClient(scripted.client())
    with pytest.raises(UsageError):
        gc.run(messages)
    assert scripted.requests == []


def test_bad_tool_definition_fails_at_registration() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    gc = GovernedClient(ScriptedResponses([]).client())
    with pytest.raises(ActionDefinitionError):
        gc.tool("untyped", untyped)
    with pytest.raises(ActionDefinitionError, match="risk"):
        gc.tool("refund", refund, risk="extreme")
