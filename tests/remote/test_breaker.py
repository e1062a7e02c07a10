"""The circuit breaker around remote calls: what counts, short-circuiting without I/O,
half-open recovery with one trial at a time, cancellation, and a user-supplied breaker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pybreaker
import pytest

from openai_trigger_bot.governance.remote import (
    BreakerPolicy,
    CircuitOpenError,
    RemoteEvaluator,
    RemoteHTTPError,
    RemoteTransportError,
    RetryPolicy,
)

from .conftest import CountingTransport, FakeTime, native_answer, proposal

BASE = "http://decisions.test"


def make(
    handler: Any, fake_time: FakeTime, *, breaker: Any = None, attempts: int = 1, **options: Any
) -> tuple[RemoteEvaluator, CountingTransport]:
    transport = CountingTransport(handler)
    evaluator = RemoteEvaluator(
        BASE,
        transport=transport,
        breaker=breaker or BreakerPolicy(fail_max=3, reset_timeout=60),
        retry=RetryPolicy(attempts=attempts),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        **options,
    )
    return evaluator, transport


def states(evaluator: RemoteEvaluator) -> list[tuple[str | None, str | None]]:
    return [(e.old_state, e.new_state) for e in evaluator.events if e.kind == "breaker_state"]


async def test_opens_after_fail_max_then_short_circuits_without_any_request(
    fake_time: FakeTime,
) -> None:
    evaluator, transport = make(lambda r: httpx.Response(500), fake_time)
    async with evaluator:
        kinds = []
        for _ in range(3):
            with pytest.raises(RemoteHTTPError) as info:
                await evaluator.evaluate(proposal())
            kinds.append(info.value.failure)  # the tripping call keeps its own kind
        assert evaluator.breaker_state == "open"
        for _ in range(50):
            with pytest.raises(CircuitOpenError) as open_info:
                await evaluator.evaluate(proposal())
        with pytest.raises(CircuitOpenError):
            evaluator.evaluate_sync(proposal())
    assert kinds == ["http_error"] * 3
    assert (
        open_info.value.failure == "circuit_open" and open_info.value.evaluator == "remote-native"
    )
    assert len(transport.requests) == 3  # nothing after the trip reached the network
    assert states(evaluator) == [("closed", "open")]


async def test_an_open_circuit_is_never_retried_and_stops_pending_retries(
    fake_time: FakeTime,
) -> None:
    evaluator, transport = make(
        lambda r: httpx.Response(503), fake_time, breaker=BreakerPolicy(fail_max=2), attempts=5
    )
    async with evaluator:
        with pytest.raises(RemoteHTTPError) as info:  # attempt 2 trips: no wait for attempt 3
            await evaluator.evaluate(proposal())
        with pytest.raises(CircuitOpenError):
            await evaluator.evaluate(proposal())
    assert info.value.status_code == 503
    assert len(transport.requests) == 2 and len(fake_time.sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_do_not_open_the_circuit(fake_time: FakeTime, status: int) -> None:
    evaluator, transport = make(lambda r: httpx.Response(status), fake_time)
    async with evaluator:
        for _ in range(6):
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
    assert evaluator.breaker_state == "closed" and len(transport.requests) == 6


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(408),
        httpx.Response(429),
        httpx.Response(200, content=b"not json"),
    ],
)
async def test_service_failures_count(fake_time: FakeTime, answer: httpx.Response) -> None:
    evaluator, _ = make(lambda r: answer, fake_time)
    async with evaluator:
        for _ in range(3):
            with pytest.raises(Exception):  # noqa: B017 (the kind is tested elsewhere)
                await evaluator.evaluate(proposal())
    assert evaluator.breaker_state == "open"


async def test_no_decision_does_not_count(fake_time: FakeTime) -> None:
    evaluator, _ = make(lambda r: httpx.Response(200, json={}), fake_time, protocol="opa")
    async with evaluator:
        for _ in range(5):
            with pytest.raises(Exception, match="undefined"):
                await evaluator.evaluate(proposal())
    assert evaluator.breaker_state == "closed"


async def test_cancellation_does_not_count_as_a_failure(fake_time: FakeTime) -> None:
    gate = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(500)

    evaluator, transport = make(hang, fake_time, breaker=BreakerPolicy(fail_max=2))
    async with evaluator:
        for _ in range(4):
            task = asyncio.ensure_future(evaluator.evaluate(proposal()))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert evaluator.breaker.fail_counter == 0
        assert evaluator.breaker_state == "closed" and len(transport.requests) == 4


async def test_recovers_through_half_open(fake_time: FakeTime) -> None:
    healthy = False

    def handler(request: httpx.Request) -> httpx.Response:
        return native_answer(request) if healthy else httpx.Response(503)

    evaluator, transport = make(
        handler, fake_time, breaker=BreakerPolicy(fail_max=2, reset_timeout=0.05)
    )
    async with evaluator:
        for _ in range(2):
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
        await asyncio.sleep(0.06)
        # the trial fails: open again, for another reset_timeout
        with pytest.raises(RemoteHTTPError):
            await evaluator.evaluate(proposal())
        with pytest.raises(CircuitOpenError):
            await evaluator.evaluate(proposal())
        healthy = True
        await asyncio.sleep(0.06)
        decision = await evaluator.evaluate(proposal())
        await evaluator.evaluate(proposal())
    assert decision.recommendation == "proceed"
    assert len(transport.requests) == 5
    assert states(evaluator) == [
        ("closed", "open"),
        ("open", "half-open"),
        ("half-open", "open"),
        ("open", "half-open"),
        ("half-open", "closed"),
    ]


async def test_half_open_lets_one_trial_through_at_a_time(fake_time: FakeTime) -> None:
    release = asyncio.Event()
    failing = True

    async def handler(request: httpx.Request) -> httpx.Response:
        if failing:
            return httpx.Response(500)
        await release.wait()
        return native_answer(request)

    evaluator, transport = make(
        handler, fake_time, breaker=BreakerPolicy(fail_max=1, reset_timeout=0.05)
    )
    async with evaluator:
        with pytest.raises(RemoteHTTPError):
            await evaluator.evaluate(proposal())
        failing = False
        await asyncio.sleep(0.06)
        trial = asyncio.ensure_future(evaluator.evaluate(proposal()))
        await asyncio.sleep(0.01)
        assert evaluator.breaker_state == "half-open"
        for _ in range(3):
            with pytest.raises(CircuitOpenError, match="trial"):
                await evaluator.evaluate(proposal())
        release.set()
        assert (await trial).recommendation == "proceed"
        await asyncio.gather(*(evaluator.evaluate(proposal()) for _ in range(3)))
    assert len(transport.requests) == 5  # 1 failure + 1 trial + 3 after closing


async def test_a_user_supplied_breaker_is_used_as_is(fake_time: FakeTime) -> None:
    shared = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=60)  # throw_new_error_on_trip
    first, _ = make(lambda r: httpx.Response(502), fake_time, breaker=shared, name="a")
    second, t2 = make(native_answer, fake_time, breaker=shared, name="b")
    async with first, second:
        with pytest.raises(RemoteHTTPError):  # not pybreaker's CircuitBreakerError
            await first.evaluate(proposal())
        with pytest.raises(CircuitOpenError):
            await second.evaluate(proposal())  # the shared circuit is open for both
    assert first.breaker is shared and len(t2.requests) == 0
    assert asyncio.CancelledError in shared.excluded_exceptions
    assert states(first) == states(second) == [("closed", "open")]


async def test_open_circuit_decision_is_fast(fake_time: FakeTime) -> None:
    evaluator, transport = make(lambda r: httpx.Response(500), fake_time)
    evaluator.breaker.open()
    n = 2000
    started = time.perf_counter()
    for _ in range(n):
        with pytest.raises(CircuitOpenError):
            await evaluator.evaluate(proposal())
    per_call = (time.perf_counter() - started) / n
    assert not transport.requests
    assert per_call < 200e-6  # ~10 µs measured; generous bound for slow CI machines


def _failure() -> Exception:
    return RemoteTransportError("connection reset")


def test_cancellation_neither_resets_the_count_nor_closes_a_trial() -> None:
    from openai_trigger_bot.governance.remote.breaker import Breaker

    breaker = Breaker(BreakerPolicy(fail_max=3, reset_timeout=0.05), lambda *a: None)
    for _ in range(2):
        with pytest.raises(RemoteTransportError), breaker.admit():
            raise _failure()
    assert breaker.circuit.fail_counter == 2
    with pytest.raises(asyncio.CancelledError), breaker.admit():
        raise asyncio.CancelledError()
    assert breaker.circuit.fail_counter == 2  # cancellation proved nothing
    with pytest.raises(RemoteTransportError), breaker.admit():
        raise _failure()
    assert breaker.is_open()
    time.sleep(0.08)  # reset_timeout passes: the next call is the half-open trial
    with pytest.raises(asyncio.CancelledError), breaker.admit():
        raise asyncio.CancelledError()
    assert breaker.is_open()  # a cancelled trial re-opens, it does not close the circuit
