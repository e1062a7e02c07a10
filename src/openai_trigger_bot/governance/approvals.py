"""Asking a human: the approval request, the handler forms we accept, and their answers.

An approval handler is called when a decision requires approval. Two forms are accepted:

- ``handler(request)`` — one argument, an :class:`ApprovalRequest` (``.id``, ``.proposal``,
  ``.decision``, ``.binding_hash``, ``.expires_at``, ``.run_id``, ``.call_id``), the form users
  of decision adapters migrate with;
- ``handler(proposal, decision)`` — two arguments.

Either may be sync or async, and may answer:

============================================================  ===================================
answer                                                        effect
============================================================  ===================================
``True`` / ``{"resolution": "approved", "comment": ...}`` /   the call runs
``Approval(approved=True, comment=..., approver=...)``
``False`` / ``{"resolution": "denied", "comment": ...}`` /    ``denied``, the comment recorded
``Approval(approved=False, comment=..., approver=...)``
``None``                                                      deferred: the run suspends
anything else                                                 ``blocked``, failure
                                                              ``approval_error``
============================================================  ===================================

An answer we do not recognise is never taken as a person's decision, and never silently as
"defer": it blocks the call (fail closed), is logged, and the event says why. A handler that
raises blocks the call the same way (the gate decides that, see
:mod:`~openai_trigger_bot.governance.gate`).

Every request carries a :func:`binding_hash` of the exact call it asks about (action, canonical
redacted arguments, policy id and version, run id, call id) and an expiry; the event records
both, with the approver and comment (:class:`~.decision.ApprovalRecord`).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool

from .decision import ApprovalRecord, ApprovalResolution, Decision, ProposedAction

__all__ = [
    "DEFAULT_APPROVAL_TTL_S",
    "Approval",
    "ApprovalAnswer",
    "ApprovalHandler",
    "ApprovalRecord",
    "ApprovalRequest",
    "Consulted",
    "ask",
    "binding_hash",
    "consult",
    "new_request",
    "normalise",
    "record",
]

DEFAULT_APPROVAL_TTL_S = 3600.0
"""How long an approval holds when neither the bot's settings nor the action say (one hour)."""

log = logging.getLogger("openai_trigger_bot.governance")


class ApprovalRequest(BaseModel):
    """What a human is asked to approve: the exact proposed call and why the policy asks.

    Attributes:
        id: Unique id of this request (32 hex characters).
        proposal: The proposed call (secret arguments redacted).
        decision: The decision that requires approval.
        binding_hash: :func:`binding_hash` of the call: an approval holds for this exact call
            (same action, arguments, policy version, run and call) and no other.
        expires_at: Epoch seconds after which the approval no longer holds
            (``BotSettings.approval_ttl_s`` or the action's ``approval_ttl_s`` from asking).
        run_id: The run the call belongs to.
        call_id: The model's call id.
        approvals_required: How many distinct approvers must say yes
            (``@action(approvals_required=2)`` for the four-eyes rule).
        suggested_arguments: A ready edit: the decision's ``better_arguments`` for this
            action, when the policy proposed concrete safer arguments. Approving with
            ``Approval(approved=True, arguments=request.suggested_arguments)`` runs them
            (after validation and the policy again).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    proposal: ProposedAction
    decision: Decision
    binding_hash: str
    expires_at: float
    run_id: str
    call_id: str
    approvals_required: int = 1
    suggested_arguments: dict[str, Any] | None = None


class Approval(BaseModel):
    """A person's answer, with who gave it and why.

    Attributes:
        approved: ``True`` lets the call run; ``False`` denies it (a strict bool: ``"no"`` is
            not an answer).
        comment: The approver's comment, recorded on the event.
        approver: Who answered (a user name, an email...), recorded on the event. Required
            when the action needs more than one approver (they must be distinct).
        arguments: An edit, with ``approved=True``: the call runs with these arguments
            instead of the model's. An edit is a new proposal: it is validated against the
            action's schema and decided by the policy again (a policy that blocks it blocks
            it; one that asks for approval takes this approval as given for the edit).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved: StrictBool
    comment: str | None = None
    approver: str | None = None
    arguments: dict[str, Any] | None = None


