"""The circuit breaker around remote calls: what counts, short-circuiting without I/O,
half-open recovery with one trial at a time, cancellation, and a user-supplied breaker.

The open circuit's time is moved forward by hand (:mod:`.breaker_time`), never slept; the cost
of an open-circuit decision is measured in ``benchmarks/remote_decisions.py``."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx
import pybreaker
import pytest

from openai_trigger_bot.governance import ProposedAction
from openai_trigger_bot.governance.remote import (
    BreakerPolicy,
    CircuitOpenError,
    RemoteEvaluator,
    RemoteHTTPError,
    RemoteTransportError,
    RetryPolicy,
)
from openai_trigger_bot.governance.remote.native import NativeProtocol

from .breaker_time import stepped_breaker
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
    gate, entered = asyncio.Event(), asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await gate.wait()
        return httpx.Response(500)

    evaluator, transport = make(hang, fake_time, breaker=BreakerPolicy(fail_max=2))
    async with evaluator:
        for _ in range(4):
            entered.clear()
            task = asyncio.ensure_future(evaluator.evaluate(proposal()))
            await asyncio.wait_for(entered.wait(), 30)  # the call waits inside the service
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert evaluator.breaker.fail_counter == 0
        assert evaluator.breaker_state == "closed" and len(transport.requests) == 4


async def test_recovers_through_half_open(fake_time: FakeTime) -> None:
    healthy = False

    def handler(request: httpx.Request) -> httpx.Response:
        return native_answer(request) if healthy else httpx.Response(503)

    circuit, storage = stepped_breaker(fail_max=2)
    evaluator, transport = make(handler, fake_time, breaker=circuit)
    async with evaluator:
        for _ in range(2):
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
        storage.advance(60)
        # the trial fails: open again, for another reset_timeout
        with pytest.raises(RemoteHTTPError):
            await evaluator.evaluate(proposal())
        with pytest.raises(CircuitOpenError):
            await evaluator.evaluate(proposal())
        healthy = True
        storage.advance(60)
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
    release, in_flight = asyncio.Event(), asyncio.Event()
    failing = True

    async def handler(request: httpx.Request) -> httpx.Response:
        if failing:
            return httpx.Response(500)
        in_flight.set()
        await release.wait()
        return native_answer(request)

    circuit, storage = stepped_breaker(fail_max=1)
    evaluator, transport = make(handler, fake_time, breaker=circuit)
    async with evaluator:
        with pytest.raises(RemoteHTTPError):
            await evaluator.evaluate(proposal())
        failing = False
        storage.advance(60)
        trial = asyncio.ensure_future(evaluator.evaluate(proposal()))
        await asyncio.wait_for(in_flight.wait(), 30)  # the trial waits inside the service
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


class CountingWire(NativeProtocol):
    """The native protocol, counting the request bodies it encodes."""

    encoded: ClassVar[list[str]] = []

    def encode(self, proposal: ProposedAction, request_id: str) -> dict[str, Any]:
        self.encoded.append(request_id)
        return super().encode(proposal, request_id)


async def test_an_open_circuit_decides_without_io_or_encoding(fake_time: FakeTime) -> None:
    """What makes a refused decision cheap; its cost is in benchmarks/remote_decisions.py."""
    CountingWire.encoded.clear()
    evaluator, transport = make(lambda r: httpx.Response(500), fake_time, protocol=CountingWire())
    evaluator.breaker.open()
    for _ in range(200):
        with pytest.raises(CircuitOpenError):
            await evaluator.evaluate(proposal())
    assert not transport.requests and CountingWire.encoded == [] and fake_time.sleeps == []
    failures = [e.failure for e in evaluator.events if e.kind != "breaker_state"]
    assert failures == ["circuit_open"] * 200


def _failure() -> Exception:
    return RemoteTransportError("connection reset")


def test_cancellation_neither_resets_the_count_nor_closes_a_trial() -> None:
    from openai_trigger_bot.governance.remote.breaker import Breaker

    circuit, storage = stepped_breaker(fail_max=3)
    breaker = Breaker(circuit, lambda *a: None)
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
    storage.advance(60)  # reset_timeout passes: the next call is the half-open trial
    with pytest.raises(asyncio.CancelledError), breaker.admit():
        raise asyncio.CancelledError()
    assert breaker.is_open()  # a cancelled trial re-opens, it does not close the circuit
