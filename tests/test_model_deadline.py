"""A model call's whole budget, retries included, is the time left before the run's deadline.

The OpenAI SDK retries by itself, giving every attempt the full timeout and sleeping for
``Retry-After`` whatever time is left. Here the SDK makes single attempts and we retry on the
run's clock, so these tests read what was handed to the SDK for each attempt (its timeout, the
SDK's own retry count) and what we waited, all on a fake clock: nothing depends on the
machine's speed and nothing really sleeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import openai
import pytest

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.testing import (
    ScriptedResponses,
    api_error,
    function_call,
    message,
    rate_limited,
    server_error,
)


class FakeTime:
    """The run's monotonic clock and its sleep: time moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Wire:
    """A scripted API behind a transport that records what the SDK sent on each attempt."""

    def __init__(self, time: FakeTime, script: list[tuple[float, Any]]) -> None:
        """``script``: per attempt, the seconds it "takes" on the fake clock and the answer."""
        self.time = time
        self.took = [took for took, _ in script]
        self.scripted = ScriptedResponses([answer for _, answer in script])
        self.timeouts: list[float] = []
        self.sdk_retries: list[str] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.timeouts.append(request.extensions["timeout"]["read"])
        self.sdk_retries.append(request.headers["x-stainless-retry-count"])
        self.time.now += self.took[len(self.timeouts) - 1]
        return self.scripted.handle(request)

    def client(self, *, use_async: bool, max_retries: int = 2) -> Any:
        transport = httpx2.MockTransport(self.handle)
        options: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": self.scripted.base_url,
            "max_retries": max_retries,
        }
        if use_async:
            return openai.AsyncOpenAI(
                **options, http_client=httpx2.AsyncClient(transport=transport)
            )
        return openai.OpenAI(**options, http_client=httpx2.Client(transport=transport))


@action(global_action=True)
def note(text: str) -> str:
    """Write a note.

    Args:
        text: The note.
    """
    return "noted"


def _run(
    wire: Wire,
    *,
    timeout_s: float | None,
    use_async: bool = False,
    max_retries: int = 2,
    runner: str = "run",
) -> Any:
    client = wire.client(use_async=use_async, max_retries=max_retries)
    bot = Bot(
        "b",
        client,
        settings=BotSettings(timeout_s=timeout_s),
        clock=wire.time,
        sleep=wire.time.sleep,
    )
    bot.register_actions(note)
    bot.trigger("t", prompt="Take notes.")(lambda: {"x": 1})
    invocation = bot.triggers["t"]()
    if runner == "arun":
        return asyncio.run(bot.arun(invocation))
    return bot.run(invocation)


CLIENTS = [
    pytest.param(False, "run", id="sync-client-run"),
    pytest.param(True, "run", id="async-client-run"),
    pytest.param(True, "arun", id="async-client-arun"),
    pytest.param(False, "arun", id="sync-client-arun"),
]


@pytest.mark.parametrize(("use_async", "runner"), CLIENTS)
def test_each_attempt_gets_the_time_left_and_the_sdk_never_retries(
    use_async: bool, runner: str
) -> None:
    time = FakeTime()
    wire = Wire(time, [(10, server_error(2)), (5, rate_limited(3)), (1, [message("done")])])
    result = _run(wire, timeout_s=60, use_async=use_async, runner=runner)
    assert result.status == "completed"
    # 60 s at first; then 60 - 10 (first attempt) - 2 (its retry-after); then 48 - 5 - 3
    assert wire.timeouts == [60, 48, 40]
    assert wire.sdk_retries == ["0", "0", "0"]  # every retry is ours, on the run's clock
    assert time.slept == [2, 3]
    assert result.model_calls[0].attempts == 3


@pytest.mark.parametrize(("use_async", "runner"), CLIENTS)
def test_no_wait_past_the_deadline(use_async: bool, runner: str) -> None:
    """A 429 asking for 5 s with 2 s left ends the call at once (the SDK would sleep 5 s)."""
    time = FakeTime()
    wire = Wire(time, [(0, rate_limited(5)), (0, [message("too late")])])
    result = _run(wire, timeout_s=2, use_async=use_async, runner=runner)
    assert result.status == "error"
    assert result.error is not None
    assert "429" in result.error and "deadline" in result.error
    assert len(wire.timeouts) == 1 and time.slept == []
    assert time.now <= 2


def test_no_request_after_the_deadline() -> None:
    """The first attempt used all but 0.1 s; a 0.2 s backoff would start the next too late."""
    time = FakeTime()
    wire = Wire(time, [(59.9, server_error(0.2)), (0, [message("late")])])
    result = _run(wire, timeout_s=60)
    assert result.status == "error"
    assert len(wire.timeouts) == 1 and time.slept == []


def test_a_timed_out_attempt_is_retried_within_the_budget() -> None:
    time = FakeTime()
    read_timeout = httpx2.ReadTimeout("slow")
    wire = Wire(time, [(20, read_timeout), (1, [message("done")])])
    result = _run(wire, timeout_s=60)
    assert result.status == "completed"
    assert wire.timeouts[0] == 60
    assert 39 < wire.timeouts[1] < 40  # 60 - 20 - the SDK-like backoff (0.5 s plus jitter)


def test_retries_follow_the_clients_max_retries() -> None:
    time = FakeTime()
    wire = Wire(time, [(0, server_error(1))] * 3 + [(0, [message("never")])])
    result = _run(wire, timeout_s=60, max_retries=1)
    assert result.status == "error" and "500" in (result.error or "")
    assert len(wire.timeouts) == 2 and result.model_calls[0].attempts == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(api_error(400, "Invalid 'input'."), id="400"),
        pytest.param(rate_limited(121), id="retry-after-over-two-minutes"),
        pytest.param(
            httpx2.Response(500, json={"error": {}}, headers={"x-should-retry": "false"}),
            id="x-should-retry-false",
        ),
    ],
)
def test_what_the_sdk_would_not_retry_is_not_retried(answer: httpx2.Response) -> None:
    time = FakeTime()
    wire = Wire(time, [(0, answer), (0, [message("never")])])
    result = _run(wire, timeout_s=60)
    assert result.status == "error"
    assert len(wire.timeouts) == 1 and time.slept == []


def test_without_a_deadline_attempts_keep_the_clients_timeout() -> None:
    time = FakeTime()
    wire = Wire(time, [(0, server_error(1)), (0, [message("done")])])
    result = _run(wire, timeout_s=None)
    assert result.status == "completed"
    assert wire.timeouts == [600, 600]  # the SDK's default timeout, per attempt
    assert time.slept == [1]


def test_a_later_round_gets_only_what_is_left() -> None:
    time = FakeTime()
    wire = Wire(
        time,
        [(30, [function_call("note", {"text": "a"})]), (1, [message("done")])],
    )
    result = _run(wire, timeout_s=60)
    assert result.status == "completed"
    assert wire.timeouts == [60, 30]
