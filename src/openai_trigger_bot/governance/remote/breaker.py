"""A pybreaker circuit breaker used correctly from async (and threaded) code.

pybreaker has no asyncio support: ``call()`` holds a lock for the whole call and
``call_async`` needs tornado. Its ``calling()`` context manager takes the lock only to admit
the call (and to record the result), so it can surround an ``await``. :class:`Breaker` wraps
it:

- :meth:`Breaker.admit` enters ``calling()`` eagerly and returns an :class:`Admission` to use
  as ``with admission: await ...``. An open circuit raises :class:`~.errors.CircuitOpenError`
  from ``admit()`` itself: nothing is sent, nothing is encoded, no retry machinery is built.
- Only failures that say the *service* is unhealthy count (``counts_for_breaker`` on the
  remote errors: timeouts, transport errors, 5xx/408/429, malformed answers). Cancellation,
  other ``BaseException``\\ s, "no decision", 4xx configuration errors and local bugs are
  excluded. pybreaker records an excluded exception as a success (it resets the
  consecutive-failure count); that is its rule for "the service did not fail".
- Half-open admits **one** trial call at a time, as pybreaker's locked ``call()`` would;
  concurrent callers are refused as ``circuit_open`` until the trial ends.
- When the breaker trips on a failing call, the caller sees that call's own error (for
  example ``timeout``), not ``CircuitBreakerError``; later calls see ``circuit_open``.
- State changes go to a callback through a ``pybreaker.CircuitBreakerListener``.

pybreaker times ``reset_timeout`` with the wall clock (``datetime.now``); it cannot be
injected. Tests use a short ``reset_timeout``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pybreaker

from ...exceptions import ConfigurationError
from .errors import CircuitOpenError, RemoteEvaluatorError

__all__ = ["Admission", "Breaker", "BreakerPolicy", "not_a_service_failure"]

StateCallback = Callable[[str | None, str], None]


def not_a_service_failure(exc: BaseException) -> bool:
    """The breaker's exclusion: True for anything that is not evidence of an unhealthy service."""
    return not (isinstance(exc, RemoteEvaluatorError) and exc.counts_for_breaker)


@dataclass(frozen=True)
class BreakerPolicy:
    """Settings for the circuit breaker a remote evaluator builds for itself.

    Attributes:
        fail_max: Consecutive counted failures that open the circuit.
        reset_timeout: Seconds the circuit stays open before a half-open trial.
        success_threshold: Successful trials in half-open that close the circuit.
        name: The breaker's name (default: the evaluator's name).

    Raises:
        ConfigurationError: A non-positive setting.
    """

    fail_max: int = 5
    reset_timeout: float = 30.0
    success_threshold: int = 1
    name: str | None = None

    def __post_init__(self) -> None:
        if self.fail_max < 1 or self.success_threshold < 1 or self.reset_timeout <= 0:
            raise ConfigurationError(
                "BreakerPolicy needs fail_max >= 1, success_threshold >= 1, reset_timeout > 0"
            )

    def build(self, name: str | None = None) -> pybreaker.CircuitBreaker:
        """A new pybreaker breaker with these settings (the trip raises the call's own error)."""
        return pybreaker.CircuitBreaker(
            fail_max=self.fail_max,
            reset_timeout=self.reset_timeout,
            success_threshold=self.success_threshold,
            exclude=_exclusions(),
            name=self.name or name,
            throw_new_error_on_trip=False,
        )


def _exclusions() -> list[Any]:
    # CancelledError is listed on its own (NOTES: cancellation must never count), although
    # not_a_service_failure excludes it too. pybreaker's `exclude` typing has no room for both.
    return [asyncio.CancelledError, not_a_service_failure]


class _StateListener(pybreaker.CircuitBreakerListener):
    def __init__(self, callback: StateCallback) -> None:
        self.callback = callback

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self.callback(None if old_state is None else old_state.name, new_state.name)


