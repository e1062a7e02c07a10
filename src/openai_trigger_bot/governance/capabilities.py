"""The evaluator seam: the :class:`PolicyEvaluator` protocol, its optional capabilities, and the
functions that drive them.

Every evaluator has a ``name`` and ``evaluate(proposal)``. Two capabilities are optional, each a
protocol of its own with one method; an evaluator that has the method has the capability:

- :class:`BatchEvaluator`: ``evaluate_batch(proposals)`` decides several proposals at once (a
  remote service: one request for the calls of one model response).
- :class:`HistoryReader`: ``histories()`` names the outcome histories its ``history``
  conditions read, so the gate records every outcome into them.

Wrappers (``MostRestrictive``, ``Fallback``, ``Shadow``) implement both and forward them to the
evaluators they wrap (with :func:`evaluate_many` and :func:`histories_of`), so a batch reaches a
remote service nested anywhere in a composition, and a rate-limit rule nested anywhere sees
every outcome. Nothing here looks at attribute names: a custom wrapper that wants the same
implements the two methods the same way. A custom evaluator with only ``name`` and ``evaluate``
is a complete evaluator (no batch: its proposals are evaluated concurrently; no history).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..exceptions import UsageError
from .decision import Decision, ProposedAction
from .errors import MalformedDecisionError

if TYPE_CHECKING:  # the rules package (CEL and all) is not loaded for a type
    from .._run.offload import Offload
    from .rules.history import HistoryProvider

__all__ = [
    "BatchAnswer",
    "BatchEvaluator",
    "HistoryReader",
    "PolicyEvaluator",
    "checked_decision",
    "discard_pending",
    "evaluate",
    "evaluate_many",
    "evaluate_sync",
    "histories_of",
]

BatchAnswer = Decision | BaseException
"""One position of a batch answer: the decision, or the error that position failed with."""


@runtime_checkable
class PolicyEvaluator(Protocol):
    """Anything that decides on a proposed action.

    ``evaluate`` may be a plain method returning a :class:`Decision` or an ``async def``. It
    raises (any exception) when it cannot decide; it never invents a permissive decision.
    """

    @property
    def name(self) -> str:
        """A short name for traces and decision records."""
        ...

    def evaluate(self, proposal: ProposedAction) -> Decision | Awaitable[Decision]:
        """Decide on one proposed action."""
        ...


@runtime_checkable
class BatchEvaluator(Protocol):
    """The batch capability: decide several proposals at once."""

    def evaluate_batch(
        self, proposals: Sequence[ProposedAction]
    ) -> Sequence[BatchAnswer] | Awaitable[Sequence[BatchAnswer]]:
        """One answer per proposal, in order: its decision, or the error it failed with.

        May be sync or ``async def``. Raising fails every position with that error; an answer
        of the wrong length fails every position as malformed.
        """
        ...


@runtime_checkable
class HistoryReader(Protocol):
    """The history capability: the outcome histories an evaluator's conditions read."""

    def histories(self) -> Sequence[HistoryProvider]:
        """Every history this evaluator (and any evaluator it wraps) counts outcomes from."""
        ...


def checked_decision(evaluator: PolicyEvaluator, result: object) -> Decision:
    """``result`` if it is a Decision; otherwise raise :class:`MalformedDecisionError`."""
    if not isinstance(result, Decision):
        raise MalformedDecisionError(
            f"evaluator {evaluator.name!r} returned {type(result).__name__}, not a Decision"
        )
    return result


def discard_pending(value: object) -> None:
    """Close an un-awaited coroutine (so it does not warn) or cancel a future."""
    if inspect.iscoroutine(value):
        value.close()
    elif isinstance(value, asyncio.Future):
        value.cancel()


