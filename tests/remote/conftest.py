"""Shared helpers for the remote evaluator tests: proposals, fake time, a live fake service."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from openai_trigger_bot.governance import ActionMetadata, ProposedAction
from openai_trigger_bot.governance.remote import NATIVE_PROTOCOL
from openai_trigger_bot.governance.remote.testing import FakeDecisionService


def proposal(action: str = "issue_refund", **fields: Any) -> ProposedAction:
    """A realistic proposal (metadata, target, value, ids)."""
    data: dict[str, Any] = {
        "action": action,
        "arguments": {"customer": "c1", "amount": 20},
        "metadata": ActionMetadata(
            system="stripe", risk="high", environment="production", tags=("money",)
        ),
        "value": 20,
        "target": "c1",
        "bot": "support-bot",
        "actor": "alice",
        "domain": "billing",
        "trigger": "refunds",
        "run_id": "run-1",
        "call_id": "call-1",
    }
    data.update(fields)
    return ProposedAction(**data)


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or by hand)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleep_sync(seconds)

    def sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def service() -> Iterator[FakeDecisionService]:
    with FakeDecisionService() as svc:
        yield svc


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def native_answer(
    request: httpx.Request,
    decision: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A valid native answer to ``request`` (echoing its request id)."""
    body = json.loads(request.content)
    return httpx.Response(
        200,
        json={
            "protocol": NATIVE_PROTOCOL,
            "request_id": body["request_id"],
            "decision": decision or {"recommendation": "proceed", "risk": 0.1},
        },
        headers=headers or {},
    )


def in_turn(*answers: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> Any:
    """A respx side effect giving these answers in turn (a callable is called per request)."""
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        return item(request) if callable(item) else item

    return answer


class CountingTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Counts every request that reaches the network layer, then answers via ``handler``."""

    def __init__(self, handler: Any) -> None:
        self.mock = httpx.MockTransport(handler)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.mock.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.mock.handle_async_request(request)
