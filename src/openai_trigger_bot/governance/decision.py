"""The governance records: what the model proposes, what a policy decides, what happened.

Every record is a frozen pydantic model, so it can cross a boundary (a hook, a trace, a remote
decision service, a durable store) without being changed on the way. Mappings inside a record
(``arguments``, ``extra``) are plain dicts for speed: treat them as read-only.

Decisions can come from remote services that speak a newer protocol, so
:attr:`Decision.recommendation` and :attr:`Decision.mode` are typed as ``str``: an unknown value
is kept as sent (for the audit trail) and treated as the most restrictive value when the decision
is enforced (see :mod:`openai_trigger_bot.governance.enforcement`). The known values are the
:data:`Recommendation` and :data:`Mode` literals. The outcomes of a call (``EventStatus``,
``EVENT_STATUSES``) live in :mod:`openai_trigger_bot.outcomes` and are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..outcomes import EVENT_STATUSES, EventStatus

__all__ = [
    "ENFORCEMENT_MODES",
    "EVENT_STATUSES",
    "FAIL_MODES",
    "MODES",
    "OUTCOMES",
    "RECOMMENDATIONS",
    "ActionMetadata",
    "ApprovalRecord",
    "ApprovalResolution",
    "Decision",
    "EnforcementMode",
    "EventStatus",
    "ExecutionEvent",
    "FailMode",
    "Mode",
    "Outcome",
    "ProposedAction",
    "Recommendation",
    "default_mode",
    "idempotency_key",
]

Recommendation = Literal["proceed", "proceed_with_caution", "review_recommended", "do_not_proceed"]
"""What a policy recommends, from least to most restrictive."""

Mode = Literal["autonomous", "review", "blocked", "needs_context"]
"""How the call may go ahead: on its own, after a human review, not at all, or once the model
supplies the context the decision's reason asks for (it proposes the call again)."""

Outcome = Literal["execute", "block", "approval_required", "needs_context"]
"""What the gate does with a proposed call (not how the call ended: that is its status, one of
:data:`openai_trigger_bot.outcomes.EVENT_STATUSES`)."""

EnforcementMode = Literal["advisory", "review", "enforced", "shadow"]
"""How strictly decisions are enforced (the table is in
:func:`openai_trigger_bot.governance.enforcement.outcome_for`)."""

FailMode = Literal["closed", "open"]
"""What an evaluator failure does: ``closed`` blocks the call (default), ``open`` executes it."""

RECOMMENDATIONS: tuple[Recommendation, ...] = (
    "proceed",
    "proceed_with_caution",
    "review_recommended",
    "do_not_proceed",
)
MODES: tuple[Mode, ...] = ("autonomous", "review", "blocked", "needs_context")
OUTCOMES: tuple[Outcome, ...] = ("execute", "block", "approval_required", "needs_context")
ENFORCEMENT_MODES: tuple[EnforcementMode, ...] = ("advisory", "review", "enforced", "shadow")
FAIL_MODES: tuple[FailMode, ...] = ("closed", "open")

_FROZEN = ConfigDict(frozen=True, extra="forbid")

_DEFAULT_MODES: dict[str, Mode] = {
    "proceed": "autonomous",
    "proceed_with_caution": "autonomous",
    "review_recommended": "review",
    "do_not_proceed": "blocked",
}


def default_mode(recommendation: str) -> str:
    """The mode a decision has when its source states only a recommendation.

    ``proceed`` and ``proceed_with_caution`` → ``autonomous``, ``review_recommended`` →
    ``review``, ``do_not_proceed`` and anything unknown → ``blocked``.
    """
    return _DEFAULT_MODES.get(recommendation, "blocked")