def binding_hash(
    action: str,
    arguments: Mapping[str, Any],
    policy_id: str | None,
    policy_version: str | None,
    run_id: str,
    call_id: str,
) -> str:
    """The hash an approval is bound to: sha256 over canonical JSON of the exact call.

    The JSON is an object with sorted keys and no whitespace, so the arguments' key order does
    not matter, while any change to a field (an argument's value, the policy's version, another
    call) gives another hash.

    Args:
        action: The action (tool) name.
        arguments: The validated arguments, secrets redacted (plain JSON data).
        policy_id: The deciding policy's id, if it has one.
        policy_version: That policy's version, if it has one.
        run_id: The run the call belongs to.
        call_id: The model's call id.

    Returns:
        64 lowercase hex characters.
    """
    canonical = json.dumps(
        {
            "action": action,
            "arguments": arguments,
            "call_id": call_id,
            "policy_id": policy_id,
            "policy_version": policy_version,
            "run_id": run_id,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_request(
    proposal: ProposedAction,
    decision: Decision,
    *,
    ttl_s: float,
    now: float,
    approvals_required: int = 1,
) -> ApprovalRequest:
    """A fresh approval request for ``proposal``, expiring ``ttl_s`` seconds after ``now``."""
    suggested = None
    if decision.better_arguments is not None and decision.better_action in (
        None,
        proposal.action,
    ):
        suggested = dict(decision.better_arguments)
    return ApprovalRequest(
        id=uuid.uuid4().hex,
        proposal=proposal,
        decision=decision,
        binding_hash=binding_hash(
            proposal.action,
            proposal.arguments,
            decision.policy_id,
            decision.policy_version,
            proposal.run_id,
            proposal.call_id,
        ),
        expires_at=now + ttl_s,
        run_id=proposal.run_id,
        call_id=proposal.call_id,
        approvals_required=approvals_required,
        suggested_arguments=suggested,
    )


ApprovalHandler = (
    Callable[[ProposedAction, Decision], "bool | Awaitable[bool | None] | None"]
    | Callable[[ApprovalRequest], Any]
)
"""A function asked when a decision requires approval (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class ApprovalAnswer:
    """A handler's answer, normalised.

    Attributes:
        resolution: ``approved``, ``denied``, ``deferred``, or ``invalid`` (not understood).
        comment: The reviewer's comment, if any.
        problem: Why an ``invalid`` answer was not understood.
        approver: Who answered, when the answer said (an :class:`Approval`).
    """

    resolution: Literal["approved", "denied", "deferred", "invalid"]
    comment: str | None = None
    problem: str | None = None
    approver: str | None = None
    arguments: dict[str, Any] | None = None
    """An edit (see :class:`Approval`)."""


def _takes_request(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` takes one argument (an :class:`ApprovalRequest`)."""
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume the two-arg form
        return False
    # Every positional parameter counts, defaults included: ``h(proposal, decision=None)``
    # is the two-argument form, and must not be handed an ApprovalRequest as ``proposal``.
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    return len(positional) == 1 and not variadic


def normalise(answer: object) -> ApprovalAnswer:
    """Any answer a handler (or a ``resume`` decision) may give, as an :class:`ApprovalAnswer`."""
    if answer is True:
        return ApprovalAnswer("approved")
    if answer is False:
        return ApprovalAnswer("denied")
    if answer is None:
        return ApprovalAnswer("deferred")
    if isinstance(answer, Approval):
        said: Literal["approved", "denied"] = "approved" if answer.approved else "denied"
        edit = answer.arguments if answer.approved else None
        return ApprovalAnswer(said, answer.comment, approver=answer.approver, arguments=edit)
    if isinstance(answer, Mapping):
        resolution = answer.get("resolution")
        comment = answer.get("comment")
        comment_text = None if comment is None else str(comment)
        if resolution in ("approved", "denied"):
            return ApprovalAnswer(resolution, comment_text)
        return ApprovalAnswer(
            "invalid",
            problem=f"'resolution' must be 'approved' or 'denied', not {resolution!r}"[:200],
        )
    return ApprovalAnswer(
        "invalid",
        problem=(
            f"a {type(answer).__name__} is not an answer (return True, False, None, "
            "an Approval, or {'resolution': 'approved' | 'denied', 'comment': ...})"
        ),
    )


async def ask(
    handler: ApprovalHandler,
    request: ApprovalRequest,
    *,
    offload: Callable[..., Awaitable[Any]] | None = None,
) -> ApprovalAnswer:
    """Ask ``handler`` about one call, in whichever form it takes, and normalise its answer.

    Args:
        handler: The approval handler.
        request: What it is asked.
        offload: Runs a sync handler off the event loop (a person may take minutes to answer
            a handler that blocks); ``None`` calls it here.

    Raises:
        Exception: Whatever the handler raised (the gate decides what that means).
    """
    proposal = request.proposal
    call: Callable[..., Any] = handler  # the form is told apart at run time
    args = (request,) if _takes_request(call) else (proposal, request.decision)
    if offload is not None and not inspect.iscoroutinefunction(call):
        answer = await offload(call, *args)
    else:
        answer = call(*args)
    if inspect.isawaitable(answer):
        answer = await answer
    normalised = normalise(answer)
    if normalised.resolution == "invalid":
        log.error(
            "approval handler %r gave an answer that is not understood for %s (%s); "
            "the call is blocked",
            getattr(handler, "__name__", handler),
            proposal.action,
            normalised.problem,
        )
    return normalised


@dataclass(frozen=True, slots=True)
class Consulted:
    """What asking the handler came to, for the gate to turn into a verdict.

    Attributes:
        outcome: ``execute`` (approved), ``denied`` (a person's no), ``approval_required``
            (deferred) or ``block`` (the handler raised or was not understood: failure
            ``approval_error``, fail closed).
        record: The approval, as the event records it.
        error: What the event's ``error`` says, if anything.
    """

    outcome: Literal["execute", "denied", "approval_required", "block"]
    record: ApprovalRecord
    error: str | None = None
    answer: ApprovalAnswer | None = None
    """The handler's answer, when it gave one that was understood."""


def record(
    request: ApprovalRequest,
    resolution: ApprovalResolution,
    approver: str | None = None,
    comment: str | None = None,
) -> ApprovalRecord:
    """The event's record of ``request``, ended as ``resolution``."""
    return ApprovalRecord(
        id=request.id,
        binding_hash=request.binding_hash,
        expires_at=request.expires_at,
        resolution=resolution,
        approver=approver,
        comment=comment,
    )


async def consult(
    handler: ApprovalHandler,
    request: ApprovalRequest,
    *,
    offload: Callable[..., Awaitable[Any]] | None = None,
    timeout_s: float | None = None,
) -> Consulted:
    """Ask ``handler`` (see :func:`ask`) and map its answer to an outcome, failing closed.

    A handler that raises, or does not answer within ``timeout_s``, is no one's yes and no
    person's no: the call is blocked (failure ``approval_error``); its exception's message is
    logged, never put on the event (it may hold anything), only its type.
    """
    try:
        answer = await asyncio.wait_for(ask(handler, request, offload=offload), timeout_s)
    except asyncio.TimeoutError:
        log.warning(
            "approval handler gave no answer for %s within %ss; the call is blocked",
            request.proposal.action,
            timeout_s,
        )
        error = f"approval_error: the approval handler did not answer within {timeout_s}s"
        return Consulted("block", record(request, "error"), error)
    except Exception as exc:
        log.warning(
            "approval handler failed for %s: %r; the call is blocked", request.proposal.action, exc
        )
        error = f"approval_error: the approval handler raised {type(exc).__name__}"
        return Consulted("block", record(request, "error"), error)
    if answer.resolution == "approved":
        got = record(request, "approved", answer.approver, answer.comment)
        return Consulted("execute", got, answer=answer)
    if answer.resolution == "denied":
        said = f"denied by a reviewer: {answer.comment}" if answer.comment else None
        got = record(request, "denied", answer.approver, answer.comment)
        return Consulted("denied", got, said, answer=answer)
    if answer.resolution == "deferred":
        return Consulted("approval_required", record(request, "pending"), answer=answer)
    error = f"approval_error: the approval handler's answer is not understood: {answer.problem}"
    return Consulted("block", record(request, "error"), error)
