"""Retries of one model call inside its whole time budget.

The OpenAI SDK retries on its own (408/409/429/5xx, timeouts, connection errors), but it gives
every attempt the full ``timeout`` and sleeps for ``Retry-After`` (up to two minutes) whatever
time is left, so a run with a deadline could overrun it by minutes. The adapter therefore asks
the SDK for single attempts (``max_retries=0``) and retries here, with tenacity, on the run's
clock:

- each attempt gets the time left until the deadline as its timeout;
- between attempts we wait what the server asked (``Retry-After``) or the SDK's backoff;
- a retry whose wait would reach the deadline is not made: the last error ends the call at
  once, saying so, instead of sleeping into the deadline.

The number of retries is the client's own ``max_retries`` (the SDK's default is 2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential,
    wait_random,
)

from .base import ModelError

__all__ = ["MAX_RETRY_AFTER_S", "call_within_budget"]

T = TypeVar("T")

#: The SDK does not retry when the server asks to wait longer than this (``Retry-After``).
MAX_RETRY_AFTER_S = 120.0

# The SDK's backoff: 0.5 s doubling per retry, at most 8 s, with jitter.
_BACKOFF = wait_exponential(multiplier=0.5, max=8.0) + wait_random(0, 0.25)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ModelError) and exc.retryable


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome is not None else None
    if isinstance(exc, ModelError) and exc.retry_after is not None:
        return max(exc.retry_after, 0.0)
    return float(_BACKOFF(state))


@dataclass
class _Stop:
    """Stop after ``attempts`` tries, or when the next try could not start before the deadline.

    Records why it stopped so the error can say so.
    """

    attempts: int
    clock: Callable[[], float]
    deadline: float | None
    reason: str | None = None

    def __call__(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        if self.deadline is None:
            return False
        left = self.deadline - self.clock()
        if state.upcoming_sleep >= left:
            self.reason = (
                f"not retried: the next attempt would start in {state.upcoming_sleep:.3g} s, "
                f"after the run's deadline (in {max(left, 0.0):.3g} s)"
            )
            return True
        return False


async def call_within_budget(
    attempt: Callable[[float | None], Awaitable[T]],
    *,
    budget: float | None,
    max_retries: int,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> tuple[T, int]:
    """Call ``attempt`` until it succeeds, retrying retryable failures within ``budget``.

    Args:
        attempt: One try; takes its timeout in seconds (``None``: the client's default) and
            raises :class:`ModelError` (``retryable``, ``retry_after``) when it fails.
        budget: Seconds for the whole call, retries and waits included (``None``: no limit).
        max_retries: Retries after the first attempt.
        clock: Monotonic seconds (the run's clock).
        sleep: Waits between attempts (a fake one in tests).

    Returns:
        The attempt's result and the number of attempts made.

    Raises:
        ModelError: The last failure, with ``attempts`` set; when a retry was skipped because
            of the deadline, its message says so.
    """
    deadline = None if budget is None else clock() + budget

    async def once() -> T:
        timeout = None if deadline is None else deadline - clock()
        if timeout is not None and timeout <= 0:
            raise ModelError("the run's deadline passed before the model call")
        return await attempt(timeout)

    # The first attempt runs outside tenacity (most calls succeed: no retry machinery to pay
    # for); a retryable failure is then replayed as tenacity's first attempt, so its wait and
    # the deadline check follow the same rules as every later one.
    try:
        return await once(), 1
    except ModelError as exc:
        if not exc.retryable or max_retries == 0:
            raise
        replay: list[ModelError] = [exc]
    stop = _Stop(attempts=max_retries + 1, clock=clock, deadline=deadline)
    retrying = AsyncRetrying(
        stop=stop, wait=_wait, retry=retry_if_exception(_retryable), sleep=sleep, reraise=True
    )
    tries = 0
    try:
        async for try_ in retrying:
            with try_:
                tries += 1
                if replay:
                    raise replay.pop()
                result = await once()
    except ModelError as exc:
        message = str(exc) if stop.reason is None else f"{exc} ({stop.reason})"
        raise ModelError(
            message, retryable=exc.retryable, retry_after=exc.retry_after, attempts=tries
        ) from exc
    return result, tries
