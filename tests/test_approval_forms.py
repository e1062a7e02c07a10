"""Approval handlers in both forms, and answers that are not understood (issue 8, item 17)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from openai_trigger_bot import ApprovalRequest, Bot, BotSettings, action
from openai_trigger_bot.governance import Decision, ExecutionEvent, ProposedAction
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[str] = []


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


@action(risk="high", target_from_args="cluster")
def restart_cluster(cluster: str) -> str:
    """Restart a cluster.

    Args:
        cluster: Cluster name.
    """
    ran.append(cluster)
    return "restarted"


def run_with(handler: Any) -> tuple[list[ExecutionEvent], str, ScriptedResponses]:
    scripted = ScriptedResponses(
        [[function_call("restart_cluster", {"cluster": "prod-eu"})], [message("done")]]
    )
    seen: list[ExecutionEvent] = []
    bot = Bot(
        name="b",
        client=scripted.client(),
        settings=BotSettings(),
        approval_handler=handler,
        on_decision=seen.append,
    )
    bot.register_actions(restart_cluster)

    @bot.trigger("t", prompt="p", hidden_actions=[restart_cluster])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert list(result.events) == seen
    return result.events, result.status, scripted


def test_one_argument_handler_gets_an_approval_request_and_approves() -> None:
    asked: list[ApprovalRequest] = []

    def handler(request: ApprovalRequest) -> dict[str, str]:
        asked.append(request)
        return {"resolution": "approved", "comment": "change window open"}

    events, status, _ = run_with(handler)
    assert ran == ["prod-eu"]
    assert events[0].status == "executed"
    assert status == "completed"
    (request,) = asked
    assert isinstance(request, ApprovalRequest)
    assert request.proposal.action == "restart_cluster"
    assert request.proposal.target == "prod-eu"
    assert request.decision.recommendation == "review_recommended"
    with pytest.raises(ValueError):  # frozen: a handler cannot rewrite what it was asked
        request.proposal = request.proposal  # type: ignore[misc]


def test_one_argument_handler_denies_with_a_comment() -> None:
    def handler(request: ApprovalRequest) -> dict[str, str]:
        return {"resolution": "denied", "comment": "not during the sale"}

    events, _, scripted = run_with(handler)
    assert ran == []
    assert events[0].status == "denied"
    assert events[0].error == "denied by a reviewer: not during the sale"
    assert events[0].failure is None  # a person's decision, not a fault
    sent = scripted.requests[1]["input"][0]["output"]
    assert "declined" in sent


async def test_async_one_argument_handler() -> None:
    async def handler(request: ApprovalRequest) -> dict[str, str]:
        return {"resolution": "approved"}

    scripted = ScriptedResponses(
        [[function_call("restart_cluster", {"cluster": "a"})], [message("done")]]
    )
    bot = Bot(name="b", client=scripted.async_client(), approval_handler=handler)
    bot.register_actions(restart_cluster)

    @bot.trigger("t", prompt="p", hidden_actions=[restart_cluster])
    def t() -> dict[str, str]:
        return {}

    result = await bot.arun(t())
    assert [e.status for e in result.events] == ["executed"]
    assert ran == ["a"]


def test_two_argument_handler_keeps_working() -> None:
    def handler(proposal: ProposedAction, decision: Decision) -> bool:
        return proposal.target == "prod-eu" and decision.recommendation == "review_recommended"

    events, _, _ = run_with(handler)
    assert events[0].status == "executed"
    assert ran == ["prod-eu"]


@pytest.mark.parametrize(
    "answer",
    [
        {"resolution": "approve"},  # a near miss is not an approval
        {"status": "approved"},
        {"resolution": True},
        "approved",
        "yes",
        1,
        0,
        [],
        object(),
    ],
)
def test_an_answer_not_understood_blocks_fail_closed(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: ApprovalRequest) -> object:
        return answer

    with caplog.at_level(logging.ERROR, logger="openai_trigger_bot.governance"):
        events, _, scripted = run_with(handler)
    assert ran == []
    event = events[0]
    assert event.status == "blocked"  # never recorded as a person's denial, never deferred
    assert event.failure == "approval_error"
    assert event.error is not None and "not understood" in event.error
    assert any("not understood" in r.getMessage() for r in caplog.records)
    sent = scripted.requests[1]["input"][0]["output"]
    assert sent.startswith("Not run")


def test_two_argument_handler_with_an_odd_answer_blocks_too() -> None:
    def handler(proposal: ProposedAction, decision: Decision) -> str:
        return "sure"

    events, _, _ = run_with(handler)
    assert ran == []
    assert (events[0].status, events[0].failure) == ("blocked", "approval_error")


def test_none_still_defers() -> None:
    events, status, _ = run_with(lambda request: None)
    assert ran == []
    assert events[0].status == "approval_required"
    assert status == "approval_required"


def test_a_two_argument_handler_with_a_default_gets_the_proposal_and_the_decision() -> None:
    got: list[tuple[type, type]] = []

    def handler(proposal: ProposedAction, decision: Decision | None = None) -> bool:
        got.append((type(proposal), type(decision)))
        return False

    events, _, _ = run_with(handler)
    assert got == [(ProposedAction, Decision)]
    assert events[0].status == "denied"