async def evaluate(
    evaluator: PolicyEvaluator, proposal: ProposedAction, *, offload: Offload | None = None
) -> Decision:
    """Ask an evaluator, sync or async, for its decision.

    Args:
        evaluator: The evaluator.
        proposal: The proposal.
        offload: Calls ``evaluate`` there, off the event loop (for a sync evaluator that may
            block: one that counts outcomes in a store); an awaitable it returns is awaited
            here.

    Raises:
        MalformedDecisionError: The evaluator returned something other than a ``Decision``.
        Exception: Whatever the evaluator raised.
    """
    if offload is None:
        result = evaluator.evaluate(proposal)
    else:
        result = await offload(evaluator.evaluate, proposal)
    if inspect.isawaitable(result):
        result = await result
    return checked_decision(evaluator, result)


def evaluate_sync(evaluator: PolicyEvaluator, proposal: ProposedAction) -> Decision:
    """Ask a sync evaluator for its decision without an event loop.

    Raises:
        UsageError: The evaluator is async (``await evaluate(...)`` instead).
        MalformedDecisionError: The evaluator returned something other than a ``Decision``.
    """
    result = evaluator.evaluate(proposal)
    if inspect.isawaitable(result):
        discard_pending(result)
        raise UsageError(
            f"evaluator {evaluator.name!r} is async: use `await evaluate(evaluator, proposal)`"
        )
    return checked_decision(evaluator, result)


async def evaluate_many(
    evaluator: PolicyEvaluator,
    proposals: Sequence[ProposedAction],
    *,
    offload: Offload | None = None,
) -> list[BatchAnswer]:
    """One answer per proposal, in order, never raising for an evaluator's failure.

    Several proposals go to ``evaluate_batch`` when the evaluator is a
    :class:`BatchEvaluator`; otherwise (and for a single proposal) each is evaluated with
    ``evaluate``, concurrently. An error is returned in the position it belongs to (every
    position, when the whole batch failed); anything that is not a ``Decision`` becomes a
    :class:`MalformedDecisionError` there. With ``offload``, the evaluator's methods are called
    there (see :func:`evaluate`).

    Raises:
        BaseException: Cancellation and exits, which are not evaluator failures.
    """
    count = len(proposals)
    if count == 0:
        return []
    if count == 1:
        try:
            return [await evaluate(evaluator, proposals[0], offload=offload)]
        except Exception as exc:
            return [exc]
    if isinstance(evaluator, BatchEvaluator):
        try:
            if offload is None:
                answers = evaluator.evaluate_batch(proposals)
            else:
                answers = await offload(evaluator.evaluate_batch, proposals)
            if inspect.isawaitable(answers):
                answers = await answers
        except Exception as exc:
            return [exc] * count
        if not isinstance(answers, Sequence) or len(answers) != count:
            error = MalformedDecisionError(
                f"evaluator {evaluator.name!r} answered a batch of {count} with "
                f"{len(answers) if isinstance(answers, Sequence) else type(answers).__name__}"
            )
            return [error] * count
        return [_batch_item(evaluator, answer) for answer in answers]
    return list(
        await asyncio.gather(
            *(evaluate(evaluator, p, offload=offload) for p in proposals), return_exceptions=True
        )
    )


def _batch_item(evaluator: PolicyEvaluator, answer: object) -> BatchAnswer:
    """A batch item: a Decision, an error, or (anything else) a malformed-answer error."""
    if isinstance(answer, BaseException):
        return answer
    try:
        return checked_decision(evaluator, answer)
    except MalformedDecisionError as exc:
        return exc


def histories_of(*evaluators: PolicyEvaluator) -> tuple[HistoryProvider, ...]:
    """The histories the evaluators read (each once, in order); none for a plain evaluator."""
    found: list[HistoryProvider] = []
    for evaluator in evaluators:
        if isinstance(evaluator, HistoryReader):
            _add_new(found, evaluator.histories())
    return tuple(found)


def _add_new(found: list[HistoryProvider], more: Iterable[HistoryProvider]) -> None:
    for history in more:
        if all(history is not known for known in found):
            found.append(history)
