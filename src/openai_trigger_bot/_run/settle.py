"""Settling: the one place a proposed call's outcome leaves the pipeline.

When a call's outcome is final (see :mod:`openai_trigger_bot.outcomes`), the pipeline publishes
one :class:`Settled` record to the run's subscribers, in the model's order: the run's record
(``RunResult.events``), policy history, the outcome outbox, ``on_decision``, and memory capture.
A new consumer (telemetry, a stream) is one more subscriber; the loop never changes for it.

A subscriber never changes an outcome: one that fails is logged and the others still run.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..exceptions import UsageError
from ..governance.decision import ProposedAction
from ..governance.rules.history import HistoryProvider
from .calls import CallResult
from .offload import Offload

if TYPE_CHECKING:
    from ..governance.gate import DecisionHook
    from ..governance.outbox import OutcomeOutbox
    from ..memory.manager import MemoryManager

__all__ = [
    "HistoryRecorder",
    "MemoryCapture",
    "OnDecision",
    "OutboxReport",
    "Settled",
    "Subscriber",
    "publish",
]

log = logging.getLogger("openai_trigger_bot.governance")


@dataclass(frozen=True, slots=True)
class Settled:
    """One proposed call's final outcome, as every subscriber receives it.

    Attributes:
        result: The call's result (its ``event`` is the canonical record).
        proposal: The proposal the policy saw (``None`` when the call never reached the
            policy: invalid, ungoverned, or an extractor failed).
        governed: The call passed through the gate (valid, and the bot is governed).
    """

    result: CallResult
    proposal: ProposedAction | None
    governed: bool


class Subscriber(Protocol):
    """Receives every settled outcome of a run, in the model's order."""

    async def settled(self, item: Settled) -> None:
        """Take one settled outcome (may await I/O through the run's offload seam)."""
        ...


async def publish(subscribers: Sequence[Subscriber], items: Sequence[Settled]) -> None:
    """Hand ``items`` to every subscriber, in order; a failing subscriber is only logged."""
    for item in items:
        for subscriber in subscribers:
            try:
                await subscriber.settled(item)
            except Exception as exc:  # an observer never changes an outcome
                log.error(
                    "%s failed for %s: %r",
                    type(subscriber).__name__,
                    item.result.event.tool,
                    exc,
                )


class HistoryRecorder:
    """Records governed outcomes in every policy history (for ``history`` conditions).

    A call is counted as ``executed`` when the pipeline admits it (:meth:`admitted`), before
    the next call of the same response is decided, so a rate limit sees it at once; when it
    settles, only a different final status (``tool_error``, ``unknown``) is added. Both steps
    are here, keyed by call id.
    """

    def __init__(self, recorders: Sequence[HistoryProvider]) -> None:
        self._recorders = tuple(recorders)
        self._admitted: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._recorders)

    def admitted(self, action: str, call_id: str, target: str | None) -> None:
        """Count an admitted call as ``executed`` now (it is about to run)."""
        for recorder in self._recorders:
            recorder.record(action, "executed", target=target)
        self._admitted.add(call_id)

    async def settled(self, item: Settled) -> None:
        if not item.governed:
            return
        event = item.result.event
        if event.call_id in self._admitted:
            self._admitted.discard(event.call_id)
            if event.status == "executed":
                return
        for recorder in self._recorders:
            recorder.record(event.tool, event.status, target=item.result.target)


class OutboxReport:
    """Stores an outcome report for the decision service (the outbox's SQLite insert runs
    through the offload seam and is awaited: the report is in the file before the run goes on).
    """

    def __init__(self, outbox: OutcomeOutbox, *, bot: str, offload: Offload) -> None:
        self._outbox = outbox
        self._bot = bot
        self._offload = offload

    async def settled(self, item: Settled) -> None:
        if not item.governed:
            return
        add = functools.partial(self._outbox.add, item.result.event, item.proposal, bot=self._bot)
        try:
            try:
                await self._offload(add)
            except UsageError:  # the pool was closed under the run: store it here, lose nothing
                add()
        except Exception as exc:  # the outbox keeps what it could not store; see OutcomeOutbox
            log.error("outcome report for %s not stored: %r", item.result.event.tool, exc)


class OnDecision:
    """Calls the user's ``on_decision`` hook (sync or async) with each governed event."""

    def __init__(self, hook: DecisionHook) -> None:
        self._hook = hook

    async def settled(self, item: Settled) -> None:
        if not item.governed:
            return
        try:
            result = self._hook(item.result.event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.warning("on_decision hook failed for %s: %r", item.result.event.tool, exc)


class MemoryCapture:
    """Remembers every proposed call's outcome (budget skips aside) in the capture scopes."""

    def __init__(
        self,
        memory: MemoryManager,
        scopes: Sequence[str],
        *,
        bot: str,
        trigger: str,
        sync_io: Offload,
    ) -> None:
        self._memory = memory
        self._scopes = scopes
        self._bot = bot
        self._trigger = trigger
        self._sync_io = sync_io

    async def settled(self, item: Settled) -> None:
        event = item.result.event
        if event.status == "skipped":
            return
        await self._memory.acapture_event(
            event,
            scopes=self._scopes,
            bot=self._bot,
            trigger=self._trigger,
            target=item.result.target,
            offload=self._sync_io,
        )
