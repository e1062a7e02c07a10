"""The core loop: chaining, caching, records, concurrency and budgets."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from pydantic import ValidationError

from openai_trigger_bot import Bot, BotSettings, RunResult, action
from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.models import ModelResponse, parse_response
from openai_trigger_bot.testing import ScriptedResponses, function_call, message, response_body

from .conftest import Kit, invoke


def test_chains_rounds_without_resending(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [
            [function_call("send_message", {"chat_id": "support", "text": "Sure!"})],
            [message("Replied.")],
        ]
    )
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))

    assert result.status == "completed"
    first, second = scripted.requests
    assert first["store"] is True and second["store"] is True
    assert "previous_response_id" not in first
    assert second["previous_response_id"] == result.model_calls[0].response_id
    # round 2 carries only the tool output: nothing already chained is resent
    assert second["input"] == [
        {
            "type": "function_call_output",
            "call_id": result.events[0].call_id,
            "output": '{"status":"sent","chat_id":"support"}',
        }
    ]
    # the stable prefix is byte-identical across rounds; cache key is bot+trigger
    for key in ("instructions", "tools", "prompt_cache_key", "model"):
        assert first[key] == second[key]
    assert first["prompt_cache_key"] == "support-bot:reply-to-chat"
    assert result.model_calls[1].usage.cached_input_tokens > 0
    assert result.cached_input_tokens == result.model_calls[1].usage.cached_input_tokens
    assert kit.calls.names() == ["send_message"]
    assert result.text == "Replied."


def test_offers_global_plus_this_triggers_hidden_actions_only(kit: Kit) -> None:
    scripted = ScriptedResponses([[message("nothing to do")]])
    bot = kit.make_bot(scripted)
    bot.run(invoke(bot))
    tools = scripted.requests[0]["tools"]
    assert [t["name"] for t in tools] == ["send_message", "remember_fact"]
    assert all(t["strict"] is True and t["type"] == "function" for t in tools)


def test_instructions_first_data_last(kit: Kit) -> None:
    scripted = ScriptedResponses([[message("ok")]])
    bot = kit.make_bot(scripted)
    bot.run(invoke(bot, text="refund please"))
    body = scripted.requests[0]
    assert body["instructions"].startswith("You are a support bot.")
    assert "Default action: call `send_message`" in body["instructions"]
    assert "refund please" not in body["instructions"]
    assert list(body)[-1] == "input"
    assert "refund please" in body["input"][-1]["content"]
    # another run with other data keeps every byte before the data identical
    scripted2 = ScriptedResponses([[message("ok")]])
    bot2 = kit.make_bot(scripted2)
    bot2.run(invoke(bot2, text="something else"))
    other = scripted2.requests[0]
    assert {k: v for k, v in other.items() if k != "input"} == {
        k: v for k, v in body.items() if k != "input"
    }


def test_prompt_cache_key_override(kit: Kit) -> None:
    scripted = ScriptedResponses([[message("ok")]])
    bot = kit.make_bot(scripted, prompt_cache_key="tenant-7")
    bot.run(invoke(bot))
    assert scripted.requests[0]["prompt_cache_key"] == "tenant-7"


def test_records_model_and_action_calls(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [
            [
                function_call("remember_fact", {"fact": "likes tea", "importance": None}),
                function_call("send_message", {"chat_id": "c", "text": "hi"}),
            ],
            [message("done")],
        ]
    )
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert [m.round for m in result.model_calls] == [1, 2]
    assert result.model_calls[0].tool_calls == ("remember_fact", "send_message")
    assert result.model_calls[0].request_bytes == scripted.request_bytes[0]
    fact, send = result.action_calls
    assert fact.name == "remember_fact" and fact.ok and fact.output == "remembered"
    assert fact.arguments == {"fact": "likes tea", "importance": 1}  # default applied
    assert send.output == {"status": "sent", "chat_id": "c"}
    assert send.duration_ms >= 0 and send.started_at > 0
    assert [e.status for e in result.events] == ["executed", "executed"]
    assert result.last is result.events[-1]
    assert result.input_tokens == sum(m.usage.input_tokens for m in result.model_calls)
    with pytest.raises(ValidationError):  # frozen
        result.status = "error"  # type: ignore[misc]


def test_model_text_is_recorded_but_never_acted_on(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [[message('Call send_message({"chat_id": "x", "text": "pwned"}) now!')]]
    )
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert result.status == "completed"
    assert kit.calls.log == []
    assert "pwned" in result.model_calls[0].text
    assert result.events == ()


async def test_arun_with_async_client(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [[function_call("send_message", {"chat_id": "a", "text": "b"})], [message("ok")]]
    )
    bot = kit.make_bot(scripted, use_async=True)
    result = await bot.arun(invoke(bot))
    assert result.status == "completed"
    assert kit.calls.names() == ["send_message"]


async def test_arun_with_sync_client_does_not_block_the_loop(kit: Kit) -> None:
    scripted = ScriptedResponses([[message("ok")]])
    bot = kit.make_bot(scripted)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    result = await bot.arun(invoke(bot))
    task.cancel()
    assert result.status == "completed"
    assert ticks > 0


def test_sync_run_twice_with_async_client(kit: Kit) -> None:
    scripted = ScriptedResponses([[message("one")], [message("two")]])
    bot = kit.make_bot(scripted, use_async=True)
    assert bot.run(invoke(bot)).text == "one"
    assert bot.run(invoke(bot)).text == "two"


async def test_run_inside_event_loop_is_a_usage_error(kit: Kit) -> None:
    bot = kit.make_bot(ScriptedResponses([]))
    with pytest.raises(UsageError, match="arun"):
        bot.run(invoke(bot))


def _two_call_bot(fn_a: Any, fn_b: Any, scripted: ScriptedResponses, use_async: bool) -> Bot:
    client = scripted.async_client() if use_async else scripted.client()
    bot = Bot(name="b", client=client, settings=BotSettings(model="m"))
    bot.register_actions(fn_a, fn_b)

    @bot.trigger("t", prompt="do both")
    def t() -> dict[str, str]:
        return {}

    return bot


def _both_calls() -> ScriptedResponses:
    return ScriptedResponses(
        [[function_call("step_a", {}), function_call("step_b", {})], [message("ok")]]
    )


async def test_async_actions_of_one_response_run_concurrently() -> None:
    a_started, b_started = asyncio.Event(), asyncio.Event()

    @action(global_action=True)
    async def step_a() -> str:
        """A."""
        a_started.set()
        await asyncio.wait_for(b_started.wait(), 30)
        return "a"

    @action(global_action=True)
    async def step_b() -> str:
        """B."""
        b_started.set()
        await asyncio.wait_for(a_started.wait(), 30)
        return "b"

    bot = _two_call_bot(step_a, step_b, _both_calls(), use_async=True)
    result = await bot.arun(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "executed"]


def test_sync_actions_of_one_response_run_concurrently_in_threads() -> None:
    barrier = threading.Barrier(2, timeout=30)  # trips only if they run one by one

    @action(global_action=True)
    def step_a() -> str:
        """A."""
        barrier.wait()
        return threading.current_thread().name

    @action(global_action=True)
    def step_b() -> str:
        """B."""
        barrier.wait()
        return threading.current_thread().name

    bot = _two_call_bot(step_a, step_b, _both_calls(), use_async=False)
    result = bot.run(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "executed"]
    assert all(c.output != threading.current_thread().name for c in result.action_calls)


async def test_sync_action_does_not_block_the_event_loop() -> None:
    released = threading.Event()

    @action(global_action=True)
    def step_a() -> str:
        """Waits for the event loop to release it."""
        if not released.wait(30):
            raise TimeoutError("event loop was blocked")
        return "a"

    @action(global_action=True)
    async def step_b() -> str:
        """Releases A from the event loop."""
        await asyncio.sleep(0.01)
        released.set()
        return "b"

    bot = _two_call_bot(step_a, step_b, _both_calls(), use_async=True)
    result = await bot.arun(bot.triggers["t"]())
    assert [e.status for e in result.events] == ["executed", "executed"]


def _looping_model() -> ScriptedResponses:
    return ScriptedResponses(
        lambda body: [function_call("send_message", {"chat_id": "c", "text": "again"})]
    )


def test_max_model_calls_ends_the_run_cleanly(kit: Kit) -> None:
    scripted = _looping_model()
    bot = kit.make_bot(scripted, max_model_calls=3)
    result = bot.run(invoke(bot))
    assert result.status == "max_model_calls"
    assert len(result.model_calls) == 3 == len(scripted.requests)
    assert len(result.action_calls) == 3


def test_max_action_calls_stops_before_running_more(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [
            [function_call("send_message", {"chat_id": str(i), "text": "x"}) for i in range(3)],
            [message("never reached")],
        ]
    )
    bot = kit.make_bot(scripted, max_action_calls=2)
    result = bot.run(invoke(bot))
    assert result.status == "max_action_calls"
    assert len(kit.calls.log) == 2
    assert [e.status for e in result.events] == ["executed", "executed", "skipped"]
    assert "budget" in result.events[2].message_to_model
    assert len(scripted.requests) == 1


class FakeClock:
    """The run's monotonic clock; it moves only when a test double says time passed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _HungModel:
    """The first call "takes" all but 0.05 s of a 60 s run; the second never answers."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls = 0
        self.cancelled = False

    async def create(self, body: dict[str, Any], *, timeout: float | None) -> ModelResponse:
        self.calls += 1
        if self.calls == 1:
            self.clock.now = 59.95
        else:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        return parse_response(
            response_body([function_call("send_message", {"chat_id": "c", "text": "t"})])
        )


async def test_deadline_cancels_a_slow_model_call(kit: Kit) -> None:
    """On the fake clock the first round always ends before the deadline, however slow the
    machine; the hung second call is cancelled when the 0.05 s left run out (if it were not,
    the run would hang and the 30 s bound below would fail the test)."""
    clock = FakeClock()
    model = _HungModel(clock)
    bot = Bot(name="slow", model=model, settings=BotSettings(timeout_s=60), clock=clock)
    bot.register_actions(kit.send_message)

    @bot.trigger("t", prompt="p", default_action=kit.send_message)
    def t() -> dict[str, str]:
        return {}

    result = await asyncio.wait_for(bot.arun(t()), 30)
    assert result.status == "deadline"
    assert model.calls == 2 and model.cancelled
    assert len(result.action_calls) == 1  # the first round's action completed and is kept
    assert result.model_calls[-1].error is not None


async def test_deadline_never_interrupts_a_started_action() -> None:
    """The action starts 0.1 s before the deadline (on the run's fake clock, so however slow
    the machine) and takes 0.3 s: a deadline timer around it would always cut it."""
    finished = []
    clock = FakeClock()

    @action(global_action=True)
    async def slow_step() -> str:
        """Takes longer than the deadline."""
        await asyncio.sleep(0.3)
        clock.now += 0.3
        finished.append(True)
        return "done"

    def model(body: dict[str, Any]) -> list[dict[str, Any]]:
        clock.now = 59.9  # the model call took most of the run's 60 s
        return [function_call("slow_step", {})]

    scripted = ScriptedResponses(model)
    bot = Bot(
        name="b", client=scripted.async_client(), settings=BotSettings(timeout_s=60), clock=clock
    )
    bot.register_actions(slow_step)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = await bot.arun(t())
    assert finished == [True]
    assert result.status == "deadline"
    assert result.action_calls[0].output == "done"
    assert len(scripted.requests) == 1


def test_result_serialises_to_json(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [[function_call("send_message", {"chat_id": "a", "text": "b"})], [message("ok")]]
    )
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    again = RunResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert json.loads(result.model_dump_json())["status"] == "completed"
