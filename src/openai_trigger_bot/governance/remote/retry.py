"""Which remote failures are retried, how long to wait, and when to give up (tenacity).

Retries wrap the circuit breaker (each attempt asks the breaker again) and are bounded twice:
by ``attempts`` and by the decision's deadline. Only these are retried:

- :class:`~.errors.RemoteTimeoutError` and :class:`~.errors.RemoteTransportError`;
- :class:`~.errors.RemoteHTTPError` with a status in ``statuses`` (429, 502, 503, 504).

An open circuit, a malformed answer, "no decision" and any other status are never retried.
The wait before the next attempt is the server's ``Retry-After`` (429/503) when it sent one,
else exponential backoff with jitter. When the wait would reach the deadline, the last error
is raised at once instead of sleeping in vain.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.retry import retry_base
from tenacity.stop import stop_base

from ...exceptions import ConfigurationError
from .errors import RemoteHTTPError, RemoteTimeoutError, RemoteTransportError

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "parse_retry_after",
    "stop_at_deadline",
    "stop_if_circuit_open",
]

RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Args:
        value: The header value.
        now: Epoch seconds for an HTTP date (default: the current time).

    Returns:
        A non-negative number of seconds, or ``None`` when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class stop_at_deadline(stop_base):
    """Stop when the next attempt would start at or after ``deadline`` (on ``clock``).

    Tenacity computes the wait before asking the stop strategy, so ``upcoming_sleep`` is the
    wait that would follow: a ``Retry-After`` longer than the time left stops at once.
    """

    def __init__(self, deadline: float, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep >= self.deadline


class stop_if_circuit_open(stop_base):
    """Stop when the circuit is open: the next attempt would be refused anyway, so the last
    real failure (say, the 503 that tripped the breaker) is raised instead of waiting."""

    def __init__(self, is_open: Callable[[], bool]) -> None:
        self.is_open = is_open

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.is_open()


@dataclass(frozen=True)
class RetryPolicy:
    """How a remote evaluator retries (the deadline bounds the total time).

    Attributes:
        attempts: Attempts per decision, the first included (``1`` disables retries).
        backoff: The first backoff in seconds; doubled after each failed attempt.
        backoff_max: The longest backoff.
        jitter: Up to this many seconds added at random to each backoff.
        statuses: HTTP statuses that are retried.

    Raises:
        ConfigurationError: ``attempts`` < 1 or a negative duration.
    """

    attempts: int = 3
    backoff: float = 0.05
    backoff_max: float = 1.0
    jitter: float = 0.05
    statuses: frozenset[int] = RETRYABLE_STATUSES

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        for name in ("backoff", "backoff_max", "jitter"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"RetryPolicy.{name} must be >= 0")

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether a failed attempt may be retried (see the module docstring)."""
        if isinstance(exc, (RemoteTimeoutError, RemoteTransportError)):
            return True
        return isinstance(exc, RemoteHTTPError) and exc.status_code in self.statuses

    def retryable(self) -> retry_base:
        """The tenacity retry predicate (:meth:`is_retryable`)."""
        return retry_if_exception(self.is_retryable)

    def stop(
        self, deadline: float, clock: Callable[[], float], circuit_open: Callable[[], bool]
    ) -> stop_base:
        """The tenacity stop strategy: ``attempts`` reached, the deadline, or an open circuit."""
        return (
            stop_after_attempt(self.attempts)
            | stop_at_deadline(deadline, clock)
            | stop_if_circuit_open(circuit_open)
        )

    def wait(self) -> Callable[[RetryCallState], float]:
        """The tenacity wait strategy: ``Retry-After`` if sent, else backoff with jitter."""
        backoff = wait_exponential(multiplier=self.backoff, max=self.backoff_max) + wait_random(
            0, self.jitter
        )

        def wait(retry_state: RetryCallState) -> float:
            outcome = retry_state.outcome
            exc = outcome.exception() if outcome is not None else None
            if isinstance(exc, RemoteHTTPError) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(retry_state))

        return wait
