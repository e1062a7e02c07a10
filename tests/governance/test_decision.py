"""The governance records: frozen, validated, keeping unknown values from the wire."""

from __future__ import annotations

import pydantic
import pytest

from openai_trigger_bot.governance import (
    EVENT_STATUSES,
    ActionMetadata,
    Decision,
    ExecutionEvent,
    ProposedAction,
    idempotency_key,
)
from openai_trigger_bot.governance.decision import default_mode


def test_idempotency_key_ignores_key_order_and_changes_with_every_part() -> None:
    base = idempotency_key("run", "call", "refund", {"a": 1, "b": [1, 2]})
    assert base == idempotency_key("run", "call", "refund", {"b": [1, 2], "a": 1})
    assert len(base) == 64 and int(base, 16) >= 0
    others = {
        idempotency_key("run2", "call", "refund", {"a": 1, "b": [1, 2]}),
        idempotency_key("run", "call2", "refund", {"a": 1, "b": [1, 2]}),
        idempotency_key("run", "call", "refund2", {"a": 1, "b": [1, 2]}),
        idempotency_key("run", "call", "refund", {"a": 2, "b": [1, 2]}),
    }
    assert base not in others and len(others) == 4


def test_proposal_fills_its_idempotency_key() -> None:
    proposal = ProposedAction(action="refund", arguments={"x": 1}, run_id="r", call_id="c")
    assert proposal.idempotency_key == idempotency_key("r", "c", "refund", {"x": 1})
    given = ProposedAction(action="refund", idempotency_key="mine")
    assert given.idempotency_key == "mine"


def test_records_are_frozen_and_reject_unknown_fields() -> None:
    proposal = ProposedAction(action="a")
    with pytest.raises(pydantic.ValidationError):
        proposal.action = "b"
    with pytest.raises(pydantic.ValidationError):
        ProposedAction(action="a", argumnets={})
    with pytest.raises(pydantic.ValidationError):
        ActionMetadata(system="aws").system = "gcp"


@pytest.mark.parametrize(
    ("recommendation", "mode"),
    [
        ("proceed", "autonomous"),
        ("proceed_with_caution", "autonomous"),
        ("review_recommended", "review"),
        ("do_not_proceed", "blocked"),
        ("something_new", "blocked"),
    ],
)
def test_mode_follows_from_the_recommendation_when_not_given(
    recommendation: str, mode: str
) -> None:
    assert Decision(recommendation=recommendation).mode == mode
    assert default_mode(recommendation) == mode


def test_an_explicit_mode_is_kept() -> None:
    assert Decision(recommendation="proceed", mode="needs_context").mode == "needs_context"


@pytest.mark.parametrize("risk", [-0.1, 1.5])
def test_risk_and_confidence_are_bounded(risk: float) -> None:
    with pytest.raises(pydantic.ValidationError):
        Decision(recommendation="proceed", risk=risk)
    with pytest.raises(pydantic.ValidationError):
        Decision(recommendation="proceed", confidence=risk)


def test_from_wire_keeps_unknown_values_and_drops_unknown_fields() -> None:
    decision = Decision.from_wire(
        {"recommendation": "escalate_to_ceo", "mode": "telepathy", "risk": 0.2, "new": 1}
    )
    assert (decision.recommendation, decision.mode, decision.risk) == (
        "escalate_to_ceo",
        "telepathy",
        0.2,
    )
    assert not decision.is_known
    assert Decision(recommendation="proceed").is_known


def test_from_wire_still_validates_known_fields() -> None:
    with pytest.raises(pydantic.ValidationError):
        Decision.from_wire({"recommendation": "proceed", "risk": "high"})


def test_execution_event_holds_a_decision_and_timings() -> None:
    decision = Decision(recommendation="do_not_proceed", reason="no")
    event = ExecutionEvent(
        tool="refund",
        call_id="c1",
        status="blocked",
        decision=decision,
        arguments={"amount": 5},
        message_to_model="blocked by policy: no",
        started_at=1.0,
        decision_ms=0.1,
        duration_ms=0.2,
    )
    assert event.decision == decision and event.output is None and event.failure is None
    assert event.model_dump()["status"] == "blocked"
    with pytest.raises(pydantic.ValidationError):
        ExecutionEvent(tool="x", call_id="c", status="exploded")


def test_event_statuses_cover_every_outcome_of_a_call() -> None:
    assert EVENT_STATUSES == (
        "executed",
        "blocked",
        "approval_required",
        "denied",
        "expired",
        "needs_context",
        "unknown",
        "tool_error",
        "invalid",
        "skipped",
    )
