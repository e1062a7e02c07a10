"""Asking a human: the approval request, the handler forms we accept, and their answers.

An approval handler is called when a decision requires approval. Two forms are accepted:

- ``handler(request)`` — one argument, an :class:`ApprovalRequest` (``.proposal``,
  ``.decision``), the form users of decision adapters migrate with;
- ``handler(proposal, decision)`` — two arguments.

Either may be sync or async, and may answer:

==========================================================  =====================================
answer                                                      effect
==========================================================  =====================================
``True`` / ``{"resolution": "approved", "comment": ...}``   the call runs
``False`` / ``{"resolution": "denied", "comment": ...}``    ``denied``, the comment recorded
``None``                                                    deferred: the run suspends
anything else                                               ``blocked``, failure ``approval_error``
==========================================================  =====================================

An answer we do not recognise is never taken as a person's decision, and never silently as
"defer": it blocks the call (fail closed), is logged, and the event says why.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .decision import Decision, ProposedAction

__all__ = [
    "ApprovalAnswer",
    "ApprovalHandler",
    "ApprovalRequest",
    "ask",
]

log = logging.getLogger("openai_trigger_bot.governance")


class ApprovalRequest(BaseModel):
    """What a human is asked to approve: the exact proposed call and why the policy asks.

    Attributes:
        proposal: The proposed call (secret arguments redacted).
        decision: The decision that requires approval.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: ProposedAction
    decision: Decision


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
    """

    resolution: Literal["approved", "denied", "deferred", "invalid"]
    comment: str | None = None
    problem: str | None = None


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


def _normalise(answer: object) -> ApprovalAnswer:
    if answer is True:
        return ApprovalAnswer("approved")
    if answer is False:
        return ApprovalAnswer("denied")
    if answer is None:
        return ApprovalAnswer("deferred")
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
            f"a {type(answer).__name__} is not an answer (return True, False, None, or "
            "{'resolution': 'approved' | 'denied', 'comment': ...})"
        ),
    )


async def ask(
    handler: ApprovalHandler, proposal: ProposedAction, decision: Decision
) -> ApprovalAnswer:
    """Ask ``handler`` about one call, in whichever form it takes, and normalise its answer.

    Raises:
        Exception: Whatever the handler raised (the gate decides what that means).
    """
    call: Callable[..., Any] = handler  # the form is told apart at run time
    if _takes_request(call):
        answer = call(ApprovalRequest(proposal=proposal, decision=decision))
    else:
        answer = call(proposal, decision)
    if inspect.isawaitable(answer):
        answer = await answer
    normalised = _normalise(answer)
    if normalised.resolution == "invalid":
        log.error(
            "approval handler %r gave an answer that is not understood for %s (%s); "
            "the call is blocked",
            getattr(handler, "__name__", handler),
            proposal.action,
            normalised.problem,
        )
    return normalised
