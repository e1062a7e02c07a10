"""Shadow evaluation: enforce the live policy, trial a candidate beside it, record differences.

Use it to roll out a new policy (or a remote service) safely: the candidate sees real
proposals, its disagreements with the live policy are recorded and reported, and nothing it
does (decide, fail, time out) changes what is enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .capabilities import (
    BatchAnswer,
    PolicyEvaluator,
    checked_decision,
    evaluate,
    evaluate_many,
    histories_of,
)
from .decision import Decision, Outcome, ProposedAction
from .enforcement import outcome_for

if TYPE_CHECKING:
    from .rules.history import HistoryProvider

__all__ = ["Shadow", "ShadowDifference"]

_log = logging.getLogger(__name__)


class ShadowDifference(BaseModel):
    """Where a shadow candidate would have decided differently from the live evaluator.

    Attributes:
        proposal: The proposed action.
        live: The live (enforced) decision.
        candidate: The candidate's decision, or ``None`` when it failed.
        candidate_error: Why the candidate failed (``"TimeoutError: ..."``), when it did.
        live_outcome: The live decision's outcome under the shadow's enforcement mode.
        candidate_outcome: What the candidate's outcome would have been (``None`` on error).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: ProposedAction
    live: Decision
    candidate: Decision | None
    candidate_error: str | None = None
    live_outcome: Outcome
    candidate_outcome: Outcome | None = None


class Shadow:
    """Enforces ``live``; evaluates ``candidate`` beside it and records the differences.

    A difference is a candidate error or a different recommendation or mode. Differences go to
    ``differences`` (the newest ``max_records``) and to ``on_difference``. Nothing about the
    candidate (its decision, error, timeout, or a failing callback) changes what ``evaluate``
    returns: the live decision, or the live evaluator's exception.

    A sync candidate runs before the live evaluator on the caller's time; an async candidate
    runs concurrently with it, and ``candidate_timeout`` bounds how long the live decision may
    wait for it once it is known.

    Both capabilities are forwarded: a batch goes to the live evaluator and to the candidate
    (each with its own ``evaluate_batch`` when it has one), and ``histories()`` names the
    histories of both, so a candidate's ``history`` rules count the real outcomes.

    Args:
        live: The evaluator whose decisions are enforced.
        candidate: The evaluator under trial.
        on_difference: Called with each :class:`ShadowDifference` (sync, or returns an
            awaitable that is awaited).
        enforcement: The mode used to compute the outcomes in the records.
        candidate_timeout: Seconds to wait for an async candidate after the live decision
            (default 1.0; ``None`` waits as long as it takes).
        max_records: How many differences ``differences`` keeps.
        name: The composition's name (default: the live evaluator's name).
    """

    def __init__(
        self,
        live: PolicyEvaluator,
        candidate: PolicyEvaluator,
        *,
        on_difference: Callable[[ShadowDifference], object] | None = None,
        enforcement: str = "enforced",
        candidate_timeout: float | None = 1.0,
        max_records: int = 1000,
        name: str | None = None,
    ) -> None:
        self.live = live
        self.candidate = candidate
        self.on_difference = on_difference
        self.enforcement = enforcement
        self.candidate_timeout = candidate_timeout
        self.differences: deque[ShadowDifference] = deque(maxlen=max_records)
        self.name = name or live.name
        self.evaluations = 0

    async def evaluate(self, proposal: ProposedAction) -> Decision:
        """The live decision; the candidate's is compared and recorded, never returned."""
        self.evaluations += 1
        pending: asyncio.Future[Any] | None = None
        candidate: Decision | BaseException | None = None
        try:
            result = self.candidate.evaluate(proposal)
            if inspect.isawaitable(result):
                pending = asyncio.ensure_future(result)
            else:
                candidate = checked_decision(self.candidate, result)
        except Exception as exc:
            candidate = exc
        try:
            live = await evaluate(self.live, proposal)
        except BaseException:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            raise
        if pending is not None:
            try:
                candidate = checked_decision(
                    self.candidate, await asyncio.wait_for(pending, self.candidate_timeout)
                )
            except Exception as exc:
                candidate = exc
        assert candidate is not None
        await self._compare(proposal, live, candidate)
        return live

    async def evaluate_batch(self, proposals: Sequence[ProposedAction]) -> list[BatchAnswer]:
        """The live answers; the candidate's are compared and recorded, never returned.

        A position the live evaluator failed keeps its error and is not compared.
        """
        self.evaluations += len(proposals)
        pending = asyncio.ensure_future(evaluate_many(self.candidate, proposals))
        try:
            live = await evaluate_many(self.live, proposals)
        except BaseException:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
            raise
        candidates: Sequence[Decision | BaseException]
        try:
            candidates = await asyncio.wait_for(pending, self.candidate_timeout)
        except Exception as exc:
            candidates = [exc] * len(proposals)
        for proposal, answer, candidate in zip(proposals, live, candidates, strict=True):
            if isinstance(answer, Decision):
                await self._compare(proposal, answer, candidate)
        return live

    def histories(self) -> tuple[HistoryProvider, ...]:
        """The histories the live evaluator and the candidate read."""
        return histories_of(self.live, self.candidate)

    async def _compare(
        self, proposal: ProposedAction, live: Decision, candidate: Decision | BaseException
    ) -> None:
        live_outcome = outcome_for(live, self.enforcement)
        if isinstance(candidate, Decision):
            if (candidate.recommendation, candidate.mode) == (live.recommendation, live.mode):
                return
            record = ShadowDifference(
                proposal=proposal,
                live=live,
                candidate=candidate,
                live_outcome=live_outcome,
                candidate_outcome=outcome_for(candidate, self.enforcement),
            )
        else:
            error = f"{type(candidate).__name__}: {candidate}".rstrip(": ")
            record = ShadowDifference(
                proposal=proposal,
                live=live,
                candidate=None,
                candidate_error=error,
                live_outcome=live_outcome,
            )
        self.differences.append(record)
        if self.on_difference is None:
            return
        try:
            returned = self.on_difference(record)
            if inspect.isawaitable(returned):
                await returned
        except Exception:
            _log.exception("shadow on_difference callback failed (ignored)")