def idempotency_key(run_id: str, call_id: str, action: str, arguments: Any) -> str:
    """A stable key for one proposed call: sha256 over canonical JSON.

    The JSON has sorted keys and no whitespace, so the same arguments in any key order give the
    same key.

    Args:
        run_id: The run the call belongs to.
        call_id: The model's call id.
        action: The action (tool) name.
        arguments: The validated arguments (plain JSON data).

    Returns:
        64 lowercase hex characters.
    """
    canonical = json.dumps(
        [run_id, call_id, action, arguments],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ActionMetadata(BaseModel):
    """What a policy knows about an action besides its arguments (set by ``@action(...)``).

    Attributes:
        system: The system the action touches (``"aws"``, ``"stripe"``, ``"github"``...).
        risk: The action's inherent risk: ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``.
        environment: ``"production"``, ``"staging"``...
        tags: Free-form labels (``"pii"``, ``"money"``...).
    """

    model_config = _FROZEN

    system: str | None = None
    risk: str | None = None
    environment: str | None = None
    tags: tuple[str, ...] = ()


class ProposedAction(BaseModel):
    """One tool call the model proposed, after its arguments validated.

    ``idempotency_key`` is computed from ``run_id``, ``call_id``, ``action`` and ``arguments``
    when it is not given (see :func:`idempotency_key`).

    Attributes:
        action: The action (tool) name.
        arguments: The validated arguments (JSON data; read-only).
        metadata: The action's metadata (system, risk, environment, tags).
        value: What is at stake, from the action's value extractor (usually an amount).
        target: The resource affected, from the target extractor (``"prod-eu-1"``...).
        extra: Further facts from the metadata extractor (JSON data; read-only).
        bot: The bot's name.
        actor: On whose behalf the bot acts (a user, a team), when known.
        domain: The business domain (``"infra"``, ``"billing"``...), when known.
        trigger: The trigger's name.
        run_id: The run's id.
        call_id: The model's call id.
        idempotency_key: Identifies this call across retries and resumes.
    """

    model_config = _FROZEN

    action: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    metadata: ActionMetadata = ActionMetadata()
    value: Any = None
    target: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    bot: str | None = None
    actor: str | None = None
    domain: str | None = None
    trigger: str | None = None
    run_id: str = ""
    call_id: str = ""
    idempotency_key: str = ""

    @model_validator(mode="before")
    @classmethod
    def _fill_idempotency_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("idempotency_key"):
            data = dict(data)
            data["idempotency_key"] = idempotency_key(
                str(data.get("run_id", "")),
                str(data.get("call_id", "")),
                str(data.get("action", "")),
                data.get("arguments") or {},
            )
        return data


class Decision(BaseModel):
    """A policy's answer for one proposed call.

    ``recommendation`` and ``mode`` hold any string so that a decision from a newer remote
    service is kept as sent; unknown values are enforced as the most restrictive. When ``mode``
    is not given it follows from the recommendation (:func:`default_mode`).

    Attributes:
        recommendation: One of :data:`Recommendation` (or an unknown string).
        risk: The assessed risk, 0 (none) to 1 (certain harm), when stated.
        confidence: How sure the evaluator is, 0 to 1, when stated.
        mode: One of :data:`Mode` (or an unknown string).
        reason: Why, in a sentence a reviewer (and the model) can read.
        better_action: A safer action to propose instead, when the policy knows one.
        better_arguments: Concrete arguments for a safer call of the same action (or of
            ``better_action``), when the policy knows them: offered to the approver as a
            ready edit (``ApprovalRequest.suggested_arguments``).
        policy_id: The policy that decided.
        policy_version: That policy's version (approvals are bound to it).
        request_id: The decision service's id for this evaluation, when remote.
        matched_rules: The ids of the rules that matched (local rules: in load order).
        evaluator: The name of the evaluator that produced the decision.
    """

    model_config = _FROZEN

    recommendation: str
    risk: float | None = Field(default=None, ge=0.0, le=1.0)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    mode: str = ""
    reason: str = ""
    better_action: str | None = None
    better_arguments: dict[str, Any] | None = None
    policy_id: str | None = None
    policy_version: str | None = None
    request_id: str | None = None
    matched_rules: tuple[str, ...] = ()
    evaluator: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("mode"):
            data = dict(data)
            data["mode"] = default_mode(str(data.get("recommendation", "")))
        return data

    @property
    def is_known(self) -> bool:
        """True when both the recommendation and the mode are values this library knows."""
        return self.recommendation in _DEFAULT_MODES and self.mode in MODES

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Decision:
        """Build a decision from a service's JSON, ignoring fields this version does not know.

        Unknown recommendation and mode strings are kept (and enforced as most restrictive);
        unknown fields are dropped instead of failing validation.

        Raises:
            pydantic.ValidationError: A known field has the wrong type or is out of range.
        """
        known = {key: value for key, value in data.items() if key in cls.model_fields}
        return cls.model_validate(known)


ApprovalResolution = Literal["approved", "denied", "pending", "expired", "error"]
"""How an approval request ended: a person's yes or no, still ``pending`` (no handler, or the
handler deferred), ``expired`` (not used before its ``expires_at``), or ``error`` (the handler
raised, timed out, or gave an answer that is not understood)."""


class ApprovalRecord(BaseModel):
    """What an :class:`ExecutionEvent` records about the approval a call went through.

    Attributes:
        id: The approval request's id.
        binding_hash: The hash binding the approval to this exact call (see
            :func:`~openai_trigger_bot.governance.approvals.binding_hash`).
        expires_at: Epoch seconds after which the approval no longer holds.
        resolution: One of :data:`ApprovalResolution`.
        approver: Who answered, when the handler said (an ``Approval(approver=...)``).
        comment: The approver's comment, if any.
    """

    model_config = _FROZEN

    id: str
    binding_hash: str
    expires_at: float
    resolution: ApprovalResolution
    approver: str | None = None
    comment: str | None = None


class ExecutionEvent(BaseModel):
    """The outcome of one proposed tool call, as recorded in ``RunResult.events``.

    Attributes:
        tool: The action (tool) name the model called.
        call_id: The model's call id.
        status: What happened: one of the canonical outcomes
            (:data:`openai_trigger_bot.outcomes.EventStatus`).
        decision: The policy decision, when one was made (``None`` for ``invalid`` calls and
            evaluator failures).
        arguments: The call's arguments, already redacted by the caller.
        output: The action's return value as JSON data, when it ran.
        error: What went wrong, for ``tool_error``, ``invalid`` and failures.
        message_to_model: The text sent back to the model as the tool output.
        failure: Which evaluator failure happened, when one did: ``"evaluator_error"`` (a
            local evaluator raised), ``"over_budget"`` (a rule's ``when:`` condition spent its
            cost budget), or a remote kind: ``"timeout"``, ``"transport_error"``,
            ``"http_error"``, ``"malformed"``, ``"circuit_open"``, ``"no_decision"``; or
            ``"approval_error"`` (the approval handler raised or gave an answer that is not
            understood).
        approval: The approval the call went through, when one was asked for (``None``
            otherwise): its id, binding hash, expiry, resolution, approver and comment.
        started_at: Epoch seconds when the gate took the call.
        decision_ms: Time spent deciding.
        duration_ms: Time from taking the call to its outcome, decision included.
    """

    model_config = _FROZEN

    tool: str
    call_id: str
    status: EventStatus
    decision: Decision | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    error: str | None = None
    message_to_model: str = ""
    failure: str | None = None
    approval: ApprovalRecord | None = None
    started_at: float = 0.0
    decision_ms: float = 0.0
    duration_ms: float = 0.0
