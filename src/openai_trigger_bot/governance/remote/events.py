"""What a remote evaluator reports about itself: breaker transitions, retries, failures.

Each event is a frozen :class:`RemoteEvent`, kept in a bounded log on the evaluator
(``evaluator.events``) and passed to its ``on_event`` callback (telemetry hooks in here). A
callback that raises is logged and ignored: observers never change a decision.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tenacity import RetryCallState

from .errors import RemoteEvaluatorError

__all__ = ["EventKind", "EventLog", "RemoteEvent"]

log = logging.getLogger("openai_trigger_bot.governance.remote")

EventKind = Literal["breaker_state", "retry", "failure"]
"""``breaker_state``: the circuit changed state; ``retry``: an attempt failed and another
follows after ``wait`` seconds; ``failure``: a decision failed for good (``failure`` kind)."""


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    """One thing that happened inside a remote evaluator.

    Attributes:
        kind: See :data:`EventKind`.
        evaluator: The evaluator's name.
        at: When, on the evaluator's clock.
        old_state: ``breaker_state``: the state left (``"closed"``, ``"open"``, ``"half-open"``).
        new_state: ``breaker_state``: the state entered.
        failure: ``retry``/``failure``: the failure kind (``"timeout"``...).
        error: ``retry``/``failure``: the error message.
        status_code: The HTTP status, for ``http_error``.
        attempt: ``retry``: the attempt that failed (1-based).
        wait: ``retry``: seconds until the next attempt.
        request_id: The decision's request id, when one was sent.
    """

    kind: EventKind
    evaluator: str
    at: float
    old_state: str | None = None
    new_state: str | None = None
    failure: str | None = None
    error: str | None = None
    status_code: int | None = None
    attempt: int | None = None
    wait: float | None = None
    request_id: str | None = None


class EventLog:
    """A bounded log of one evaluator's events with an optional observer.

    Args:
        evaluator: The evaluator's name.
        clock: Timestamps the events.
        on_event: Called with every event (exceptions are logged and ignored).
        maxlen: How many recent events to keep.
    """

    def __init__(
        self,
        evaluator: str,
        clock: Callable[[], float],
        on_event: Callable[[RemoteEvent], object] | None = None,
        *,
        maxlen: int = 1000,
    ) -> None:
        self.evaluator = evaluator
        self.clock = clock
        self.events: deque[RemoteEvent] = deque(maxlen=maxlen)
        self.on_event = on_event

    def state_changed(self, old: str | None, new: str) -> None:
        """Record a breaker transition (a ``Breaker`` state callback)."""
        self.emit(
            RemoteEvent("breaker_state", self.evaluator, self.clock(), old_state=old, new_state=new)
        )

    def retrying(self, retry_state: RetryCallState) -> None:
        """Record a failed attempt that will be retried (tenacity ``before_sleep``)."""
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RemoteEvaluatorError):
            self.emit(
                RemoteEvent(
                    "retry",
                    self.evaluator,
                    self.clock(),
                    failure=exc.failure,
                    error=str(exc),
                    status_code=getattr(exc, "status_code", None),
                    attempt=retry_state.attempt_number,
                    wait=retry_state.upcoming_sleep,
                    request_id=exc.request_id,
                )
            )

    def failed(self, exc: RemoteEvaluatorError) -> None:
        """Record a decision that failed for good (and name the evaluator on the error)."""
        if exc.evaluator is None:
            exc.evaluator = self.evaluator
        self.emit(
            RemoteEvent(
                "failure",
                self.evaluator,
                self.clock(),
                failure=exc.failure,
                error=str(exc),
                status_code=getattr(exc, "status_code", None),
                request_id=exc.request_id,
            )
        )

    def emit(self, event: RemoteEvent) -> None:
        """Keep the event and pass it to the observer."""
        self.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception as exc:
                log.warning("remote evaluator on_event hook failed: %r", exc)
