"""Fault injection against a real HTTP service on 127.0.0.1 (started by the tests).

Timeouts, 500/503/429, connection refused, a dropped connection, malformed JSON, a wrong
request id, OPA undefined, slow answers and a flapping service; counts are taken server-side.

Nothing here depends on the machine's speed: waits between attempts go to a fake sleep, a
"slow" answer hangs for 30 s (so only the timeout under test can end the call early, and a
missing timeout fails the test instead of passing slowly), and the breaker's open time is
moved forward by hand.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openai_trigger_bot.governance.remote import (
    BreakerPolicy,
    CircuitOpenError,
    MalformedAnswerError,
    NoDecisionError,
    RemoteEvaluator,
    RemoteHTTPError,
    RemoteTimeoutError,
    RemoteTransportError,
    RetryPolicy,
)
from openai_trigger_bot.governance.remote.testing import FakeDecisionService, Fault

from .breaker_time import stepped_breaker
from .conftest import FakeTime, proposal

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.005, backoff_max=0.01, jitter=0.001)
HUNG = Fault.slow(30.0)  # an answer that never comes in time (stop() releases it)
PATIENT = {"connect_timeout": 10.0, "read_timeout": 60.0}  # timeouts not under test


def client(url: str, **options: Any) -> RemoteEvaluator:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("breaker", BreakerPolicy(fail_max=100))
    return RemoteEvaluator(url, **options)


async def test_keep_alive_reuses_one_connection_and_sends_auth(
    service: FakeDecisionService,
) -> None:
    async with client(service.base_url, token="tok") as evaluator:
        decisions = [await evaluator.evaluate(proposal()) for _ in range(20)]
    assert service.request_count == 20 and service.connection_count == 1
    last = service.requests[-1]
    assert last.headers["authorization"] == "Bearer tok"
    assert last.headers["x-request-id"] == last.body["request_id"] == decisions[-1].request_id
    assert {d.policy_id for d in decisions} == {"fake"}


def test_sync_client_keeps_alive_too(service: FakeDecisionService) -> None:
    with client(service.base_url, api_key="k") as evaluator:
        for _ in range(10):
            assert evaluator.evaluate_sync(proposal()).recommendation == "proceed"
    assert service.request_count == 10 and service.connection_count == 1
    assert service.requests[0].headers["x-api-key"] == "k"


async def test_32_concurrent_decisions(service: FakeDecisionService) -> None:
    async with client(service.base_url) as evaluator:
        got = await asyncio.gather(*(evaluator.evaluate(proposal()) for _ in range(32)))
        again = await asyncio.gather(*(evaluator.evaluate(proposal()) for _ in range(32)))
    assert len({d.request_id for d in [*got, *again]}) == 64
    assert service.request_count == 64 and service.connection_count <= 32


async def test_500_is_an_http_error_and_not_retried(service: FakeDecisionService) -> None:
    service.fault = Fault.error(500)
    async with client(service.base_url) as evaluator:
        with pytest.raises(RemoteHTTPError) as info:
            await evaluator.evaluate(proposal())
    assert (info.value.failure, info.value.status_code) == ("http_error", 500)
    assert service.request_count == 1


async def test_503_is_retried_within_attempts_and_time(
    service: FakeDecisionService, fake_time: FakeTime
) -> None:
    service.fault = Fault.error(503)
    async with client(
        service.base_url, clock=fake_time.clock, sleep=fake_time.sleep, **PATIENT
    ) as evaluator:
        with pytest.raises(RemoteHTTPError) as info:
            await evaluator.evaluate(proposal())
    assert info.value.status_code == 503
    assert service.request_count == 3
    assert [e.attempt for e in evaluator.events if e.kind == "retry"] == [1, 2]
    first, second = fake_time.sleeps  # the only waits: FAST_RETRY's backoff (+ <= 1 ms jitter)
    assert 0.005 <= first <= 0.006 and 0.01 <= second <= 0.011


async def test_429_retry_after_is_honoured_over_http(
    service: FakeDecisionService, fake_time: FakeTime
) -> None:
    service.script(Fault.error(429, retry_after="0.2"))
    async with client(
        service.base_url, clock=fake_time.clock, sleep=fake_time.sleep, **PATIENT
    ) as evaluator:
        decision = await evaluator.evaluate(proposal())
    assert decision.recommendation == "proceed" and service.request_count == 2
    assert fake_time.sleeps == [0.2]  # the header's wait, not the backoff


async def test_a_flapping_service_is_ridden_out_by_retries(service: FakeDecisionService) -> None:
    service.script(Fault.error(503), Fault.dropped())
    async with client(service.base_url) as evaluator:
        decision = await evaluator.evaluate(proposal())
    assert decision.recommendation == "proceed" and service.request_count == 3
    failures = [e.failure for e in evaluator.events if e.kind == "retry"]
    assert failures == ["http_error", "transport_error"]


async def test_slow_answers_time_out_per_read(
    service: FakeDecisionService, fake_time: FakeTime
) -> None:
    service.fault = HUNG
    async with client(
        service.base_url,
        connect_timeout=10.0,
        read_timeout=0.05,
        retry=RetryPolicy(attempts=2, backoff=0),
        clock=fake_time.clock,  # the decision deadline never passes: only reads time out
        sleep=fake_time.sleep,
    ) as evaluator:
        with pytest.raises(RemoteTimeoutError) as info:
            await evaluator.evaluate(proposal())
    assert (info.value.failure, info.value.phase) == ("timeout", "read")
    assert service.request_count == 2


async def test_the_decision_deadline_cuts_a_slow_answer(service: FakeDecisionService) -> None:
    service.fault = HUNG  # without the deadline the call would get its answer after 30 s
    async with client(service.base_url, decision_deadline=0.15, **PATIENT) as evaluator:
        with pytest.raises(RemoteTimeoutError) as info:
            await evaluator.evaluate(proposal())
    assert info.value.phase == "deadline" and service.request_count == 1


def test_the_sync_deadline_cuts_a_slow_answer(service: FakeDecisionService) -> None:
    service.fault = HUNG
    evaluator = client(service.base_url, decision_deadline=0.15, **PATIENT)
    with evaluator, pytest.raises(RemoteTimeoutError) as info:
        evaluator.evaluate_sync(proposal())
    assert info.value.phase == "read"  # sync: the deadline cuts each socket operation
    assert service.request_count == 1


async def test_connection_refused_is_a_transport_error(refused_url: str) -> None:
    async with client(refused_url) as evaluator:
        with pytest.raises(RemoteTransportError) as info:
            await evaluator.evaluate(proposal())
    assert info.value.failure == "transport_error"
    assert [e.failure for e in evaluator.events] == ["transport_error"] * 3  # 2 retries, 1 final


async def test_malformed_json_and_wrong_request_id(service: FakeDecisionService) -> None:
    service.script(Fault.malformed(), Fault.wrong_request_id())
    async with client(service.base_url) as evaluator:
        with pytest.raises(MalformedAnswerError, match="not JSON"):
            await evaluator.evaluate(proposal())
        with pytest.raises(MalformedAnswerError, match="not-your-request"):
            await evaluator.evaluate(proposal())
    assert service.request_count == 2  # neither is retried


async def test_opa_undefined_is_no_decision(service: FakeDecisionService) -> None:
    service.fault = Fault(undefined=True)
    async with client(service.base_url, protocol="opa", opa_path="bots/allow") as evaluator:
        with pytest.raises(NoDecisionError):
            await evaluator.evaluate(proposal())
    assert service.requests[0].path == "/v1/data/bots/allow"
    assert service.requests[0].body["input"]["action"] == "issue_refund"
    assert evaluator.breaker_state == "closed"


async def test_authzen_approval_and_discovery_against_the_service(
    service: FakeDecisionService,
) -> None:
    service.authzen = lambda req: {
        "decision": req["action"]["name"] == "lookup",
        "context": {"access_request": {"href": "https://approvals/1"}},
    }
    evaluator = await RemoteEvaluator.discover(service.base_url)
    async with evaluator:
        allowed = await evaluator.evaluate(proposal("lookup"))
        both = await evaluator.evaluate_batch([proposal("lookup"), proposal("refund")])
    assert allowed.recommendation == "proceed"
    assert [getattr(d, "recommendation", None) for d in both] == ["proceed", "review_recommended"]
    assert [r.path for r in service.requests] == [
        "/.well-known/authzen-configuration",
        "/access/v1/evaluation",
        "/access/v1/evaluations",
    ]


async def test_breaker_opens_short_circuits_and_recovers(service: FakeDecisionService) -> None:
    service.fault = Fault.error(500)
    circuit, storage = stepped_breaker(fail_max=3)
    evaluator = client(service.base_url, breaker=circuit)
    async with evaluator:
        for _ in range(3):
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
        before = (service.request_count, service.connection_count)
        for _ in range(20):
            with pytest.raises(CircuitOpenError):
                await evaluator.evaluate(proposal())
        assert (service.request_count, service.connection_count) == before == (3, 1)
        service.fault = Fault()
        storage.advance(60)  # reset_timeout passes
        assert (await evaluator.evaluate(proposal())).recommendation == "proceed"
    assert evaluator.breaker_state == "closed" and service.request_count == 4
    transitions = [
        (e.old_state, e.new_state) for e in evaluator.events if e.kind == "breaker_state"
    ]
    assert transitions == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]


async def test_each_failure_kind_is_distinct(
    service: FakeDecisionService, refused_url: str
) -> None:
    one_shot = RetryPolicy(attempts=1)
    kinds: list[str] = []
    cases: list[tuple[str, Fault, dict[str, Any]]] = [
        (service.base_url, HUNG, {"read_timeout": 0.05}),
        (refused_url, Fault(), {}),
        (service.base_url, Fault.error(502), {}),
        (service.base_url, Fault.malformed(), {}),
        (service.base_url, Fault(undefined=True), {"protocol": "opa"}),
    ]
    for url, fault, options in cases:
        service.fault = fault
        async with client(url, retry=one_shot, **options) as evaluator:
            with pytest.raises(Exception) as info:
                await evaluator.evaluate(proposal())
            kinds.append(info.value.failure)  # type: ignore[attr-defined]
    breaker_open = client(service.base_url)
    breaker_open.breaker.open()
    with pytest.raises(CircuitOpenError) as info:
        await breaker_open.evaluate(proposal())
    kinds.append(info.value.failure)
    assert kinds == [
        "timeout",
        "transport_error",
        "http_error",
        "malformed",
        "no_decision",
        "circuit_open",
    ]
