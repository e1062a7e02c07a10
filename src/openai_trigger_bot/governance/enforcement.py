"""Decision → outcome: pure functions, no I/O.

A decision is first reduced to a *level* (:func:`restrictiveness`), the larger of what its
recommendation and its mode demand:

========  ==============================================================  =====
level     decision                                                        value
========  ==============================================================  =====
proceed   ``proceed`` and mode ``autonomous``                              0
caution   ``proceed_with_caution`` (mode ``autonomous``)                   1
review    ``review_recommended``, or mode ``review`` / ``needs_context``   2
block     ``do_not_proceed``, mode ``blocked``, or any unknown string      3
========  ==============================================================  =====

The enforcement mode then maps the level to an outcome:

========  ========  ========  =================  =================
level     shadow    advisory  enforced           review
========  ========  ========  =================  =================
proceed   execute   execute   execute            execute
caution   execute   execute   execute            approval_required
review    execute   execute   approval_required  approval_required
block     execute   block     block              block
========  ========  ========  =================  =================

- ``shadow`` decides and records but never enforces anything: every call executes.
- ``advisory`` treats reviews and cautions as advice (recorded, shown, not enforced) but keeps
  hard stops: ``do_not_proceed`` / ``blocked`` still block.
- ``enforced`` asks a human when the policy says review, blocks when it says stop.
- ``review`` asks a human about everything that is not a plain ``proceed``; hard stops still
  block (a human can change a policy, but an approval does not override a ``do_not_proceed``).

A decision whose mode is ``needs_context`` follows the table like ``review``, except that where
the table says ``approval_required`` the outcome is ``needs_context``: no person is asked, the
call does not run, and the model is told what the policy wants to know (the decision's reason)
so that it can gather it and propose again. A hard stop still blocks, and under ``advisory`` and
``shadow`` it executes, as any review does:

=============================  ========  ========  =============  =============
decision                       shadow    advisory  enforced       review
=============================  ========  ========  =============  =============
mode ``needs_context``         execute   execute   needs_context  needs_context
... with ``do_not_proceed``    execute   block     block          block
=============================  ========  ========  =============  =============

An unknown recommendation or mode is the ``block`` level, so it never proceeds outside
``shadow``. An unknown enforcement mode (a configuration mistake that slipped through) blocks
everything; an unknown fail mode fails closed.

When the evaluator fails instead of deciding, :func:`fail_mode_for` picks the fail mode and
:func:`outcome_for_failure` maps it to an outcome. An outage follows the action's, the kind's or
the bot's fail mode; a failure the proposal's arguments caused (a rule's condition failing on
them, see ``EvaluatorError.caused_by_arguments``) blocks unless its kind is named ``open`` in
``fail_modes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .decision import Decision, Outcome

__all__ = [
    "BLOCK",
    "CAUTION",
    "PROCEED",
    "REVIEW",
    "fail_mode_for",
    "outcome_for",
    "outcome_for_failure",
    "outcome_for_level",
    "restrictiveness",
]

PROCEED: Final = 0
CAUTION: Final = 1
REVIEW: Final = 2
BLOCK: Final = 3

_RECOMMENDATION_LEVEL: Final[dict[str, int]] = {
    "proceed": PROCEED,
    "proceed_with_caution": CAUTION,
    "review_recommended": REVIEW,
    "do_not_proceed": BLOCK,
}
_MODE_LEVEL: Final[dict[str, int]] = {
    "autonomous": PROCEED,
    "review": REVIEW,
    "needs_context": REVIEW,
    "blocked": BLOCK,
}

# Rows: enforcement mode; columns: level (PROCEED, CAUTION, REVIEW, BLOCK).
_TABLE: Final[dict[str, tuple[Outcome, Outcome, Outcome, Outcome]]] = {
    "shadow": ("execute", "execute", "execute", "execute"),
    "advisory": ("execute", "execute", "execute", "block"),
    "enforced": ("execute", "execute", "approval_required", "block"),
    "review": ("execute", "approval_required", "approval_required", "block"),
}


def restrictiveness(decision: Decision) -> int:
    """The decision's level: 0 proceed, 1 caution, 2 review, 3 block (unknown values: 3)."""
    return max(
        _RECOMMENDATION_LEVEL.get(decision.recommendation, BLOCK),
        _MODE_LEVEL.get(decision.mode, BLOCK),
    )


def outcome_for_level(level: int, enforcement: str) -> Outcome:
    """The outcome for a level (see the module table) under an enforcement mode.

    Levels outside 0..3 and unknown enforcement modes give ``block``.
    """
    row = _TABLE.get(enforcement)
    if row is None or not PROCEED <= level <= BLOCK:
        return "block"
    return row[level]


def outcome_for(decision: Decision, enforcement: str = "enforced") -> Outcome:
    """What the gate does with a decision under an enforcement mode (see the module table).

    Args:
        decision: The evaluator's decision (unknown recommendation or mode strings allowed).
        enforcement: ``advisory``, ``review``, ``enforced`` (default) or ``shadow``.

    Returns:
        ``execute``, ``block``, ``approval_required`` or, for a decision whose mode is
        ``needs_context``, ``needs_context`` where the table says ``approval_required``. Never
        ``execute`` for an unknown recommendation or mode, except under ``shadow``.
    """
    outcome = outcome_for_level(restrictiveness(decision), enforcement)
    if outcome == "approval_required" and decision.mode == "needs_context":
        return "needs_context"
    return outcome


def fail_mode_for(
    failure: str,
    *,
    caused_by_arguments: bool,
    action: str | None = None,
    per_kind: Mapping[str, str] | None = None,
    default: str = "closed",
) -> str:
    """The fail mode for one evaluator failure.

    Args:
        failure: The failure kind (``timeout``, ``over_budget``, ``evaluator_error``...).
        caused_by_arguments: The proposal's arguments caused the failure (a rule's condition
            failed on them) rather than an outage.
        action: The action's own fail mode (``@action(fail_mode=...)``), if it has one.
        per_kind: The bot's ``fail_modes`` (failure kind → fail mode).
        default: The bot's ``fail_mode``.

    Returns:
        For an outage: the action's fail mode, else the kind's, else ``default``. For a failure
        the arguments caused: ``open`` only when ``per_kind`` names this kind ``open`` and the
        action does not say ``closed``; otherwise ``closed``, whatever ``default`` and the
        action say. The model chooses its arguments, so a blanket ``open`` would let it turn a
        deny rule into an allow by making the rule's condition fail.
    """
    kinds = per_kind or {}
    if caused_by_arguments:
        if action == "closed":
            return "closed"
        return kinds.get(failure, "closed")
    return action or kinds.get(failure, default)


def outcome_for_failure(fail_mode: str = "closed", enforcement: str = "enforced") -> Outcome:
    """What the gate does when the evaluator failed (error, timeout, open circuit, bad answer).

    Args:
        fail_mode: ``closed`` (default) blocks; ``open`` executes. Anything else blocks.
        enforcement: Under ``shadow`` nothing is enforced, so a failure executes too; an
            unknown enforcement mode blocks.

    Returns:
        ``block`` or ``execute``.
    """
    if enforcement == "shadow":
        return "execute"
    if enforcement not in _TABLE:
        return "block"
    return "execute" if fail_mode == "open" else "block"
