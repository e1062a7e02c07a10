"""The evaluator seam, and evaluators that wrap other evaluators.

A :class:`PolicyEvaluator` has a ``name`` and an ``evaluate(proposal)`` method that returns a
:class:`~openai_trigger_bot.governance.decision.Decision`, either directly (a local, sync
evaluator such as the rules engine) or as an awaitable (``async def evaluate``, for remote
services). :func:`evaluate` drives both kinds; the wrappers here accept both kinds. The protocol
and its optional capabilities (``evaluate_batch``, ``histories()``) are defined in
:mod:`.capabilities` and re-exported here; every wrapper has both and forwards them to the
evaluators it wraps:

- :class:`MostRestrictive`: asks several evaluators (async ones concurrently) and keeps the most
  restrictive decision. If any of them fails, the composition fails: "most restrictive of
  several" cannot be claimed without all of them.
- :class:`Fallback`: asks the primary; if it raises, asks the secondary (remote, else local).
  A failure the proposal's arguments caused (a rule's condition failing on them) is not an
  outage and does not fall back: it propagates, so the gate blocks the call.
- :class:`~openai_trigger_bot.governance.shadow.Shadow` (in its own module): enforces the live
  evaluator's decision and records where a candidate policy would have decided differently.
- :class:`StaticEvaluator`: always the same decision (or error), for tests.

Evaluator errors are exceptions here (in a batch: an error in its position); the gate turns
them into outcomes with ``fail_mode``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import UsageError
from .capabilities import (
    BatchAnswer,
    BatchEvaluator,
    HistoryReader,
    PolicyEvaluator,
    checked_decision,
    discard_pending,
    evaluate,
    evaluate_many,
    evaluate_sync,
    histories_of,
)
from .decision import Decision, ProposedAction
from .enforcement import restrictiveness
from .errors import EvaluatorError

if TYPE_CHECKING:
    from .rules.history import HistoryProvider

__all__ = [
    "BatchEvaluator",
    "Fallback",
    "HistoryReader",
    "MostRestrictive",
    "PolicyEvaluator",
    "StaticEvaluator",
    "checked_decision",
    "discard_pending",
    "evaluate",
    "evaluate_many",
    "evaluate_sync",
    "histories_of",
    "most_restrictive",
]


def most_restrictive(decisions: Iterable[Decision]) -> Decision:
    """The most restrictive decision; ties go to the higher risk, then to the earlier one.

    Raises:
        ValueError: No decisions were given.
    """
    best: Decision | None = None
    best_key = (-1, -1.0)
    for decision in decisions:
        key = (restrictiveness(decision), decision.risk or 0.0)
        if key > best_key:
            best, best_key = decision, key
    if best is None:
        raise ValueError("most_restrictive() needs at least one decision")
    return best


async def _await_all(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await concurrently; on the first error cancel the rest and raise that error."""
    tasks = [asyncio.ensure_future(item) for item in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]


class MostRestrictive:
    """Asks every evaluator and enforces the most restrictive answer.

    Async evaluators run concurrently. If one fails, the others are cancelled and the error
    propagates (the gate applies ``fail_mode``).

    Args:
        *evaluators: At least one evaluator.
        name: The composition's name (default ``most-restrictive(a,b,...)``).
    """

    def __init__(self, *evaluators: PolicyEvaluator, name: str | None = None) -> None:
        if not evaluators:
            raise UsageError("MostRestrictive() needs at least one evaluator")
        self.evaluators: tuple[PolicyEvaluator, ...] = evaluators
        self.name = name or f"most-restrictive({','.join(e.name for e in evaluators)})"

    async def evaluate(self, proposal: ProposedAction) -> Decision:
        """The most restrictive of the evaluators' decisions (see :func:`most_restrictive`)."""
        results: list[object] = []
        try:
            for evaluator in self.evaluators:
                results.append(evaluator.evaluate(proposal))
        except BaseException:
            for result in results:
                discard_pending(result)
            raise
        waiting = [(i, r) for i, r in enumerate(results) if inspect.isawaitable(r)]
        if waiting:
            done = await _await_all([r for _, r in waiting])
            for (i, _), value in zip(waiting, done, strict=True):
                results[i] = value
        return most_restrictive(
            checked_decision(evaluator, result)
            for evaluator, result in zip(self.evaluators, results, strict=True)
        )

    async def evaluate_batch(self, proposals: Sequence[ProposedAction]) -> list[BatchAnswer]:
        """Per proposal, the most restrictive decision, or the first evaluator's error.

        Each evaluator gets the whole batch (its own ``evaluate_batch`` when it has one), all
        of them concurrently. A position fails when any evaluator failed it, with the error of
        the first such evaluator in order.
        """
        columns = await asyncio.gather(*(evaluate_many(e, proposals) for e in self.evaluators))
        answers: list[BatchAnswer] = []
        for row in zip(*columns, strict=True):
            error = next((a for a in row if isinstance(a, BaseException)), None)
            if error is not None:
                answers.append(error)
            else:
                answers.append(most_restrictive(a for a in row if isinstance(a, Decision)))
        return answers

    def histories(self) -> tuple[HistoryProvider, ...]:
        """The histories every wrapped evaluator reads."""
        return histories_of(*self.evaluators)


