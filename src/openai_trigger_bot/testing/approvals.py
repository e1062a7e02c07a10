"""An approval handler for tests: answers from a script and records what it was asked."""

from __future__ import annotations

from collections.abc import Iterable

from ..governance.decision import Decision, ProposedAction

__all__ = ["RecordingApprovalHandler"]


class RecordingApprovalHandler:
    """Answers approval requests in order (``True``, ``False`` or ``None`` to defer).

    Args:
        answers: The answers, one per request; when they run out, ``default`` is used.
        default: The answer after the scripted ones (``None``: defer, the run suspends).

    Attributes:
        asked: Every ``(proposal, decision)`` the handler was asked about, in order.
    """

    def __init__(self, answers: Iterable[bool | None] = (), *, default: bool | None = None) -> None:
        self._answers = list(answers)
        self._default = default
        self.asked: list[tuple[ProposedAction, Decision]] = []

    def __call__(self, proposal: ProposedAction, decision: Decision) -> bool | None:
        self.asked.append((proposal, decision))
        return self._answers.pop(0) if self._answers else self._default