class Breaker:
    """A pybreaker breaker plus the async-safe admission described in the module docstring.

    Args:
        breaker: Settings, or an existing ``pybreaker.CircuitBreaker`` (shared state, Redis
            storage...). An existing breaker gets our exclusions and a state listener added.
        on_state_change: Called with ``(old, new)`` state names on every transition.
        name: The breaker's default name.
    """

    def __init__(
        self,
        breaker: BreakerPolicy | pybreaker.CircuitBreaker,
        on_state_change: StateCallback,
        *,
        name: str | None = None,
    ) -> None:
        if isinstance(breaker, BreakerPolicy):
            cb = breaker.build(name)
        else:
            cb = breaker
            for exclusion in _exclusions():
                if exclusion not in cb.excluded_exceptions:
                    cb._excluded_exceptions.append(exclusion)  # accepts callables, unlike add_*
        cb.add_listener(_StateListener(on_state_change))
        self.circuit: pybreaker.CircuitBreaker = cb
        # Re-entrant: state listeners (user callbacks) run during admission, under this lock.
        self._lock = threading.RLock()
        self._trial_running = False

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        return str(self.circuit.current_state)

    def is_open(self) -> bool:
        """True while the circuit is open (before its half-open trial)."""
        return bool(self.circuit.current_state == pybreaker.STATE_OPEN)

    def admit(self) -> Admission:
        """Ask the breaker for one call; use the result as ``with admission: ...`` at once.

        Raises:
            CircuitOpenError: The circuit is open, or half-open with a trial in flight.
        """
        with self._lock:  # synchronous and short: never held across I/O
            circuit = self.circuit
            if self._trial_running and circuit.current_state == pybreaker.STATE_HALF_OPEN:
                raise CircuitOpenError("circuit half-open: a trial call is in flight")
            gate: AbstractContextManager[Any] = circuit.calling()
            try:
                gate.__enter__()
            except pybreaker.CircuitBreakerError:
                raise CircuitOpenError(
                    f"circuit open after {circuit.fail_max} failures; "
                    f"retrying after {circuit.reset_timeout:g}s"
                ) from None
            trial = circuit.current_state == pybreaker.STATE_HALF_OPEN
            if trial:
                self._trial_running = True
        return Admission(self, gate, trial)

    def _end_trial(self) -> None:
        with self._lock:
            self._trial_running = False


class Admission:
    """One admitted call: its ``with`` block's result is recorded by the breaker."""

    __slots__ = ("_breaker", "_gate", "_trial")

    def __init__(self, breaker: Breaker, gate: AbstractContextManager[Any], trial: bool) -> None:
        self._breaker = breaker
        self._gate = gate
        self._trial = trial

    def __enter__(self) -> Admission:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # pybreaker records an excluded exception as a success (counter reset; a half-open
        # trial closes the circuit). Cancellation and errors that say nothing about the
        # service's health must record nothing: note the state and put it back afterwards.
        neutral = exc is not None and not isinstance(exc, RemoteEvaluatorError)
        circuit = self._breaker.circuit
        state, count = circuit.current_state, circuit.fail_counter
        try:
            self._exit(exc_type, exc, tb)
        finally:
            if neutral:
                if state == pybreaker.STATE_HALF_OPEN and circuit.current_state != state:
                    circuit.open()  # the trial proved nothing: back to waiting
                for _ in range(count - circuit.fail_counter):
                    circuit._state_storage.increment_counter()  # storage API, no public twin

    def _exit(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._gate.__exit__(exc_type, exc, tb)
        except pybreaker.CircuitBreakerError:
            # The breaker tripped on this call (throw_new_error_on_trip): keep the call's
            # own error, so the failure kind says what actually happened.
            if exc is None:
                raise
        except BaseException as raised:
            if raised is not exc:
                raise
        finally:
            if self._trial:
                self._breaker._end_trial()