class Fallback:
    """Asks ``primary``; when it raises, asks ``secondary`` instead.

    A decision is never a failure, even a restrictive or unknown one: only exceptions fall back.
    Cancellation is not caught, and neither is an error the proposal's arguments caused
    (``EvaluatorError.caused_by_arguments``: the primary's rule failed on *these* arguments):
    falling back then would let the model choose the evaluator by making a rule fail, so the
    error propagates and the gate blocks the call (see ``fail_modes``).

    Args:
        primary: The preferred evaluator (for example a remote decision service).
        secondary: The evaluator used when the primary fails (for example local rules).
        on_fallback: Called with the primary's exception each time the secondary is used.
        name: The composition's name (default ``primary-or-secondary``).

    Attributes:
        fallbacks: How many times the secondary was used.
    """

    def __init__(
        self,
        primary: PolicyEvaluator,
        secondary: PolicyEvaluator,
        *,
        on_fallback: Callable[[Exception], object] | None = None,
        name: str | None = None,
    ) -> None:
        self.primary = primary
        self.secondary = secondary
        self.on_fallback = on_fallback
        self.name = name or f"{primary.name}-or-{secondary.name}"
        self.fallbacks = 0

    async def evaluate(self, proposal: ProposedAction) -> Decision:
        """The primary's decision, or the secondary's if the primary raised.

        Raises:
            EvaluatorError: The primary failed because of the proposal's arguments.
            Exception: Whatever the secondary raised, when both failed.
        """
        try:
            return await evaluate(self.primary, proposal)
        except Exception as exc:
            if isinstance(exc, EvaluatorError) and exc.caused_by_arguments:
                raise
            self._fell_back(exc)
            return await evaluate(self.secondary, proposal)

    async def evaluate_batch(self, proposals: Sequence[ProposedAction]) -> list[BatchAnswer]:
        """The primary's answers; the positions it failed (not by their arguments) go to the
        secondary, together. ``fallbacks`` and ``on_fallback`` count each such position."""
        answers = await evaluate_many(self.primary, proposals)
        retry = [
            i
            for i, answer in enumerate(answers)
            if isinstance(answer, Exception)
            and not (isinstance(answer, EvaluatorError) and answer.caused_by_arguments)
        ]
        if not retry:
            return answers
        for i in retry:
            error = answers[i]
            assert isinstance(error, Exception)
            self._fell_back(error)
        second = await evaluate_many(self.secondary, [proposals[i] for i in retry])
        for i, answer in zip(retry, second, strict=True):
            answers[i] = answer
        return answers

    def histories(self) -> tuple[HistoryProvider, ...]:
        """The histories the primary and the secondary read."""
        return histories_of(self.primary, self.secondary)

    def _fell_back(self, error: Exception) -> None:
        self.fallbacks += 1
        if self.on_fallback is not None:
            self.on_fallback(error)


class StaticEvaluator:
    """Always answers the same decision, or always raises the same error. For tests.

    Args:
        decision: The decision to return.
        error: The exception to raise instead (for testing fail modes and fallbacks).
        name: The evaluator's name.
        asynchronous: Return an awaitable (to exercise async paths) instead of the decision.

    Attributes:
        calls: Every proposal evaluated, in order.
    """

    def __init__(
        self,
        decision: Decision | None = None,
        *,
        error: BaseException | None = None,
        name: str = "static",
        asynchronous: bool = False,
    ) -> None:
        if (decision is None) == (error is None):
            raise UsageError("StaticEvaluator needs exactly one of decision= or error=")
        self.decision = decision
        self.error = error
        self.name = name
        self.asynchronous = asynchronous
        self.calls: list[ProposedAction] = []

    def _answer(self, proposal: ProposedAction) -> Decision:
        self.calls.append(proposal)
        if self.error is not None:
            raise self.error
        assert self.decision is not None
        return self.decision

    async def _answer_async(self, proposal: ProposedAction) -> Decision:
        await asyncio.sleep(0)
        return self._answer(proposal)

    def evaluate(self, proposal: ProposedAction) -> Decision | Awaitable[Decision]:
        """The configured decision (or a coroutine of it when ``asynchronous``)."""
        if self.asynchronous:
            return self._answer_async(proposal)
        return self._answer(proposal)
