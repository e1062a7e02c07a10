"""Approval requests bound to the exact call, with an expiry; ``Approval`` answers; the approval
recorded on the event; a raising handler fails closed (issue 10 §2, first slice)."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from pydantic import ValidationError

from openai_trigger_bot import (
    ActionDefinitionError,
    Approval,
    ApprovalRequest,
    Bot,
    BotSettings,
    RunResult,
    action,
)
from openai_trigger_bot.governance import ApprovalRecord, ExecutionEvent, binding_hash
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from ._ops_bot import clear_ran as clear_ran  # autouse: each test starts with nothing ran
from ._ops_bot import ran


@action(risk="high")
def restart_cluster(cluster: str, force: bool) -> str:
    """Restart a cluster.

    Args:
        cluster: Cluster name.
        force: Skip draining.
    """
    ran.append(cluster)
    return "restarted"


@action(risk="high", approval_ttl_s=30)
def drop_table(table: str) -> str:
    """Drop a table.

    Args:
        table: Table name.
    """
    ran.append(table)
    return "dropped"


def run_with(
    handler: Any, *, call: Any = None, settings: BotSettings | None = None
) -> tuple[RunResult, ScriptedResponses]:
    call = call or function_call("restart_cluster", {"cluster": "prod", "force": False})
    scripted = ScriptedResponses([[call], [message("done")]])
    bot = Bot(
        name="b",
        client=scripted.client(),
        settings=settings or BotSettings(),
        approval_handler=handler,
    )
    bot.register_actions(restart_cluster, drop_table)

    @bot.trigger("t", prompt="p", hidden_actions=[restart_cluster, drop_table])
    def t() -> dict[str, str]:
        return {}

    return bot.run(t()), scripted


# -- the binding hash -------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "action": "restart_cluster",
    "arguments": {"cluster": "prod", "force": False, "tags": {"a": 1, "b": [1, 2]}},
    "policy_id": "ops",
    "policy_version": "7",
    "run_id": "run-1",
    "call_id": "call-1",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "drop_table"),
        ("arguments", {"cluster": "prod", "force": True, "tags": {"a": 1, "b": [1, 2]}}),
        ("arguments", {"cluster": "prod", "force": False, "tags": {"a": 1, "b": [2, 1]}}),
        ("arguments", {"cluster": "prod", "force": False}),
        ("arguments", {"cluster": "prod", "force": 0, "tags": {"a": 1, "b": [1, 2]}}),
        ("policy_id", "ops2"),
        ("policy_id", None),
        ("policy_version", "8"),
        ("policy_version", None),
        ("run_id", "run-2"),
        ("call_id", "call-2"),
    ],
)
def test_any_field_change_changes_the_binding_hash(field: str, value: Any) -> None:
    assert binding_hash(**{**BASE, field: value}) != binding_hash(**BASE)


def test_the_binding_hash_ignores_key_order_and_is_sha256_hex() -> None:
    reordered = {"tags": {"b": [1, 2], "a": 1}, "force": False, "cluster": "prod"}
    digest = binding_hash(**BASE)
    assert binding_hash(**{**BASE, "arguments": reordered}) == digest
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")


def test_fields_cannot_be_confused_across_positions() -> None:
    # the same strings in different fields are a different call
    a = binding_hash("x", {}, "p", "1", "r", "c")
    b = binding_hash("x", {}, "p", "1", "c", "r")
    assert a != b


# -- the request ------------------------------------------------------------------------------


def test_the_request_carries_id_binding_expiry_run_and_call() -> None:
    asked: list[ApprovalRequest] = []

    def handler(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    before = time.time()
    result, _ = run_with(handler, settings=BotSettings(approval_ttl_s=120))
    after = time.time()
    (request,) = asked
    assert len(request.id) == 32 and int(request.id, 16) >= 0
    assert request.run_id == result.run_id == request.proposal.run_id
    assert request.call_id == result.events[0].call_id == request.proposal.call_id
    assert request.binding_hash == binding_hash(
        "restart_cluster",
        {"cluster": "prod", "force": False},
        request.decision.policy_id,
        request.decision.policy_version,
        result.run_id,
        request.call_id,
    )
    assert before + 120 <= request.expires_at <= after + 120
    record = result.events[0].approval
    assert record is not None
    assert (record.id, record.binding_hash, record.expires_at) == (
        request.id,
        request.binding_hash,
        request.expires_at,
    )


def test_request_ids_are_unique_per_request() -> None:
    ids: list[str] = []

    def handler(request: ApprovalRequest) -> bool:
        ids.append(request.id)
        return False

    for _ in range(3):
        run_with(handler)
    assert len(set(ids)) == 3


def test_the_default_ttl_is_an_hour_and_an_action_overrides_it() -> None:
    asked: list[ApprovalRequest] = []

    def handler(request: ApprovalRequest) -> None:
        asked.append(request)

    before = time.time()
    run_with(handler)
    run_with(
        handler,
        call=function_call("drop_table", {"table": "users"}),
        settings=BotSettings(approval_ttl_s=999),
    )
    after = time.time()
    default, overridden = asked
    assert before + 3600 <= default.expires_at <= after + 3600
    assert before + 30 <= overridden.expires_at <= after + 30


def _lookup(table: str) -> str:
    """Look a table up.

    Args:
        table: Table name.
    """
    return table


@pytest.mark.parametrize("ttl", [0, -1, math.inf, math.nan])
def test_a_ttl_must_be_positive_and_finite(ttl: float) -> None:
    with pytest.raises(ValidationError, match="approval_ttl_s"):
        BotSettings(approval_ttl_s=ttl)
    with pytest.raises(ActionDefinitionError, match="approval_ttl_s"):
        action(approval_ttl_s=ttl)(_lookup)


def test_an_action_ttl_must_be_a_number() -> None:
    for bad in (True, "30"):
        with pytest.raises(ActionDefinitionError, match="approval_ttl_s"):
            action(approval_ttl_s=bad)(_lookup)


# -- Approval answers -------------------------------------------------------------------------


def test_an_approval_record_runs_the_call_and_names_the_approver() -> None:
    result, _ = run_with(
        lambda request: Approval(approved=True, approver="alice", comment="change window")
    )
    assert ran == ["prod"]
    event = result.events[0]
    assert event.status == "executed"
    assert event.approval is not None
    assert (event.approval.resolution, event.approval.approver, event.approval.comment) == (
        "approved",
        "alice",
        "change window",
    )


def test_an_approval_record_that_says_no_denies_with_the_approver() -> None:
    result, scripted = run_with(
        lambda proposal, decision: Approval(approved=False, approver="bob", comment="freeze")
    )
    assert ran == []
    event = result.events[0]
    assert event.status == "denied" and event.failure is None
    assert event.approval is not None
    assert (event.approval.resolution, event.approval.approver) == ("denied", "bob")
    assert "freeze" in (event.error or "")
    assert scripted.requests[1]["input"][0]["output"].startswith("Not run: a reviewer declined")


def test_approval_is_strict_and_an_edit_is_a_json_object() -> None:
    with pytest.raises(ValidationError):
        Approval(approved="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="arguments"):
        Approval(approved=True, arguments=["cluster", "dev"])  # type: ignore[arg-type]
    assert Approval(approved=True, arguments={"cluster": "dev"}).arguments == {"cluster": "dev"}
    with pytest.raises(ValidationError):  # frozen
        Approval(approved=True).approved = False  # type: ignore[misc]


def test_dict_answers_record_the_comment_and_no_approver() -> None:
    result, _ = run_with(lambda request: {"resolution": "approved", "comment": "ok"})
    record = result.events[0].approval
    assert record is not None
    assert (record.resolution, record.approver, record.comment) == ("approved", None, "ok")


@pytest.mark.parametrize(
    ("handler", "resolution", "status"),
    [
        (None, "pending", "approval_required"),
        (lambda request: None, "pending", "approval_required"),
        (lambda request: "yes", "error", "blocked"),
    ],
)
def test_every_asked_call_records_its_approval(handler: Any, resolution: str, status: str) -> None:
    result, _ = run_with(handler)
    event = result.events[0]
    assert event.status == status
    assert event.approval is not None and event.approval.resolution == resolution


def test_a_call_that_needs_no_approval_records_none() -> None:
    @action(risk="low")
    def ping(host: str) -> str:
        """Ping.

        Args:
            host: Host.
        """
        return "pong"

    scripted = ScriptedResponses([[function_call("ping", {"host": "h"})], [message("ok")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(ping)

    @bot.trigger("t", prompt="p", hidden_actions=[ping])
    def t() -> dict[str, str]:
        return {}

    event = bot.run(t()).events[0]
    assert event.status == "executed" and event.approval is None


def test_the_event_with_its_approval_round_trips_through_json() -> None:
    result, _ = run_with(lambda request: Approval(approved=True, approver="alice", comment="é"))
    event = result.events[0]
    again = ExecutionEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert isinstance(again.approval, ApprovalRecord)


# -- a handler that raises ---------------------------------------------------------------------


async def test_an_async_handler_that_raises_blocks_fail_closed() -> None:
    async def handler(request: ApprovalRequest) -> bool:
        raise ConnectionError("pager down: token=s3cr3t")

    scripted = ScriptedResponses(
        [[function_call("restart_cluster", {"cluster": "prod", "force": True})], [message("ok")]]
    )
    async with Bot(
        name="b", client=scripted.async_client(), settings=BotSettings(), approval_handler=handler
    ) as bot:
        bot.register_actions(restart_cluster)

        @bot.trigger("t", prompt="p", hidden_actions=[restart_cluster])
        def t() -> dict[str, str]:
            return {}

        result = await bot.arun(t())
    assert ran == []
    event = result.events[0]
    assert (event.status, event.failure) == ("blocked", "approval_error")
    assert "s3cr3t" not in event.model_dump_json()
    assert result.status == "completed"
