"""A pybreaker circuit whose open time the test moves forward (no real waiting).

pybreaker takes no clock: an open circuit compares its ``opened_at`` (kept in the breaker's
state storage) with ``datetime.now``. Moving ``opened_at`` back by N seconds is exactly N
seconds passing for that circuit, so tests use a long ``reset_timeout`` (60 s: real time never
reaches it) and :meth:`SteppedStorage.advance` past it, instead of sleeping a short one.
"""

from __future__ import annotations

from datetime import timedelta

import pybreaker


class SteppedStorage(pybreaker.CircuitMemoryStorage):
    """pybreaker's in-memory state storage, plus :meth:`advance`."""

    def __init__(self) -> None:
        super().__init__(pybreaker.STATE_CLOSED)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the open circuit (nothing happens while it is closed)."""
        opened_at = self.opened_at
        if opened_at is not None:
            self.opened_at = opened_at - timedelta(seconds=seconds)


def stepped_breaker(
    fail_max: int, reset_timeout: float = 60.0
) -> tuple[pybreaker.CircuitBreaker, SteppedStorage]:
    """A breaker built like ``BreakerPolicy.build`` (the trip keeps the call's own error),
    over a :class:`SteppedStorage`."""
    storage = SteppedStorage()
    circuit = pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        state_storage=storage,
        throw_new_error_on_trip=False,
    )
    return circuit, storage
