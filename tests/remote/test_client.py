"""RemoteEvaluator behaviour against mocked HTTP (respx): headers, request ids, retries,
deadlines, batches, discovery, configuration and client lifecycle."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
import respx

from openai_trigger_bot.exceptions import ConfigurationError, UsageError
from openai_trigger_bot.governance import Decision
from openai_trigger_bot.governance.remote import (
    BreakerPolicy,
    MalformedAnswerError,
    NoDecisionError,
    RemoteEvaluator,
    RemoteEvent,
    RemoteHTTPError,
    RemoteTimeoutError,
    RemoteTransportError,
    RetryPolicy,
)

from .conftest import FakeTime, in_turn, native_answer, proposal

BASE = "http://decisions.test"
DECIDE = "/v1/decisions"


def remote(fake_time: FakeTime, **options: Any) -> RemoteEvaluator:
    options.setdefault("breaker", BreakerPolicy(fail_max=100))
    return RemoteEvaluator(
        BASE,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        sleep_sync=fake_time.sleep_sync,
        **options,
    )


async def test_sends_auth_request_id_and_json_and_checks_the_answer(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(side_effect=native_answer)
        async with remote(fake_time, token="s3cret", name="svc") as evaluator:
            decision = await evaluator.evaluate(proposal())
    request = route.calls.last.request
    body = json.loads(request.content)
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-request-id"] == body["request_id"] == decision.request_id
    assert len(body["request_id"]) == 32 and int(body["request_id"], 16) >= 0
    assert body["proposal"]["action"] == "issue_refund"
    assert (decision.recommendation, decision.evaluator) == ("proceed", "svc")


async def test_api_key_header_and_extra_headers(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(side_effect=native_answer)
        async with remote(
            fake_time, api_key="k-1", api_key_header="X-Decision-Key", headers={"X-Tenant": "t"}
        ) as evaluator:
            await evaluator.evaluate(proposal())
    headers = route.calls.last.request.headers
    assert (headers["x-decision-key"], headers["x-tenant"]) == ("k-1", "t")
    assert "authorization" not in headers


async def test_each_decision_has_its_own_request_id(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(side_effect=native_answer)
        async with remote(fake_time) as evaluator:
            ids = {(await evaluator.evaluate(proposal())).request_id for _ in range(5)}
    assert len(ids) == 5


async def test_an_answer_for_another_request_is_malformed_and_not_retried(
    fake_time: FakeTime,
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(
            side_effect=lambda request: native_answer(
                request, headers={"X-Request-Id": "someone-else"}
            )
        )
        async with remote(fake_time) as evaluator:
            with pytest.raises(MalformedAnswerError, match="someone-else"):
                await evaluator.evaluate(proposal())
    assert route.call_count == 1


@pytest.mark.parametrize("status", [503, 502, 504, 429])
async def test_retryable_statuses_are_retried_with_backoff(
    fake_time: FakeTime, status: int
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(
            side_effect=in_turn(httpx.Response(status), httpx.Response(status), native_answer)
        )
        async with remote(fake_time, retry=RetryPolicy(attempts=3, backoff=0.1, jitter=0.01)) as ev:
            decision = await ev.evaluate(proposal())
    assert decision.recommendation == "proceed"
    assert route.call_count == 3
    assert len(fake_time.sleeps) == 2
    assert 0.1 <= fake_time.sleeps[0] <= 0.11 and 0.2 <= fake_time.sleeps[1] <= 0.21
    retries = [e for e in ev.events if e.kind == "retry"]
    assert [(e.attempt, e.failure, e.status_code) for e in retries] == [
        (1, "http_error", status),
        (2, "http_error", status),
    ]
    # the same request id on every attempt, so the service can tell retries apart
    assert len({c.request.headers["x-request-id"] for c in route.calls}) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"boom"), (400, b"bad"), (401, b""), (403, b""), (404, b""), (422, b"")],
)
async def test_other_statuses_are_not_retried(
    fake_time: FakeTime, status: int, body: bytes
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(return_value=httpx.Response(status, content=body))
        async with remote(fake_time) as evaluator:
            with pytest.raises(RemoteHTTPError) as info:
                await evaluator.evaluate(proposal())
    assert route.call_count == 1 and fake_time.sleeps == []
    assert (info.value.failure, info.value.status_code) == ("http_error", status)
    assert [e.failure for e in evaluator.events] == ["http_error"]


async def test_retry_after_is_honoured(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(
            side_effect=in_turn(
                httpx.Response(429, headers={"Retry-After": "0.7"}),
                httpx.Response(503, headers={"Retry-After": "1"}),
                native_answer,
            )
        )
        async with remote(fake_time, decision_deadline=5.0) as evaluator:
            await evaluator.evaluate(proposal())
    assert route.call_count == 3
    assert fake_time.sleeps == [0.7, 1.0]


async def test_retry_after_beyond_the_deadline_fails_at_once(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(
            return_value=httpx.Response(503, headers={"Retry-After": "120"})
        )
        async with remote(fake_time, decision_deadline=2.0) as evaluator:
            with pytest.raises(RemoteHTTPError) as info:
                await evaluator.evaluate(proposal())
    assert route.call_count == 1 and fake_time.sleeps == []
    assert info.value.retry_after == 120.0


async def test_attempts_bound_the_retries(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(return_value=httpx.Response(503))
        async with remote(fake_time, retry=RetryPolicy(attempts=4)) as evaluator:
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
    assert route.call_count == 4 and len(fake_time.sleeps) == 3


async def test_the_deadline_bounds_total_time_including_waits(fake_time: FakeTime) -> None:
    started = fake_time.now

    def slow_failure(request: httpx.Request) -> httpx.Response:
        fake_time.now += 0.4  # each attempt "takes" 0.4 s
        raise httpx.ConnectTimeout("slow", request=request)

    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(side_effect=slow_failure)
        policy = RetryPolicy(attempts=100, backoff=0.1, backoff_max=0.1, jitter=0)
        async with remote(fake_time, retry=policy, decision_deadline=1.5) as evaluator:
            with pytest.raises(RemoteTimeoutError) as info:
                await evaluator.evaluate(proposal())
    assert info.value.phase == "connect"
    assert route.call_count == 3  # 0.4 + 0.1 + 0.4 + 0.1 + 0.4 = 1.4; one more would pass 1.5
    assert fake_time.now - started <= 1.5


async def test_each_attempt_gets_timeouts_cut_to_the_time_left(fake_time: FakeTime) -> None:
    seen: list[dict[str, float]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        fake_time.now += 0.9
        return httpx.Response(503)

    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(side_effect=record)
        policy = RetryPolicy(attempts=2, backoff=0, jitter=0)
        evaluator = remote(
            fake_time, retry=policy, connect_timeout=0.25, read_timeout=1.0, decision_deadline=1.5
        )
        async with evaluator:
            with pytest.raises(RemoteHTTPError):
                await evaluator.evaluate(proposal())
    assert seen[0] == {"connect": 0.25, "read": 1.0, "write": 1.0, "pool": 1.5}
    assert seen[1]["read"] == pytest.approx(0.6) and seen[1]["pool"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("exc", "error", "phase"),
    [
        (httpx.ConnectTimeout("t"), RemoteTimeoutError, "connect"),
        (httpx.ReadTimeout("t"), RemoteTimeoutError, "read"),
        (httpx.WriteTimeout("t"), RemoteTimeoutError, "write"),
        (httpx.PoolTimeout("t"), RemoteTimeoutError, "pool"),
        (httpx.ConnectError("refused"), RemoteTransportError, None),
        (httpx.RemoteProtocolError("hung up"), RemoteTransportError, None),
        (httpx.ReadError("reset"), RemoteTransportError, None),
    ],
)
async def test_transport_failures_are_translated_and_retried(
    fake_time: FakeTime, exc: Exception, error: type[Exception], phase: str | None
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(side_effect=exc)
        async with remote(fake_time, retry=RetryPolicy(attempts=2)) as evaluator:
            with pytest.raises(error) as info:
                await evaluator.evaluate(proposal())
    assert route.call_count == 2
    assert getattr(info.value, "phase", None) == phase
    assert isinstance(info.value.__cause__, httpx.TransportError)  # translated at the edge


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(200, content=b"<html>"), MalformedAnswerError),
        (httpx.Response(200, json={"protocol": "x"}), MalformedAnswerError),
    ],
)
async def test_malformed_answers_are_not_retried(
    fake_time: FakeTime, answer: httpx.Response, error: type[Exception]
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(return_value=answer)
        async with remote(fake_time) as evaluator:
            with pytest.raises(error):
                await evaluator.evaluate(proposal())
    assert route.call_count == 1


async def test_opa_undefined_is_no_decision_and_not_retried(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v1/data/bots/refund").mock(return_value=httpx.Response(200, json={}))
        async with remote(fake_time, protocol="opa", opa_path="bots/refund") as evaluator:
            with pytest.raises(NoDecisionError):
                await evaluator.evaluate(proposal())
    assert route.call_count == 1
    assert json.loads(route.calls.last.request.content)["input"]["action"] == "issue_refund"


def test_sync_evaluation_shares_the_behaviour(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(DECIDE).mock(
            side_effect=in_turn(httpx.Response(503, headers={"Retry-After": "0.5"}), native_answer)
        )
        with remote(fake_time, token="t") as evaluator:
            decision = evaluator.evaluate_sync(proposal())
            mock.post(DECIDE).mock(return_value=httpx.Response(500))
            with pytest.raises(RemoteHTTPError):
                evaluator.evaluate_sync(proposal())
    assert decision.request_id == route.calls[0].request.headers["x-request-id"]
    assert route.calls[0].request.headers["authorization"] == "Bearer t"
    assert fake_time.sleeps == [0.5]


async def test_native_batch_is_one_request(fake_time: FakeTime) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        decisions = [
            {"recommendation": "proceed" if p["action"] == "ok" else "do_not_proceed"}
            for p in body["proposals"]
        ]
        return httpx.Response(
            200,
            json={
                "protocol": body["protocol"],
                "request_id": body["request_id"],
                "decisions": decisions,
            },
        )

    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v1/decisions:batch").mock(side_effect=answer)
        async with remote(fake_time) as evaluator:
            got = await evaluator.evaluate_batch([proposal("ok"), proposal("no"), proposal("ok")])
            assert await evaluator.evaluate_batch([]) == []
    assert route.call_count == 1
    assert [d.recommendation for d in got if isinstance(d, Decision)] == [
        "proceed",
        "do_not_proceed",
        "proceed",
    ]


async def test_batch_failure_is_returned_for_every_proposal(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/access/v1/evaluations").mock(return_value=httpx.Response(500))
        async with remote(fake_time, protocol="authzen") as evaluator:
            got = await evaluator.evaluate_batch([proposal(), proposal()])
    assert [type(x) for x in got] == [RemoteHTTPError, RemoteHTTPError]


async def test_authzen_batch_and_opa_concurrent_singles(fake_time: FakeTime) -> None:
    with respx.mock(base_url=BASE) as mock:
        authzen = mock.post("/access/v1/evaluations").mock(
            return_value=httpx.Response(
                200,
                json={
                    "evaluations": [
                        {"decision": True},
                        {"decision": False, "context": {"reason": "approval_required"}},
                    ]
                },
            )
        )
        opa = mock.post("/v1/data/openai_trigger_bot/decision").mock(
            side_effect=[httpx.Response(200, json={"result": True}), httpx.Response(200, json={})]
        )
        async with (
            remote(fake_time, protocol="authzen") as pdp,
            remote(fake_time, protocol="opa") as o,
        ):
            pair = await pdp.evaluate_batch([proposal("a"), proposal("b")])
            singles = await o.evaluate_batch([proposal("a"), proposal("b")])
    assert authzen.call_count == 1 and opa.call_count == 2
    assert [d.recommendation for d in pair if isinstance(d, Decision)] == [
        "proceed",
        "review_recommended",
    ]
    assert isinstance(singles[0], Decision) and isinstance(singles[1], NoDecisionError)


async def test_discovery_uses_the_advertised_endpoints(fake_time: FakeTime) -> None:
    config = {
        "policy_decision_point": BASE,
        "access_evaluation_endpoint": f"{BASE}/pdp/eval",
        "access_evaluations_endpoint": f"{BASE}/pdp/evals",
    }
    with respx.mock(base_url=BASE) as mock:
        mock.get("/.well-known/authzen-configuration").mock(
            return_value=httpx.Response(200, json=config)
        )
        evaluate = mock.post("/pdp/eval").mock(
            return_value=httpx.Response(200, json={"decision": True})
        )
        evaluator = await RemoteEvaluator.discover(BASE, token="t")
        async with evaluator:
            decision = await evaluator.evaluate(proposal())
        with RemoteEvaluator.discover_sync(BASE) as sync_evaluator:
            assert sync_evaluator.wire.batch_path == f"{BASE}/pdp/evals"
    assert decision.recommendation == "proceed" and evaluate.call_count == 1
    assert evaluate.calls.last.request.headers["authorization"] == "Bearer t"


async def test_discovery_refuses_a_document_naming_another_pdp() -> None:
    config = {
        "policy_decision_point": "https://evil.test",
        "access_evaluation_endpoint": "https://evil.test/e",
    }
    with respx.mock(base_url=BASE) as mock:
        mock.get("/.well-known/authzen-configuration").mock(
            return_value=httpx.Response(200, json=config)
        )
        with pytest.raises(MalformedAnswerError, match="evil"):
            await RemoteEvaluator.discover(BASE)
        with pytest.raises(MalformedAnswerError, match="evil"):
            RemoteEvaluator.discover_sync(BASE)


@pytest.mark.parametrize(
    "options",
    [
        {"connect_timeout": 0},
        {"decision_deadline": -1},
        {"max_connections": 0},
        {"protocol": "soap"},
        {"protocol": "opa", "opa_path": "../etc"},
        {"verify": "/nonexistent/ca.pem"},
    ],
)
def test_configuration_errors_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RemoteEvaluator(BASE, **options)


def test_base_url_must_be_http() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        RemoteEvaluator("ftp://x")
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigurationError):
        BreakerPolicy(reset_timeout=0)


def test_one_async_client_per_event_loop_and_close_closes_all() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(side_effect=native_answer)
        evaluator = RemoteEvaluator(BASE)
        loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
        try:
            for loop in loops:
                for _ in range(2):
                    loop.run_until_complete(evaluator.evaluate(proposal()))
            clients = list(evaluator._pool._async.values())
            assert len(clients) == 2 and clients[0] is not clients[1]
            evaluator.close()
            assert all(c.is_closed for c in clients) and evaluator._pool.open_clients == 0
        finally:
            for loop in loops:
                loop.close()


def test_close_reaches_a_loop_running_in_another_thread() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(side_effect=native_answer)
        evaluator = RemoteEvaluator(BASE)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(evaluator.evaluate(proposal()), loop).result(5)
            (client,) = evaluator._pool._async.values()
            evaluator.close()
            assert client.is_closed
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()


async def test_close_inside_a_running_loop_is_a_usage_error() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(side_effect=native_answer)
        evaluator = RemoteEvaluator(BASE)
        await evaluator.evaluate(proposal())
        with pytest.raises(UsageError, match="aclose"):
            evaluator.close()
        await evaluator.aclose()
        assert evaluator._pool.open_clients == 0
        evaluator.close()  # nothing async left: fine inside a loop


async def test_event_hook_errors_are_ignored_and_the_log_is_bounded(fake_time: FakeTime) -> None:
    seen: list[RemoteEvent] = []

    def hook(event: RemoteEvent) -> None:
        seen.append(event)
        raise RuntimeError("observer bug")

    with respx.mock(base_url=BASE) as mock:
        mock.post(DECIDE).mock(return_value=httpx.Response(500))
        async with remote(fake_time, on_event=hook, max_events=3) as evaluator:
            for _ in range(5):
                with pytest.raises(RemoteHTTPError):
                    await evaluator.evaluate(proposal())
    assert len(seen) == 5 and len(evaluator.events) == 3
    assert {(e.kind, e.failure, e.status_code) for e in seen} == {("failure", "http_error", 500)}
    assert seen[0].evaluator == "remote-native" and seen[0].request_id is not None
