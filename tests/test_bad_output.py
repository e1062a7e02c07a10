"""Bad model output never executes and never crashes the run: one test per case."""

from __future__ import annotations

from datetime import datetime

import httpx2
import pytest

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.exceptions import ActionError
from openai_trigger_bot.testing import ScriptedResponses, api_error, function_call, message

from .conftest import Kit, invoke


def _run_one_bad_call(kit: Kit, call: dict[str, object]) -> tuple[object, ScriptedResponses]:
    scripted = ScriptedResponses([[call], [message("ok")]])
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    return result, scripted


def _sent_output(scripted: ScriptedResponses) -> str:
    (item,) = scripted.requests[1]["input"]
    assert item["type"] == "function_call_output"
    return str(item["output"])


def test_unknown_tool(kit: Kit) -> None:
    result, scripted = _run_one_bad_call(kit, function_call("drop_database", {"name": "prod"}))
    assert kit.calls.log == []
    assert result.status == "completed"  # type: ignore[attr-defined]
    event = result.events[0]  # type: ignore[attr-defined]
    assert (event.status, event.error) == ("invalid", "unknown tool")
    out = _sent_output(scripted)
    assert "no tool named 'drop_database'" in out
    assert "send_message, remember_fact" in out
    assert result.action_calls == ()  # type: ignore[attr-defined]


def test_tool_not_allowed_for_this_trigger(kit: Kit) -> None:
    result, scripted = _run_one_bad_call(kit, function_call("delete_everything", {"confirm": True}))
    assert kit.calls.log == []
    event = result.events[0]  # type: ignore[attr-defined]
    assert (event.status, event.error) == ("invalid", "tool not allowed for this trigger")
    out = _sent_output(scripted)
    assert "'delete_everything' is not available for this task" in out
    assert "Tools you may call: send_message, remember_fact." in out


@pytest.mark.parametrize("raw", ['{"chat_id": "a", "text": ', "not json at all", "{'a': 1}"])
def test_arguments_not_json(kit: Kit, raw: str) -> None:
    result, scripted = _run_one_bad_call(kit, function_call("send_message", raw))
    assert kit.calls.log == []
    assert result.events[0].status == "invalid"  # type: ignore[attr-defined]
    assert "not valid JSON" in _sent_output(scripted)


def test_arguments_not_an_object(kit: Kit) -> None:
    _, scripted = _run_one_bad_call(kit, function_call("send_message", '["a", "b"]'))
    assert kit.calls.log == []
    assert "must be a JSON object, not list" in _sent_output(scripted)


def test_arguments_fail_validation(kit: Kit) -> None:
    result, scripted = _run_one_bad_call(
        kit, function_call("send_message", {"chat_id": 12, "extra": "x"})
    )
    assert kit.calls.log == []
    event = result.events[0]  # type: ignore[attr-defined]
    assert event.status == "invalid"
    out = _sent_output(scripted)
    assert out.startswith("Error: invalid arguments for send_message:")
    assert "text" in out  # the missing field is named
    assert len(out) < 400


def test_action_that_raises(kit: Kit) -> None:
    @action(global_action=True)
    def flaky(n: int) -> int:
        """Fails.

        Args:
            n: A number.
        """
        raise RuntimeError("disk full")

    scripted = ScriptedResponses([[function_call("flaky", {"n": 1})], [message("ok")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(flaky)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.status == "completed"
    event = result.events[0]
    assert event.status == "tool_error"
    assert event.error == "RuntimeError: disk full"
    out = _sent_output(scripted)
    assert out == "Error: flaky failed (RuntimeError: disk full)."
    assert "Traceback" not in out
    assert result.action_calls[0].ok is False


def test_action_error_message_goes_to_the_model_verbatim() -> None:
    @action(global_action=True)
    def lookup(order_id: str) -> str:
        """Look up an order.

        Args:
            order_id: The order id.
        """
        raise ActionError("Order not found; ask the customer for the id on their receipt.")

    scripted = ScriptedResponses([[function_call("lookup", {"order_id": "x"})], [message("ok")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(lookup)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.events[0].status == "tool_error"
    expected = "Order not found; ask the customer for the id on their receipt."
    assert _sent_output(scripted) == expected


def test_unserialisable_return_value_is_a_tool_error() -> None:
    @action(global_action=True)
    def opener() -> object:
        """Returns something with no JSON form."""
        return object()

    scripted = ScriptedResponses([[function_call("opener", {})], [message("ok")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(opener)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.status == "completed"
    assert result.events[0].status == "tool_error"
    assert "cannot be serialised to JSON" in _sent_output(scripted)


def test_common_return_types_are_serialised() -> None:
    from dataclasses import dataclass
    from enum import Enum

    from pydantic import BaseModel

    class Colour(Enum):
        RED = "red"

    @dataclass
    class Point:
        x: int

    class Model(BaseModel):
        when: datetime

    @action(global_action=True)
    def everything() -> dict[str, object]:
        """Returns many types."""
        return {
            "model": Model(when=datetime(2026, 1, 2, 3, 4, 5)),
            "point": Point(1),
            "colour": Colour.RED,
            "items": (1, 2),
        }

    scripted = ScriptedResponses([[function_call("everything", {})], [message("ok")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(everything)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    bot.run(t())
    assert _sent_output(scripted) == (
        '{"model":{"when":"2026-01-02T03:04:05"},"point":{"x":1},"colour":"red","items":[1,2]}'
    )


def test_api_failure_ends_with_error_and_keeps_records(kit: Kit) -> None:
    scripted = ScriptedResponses(
        [
            [function_call("send_message", {"chat_id": "a", "text": "b"})],
            api_error(500, "The server had an error while processing your request."),
        ]
    )
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert result.status == "error"
    assert result.error is not None and "500" in result.error
    assert "server had an error" in result.error
    assert len(result.action_calls) == 1 and kit.calls.names() == ["send_message"]
    assert result.model_calls[0].response_id is not None
    assert result.model_calls[1].error == result.error


def test_connection_failure_ends_with_error(kit: Kit) -> None:
    scripted = ScriptedResponses([httpx2.ConnectError("connection refused")])
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert result.status == "error"
    assert result.error is not None and "could not reach" in result.error


def test_malformed_api_body_ends_with_error(kit: Kit) -> None:
    scripted = ScriptedResponses([httpx2.Response(200, content=b"<html>oops</html>")])
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert result.status == "error"
    assert "not JSON" in (result.error or "")


def test_sdk_retries_happen_before_giving_up(kit: Kit) -> None:
    scripted = ScriptedResponses([api_error(503, "overloaded"), [message("recovered")]])
    client = scripted.client(max_retries=1)
    bot = Bot(name="b", client=client, settings=BotSettings())
    bot.register_actions(kit.send_message)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.status == "completed"
    assert len(scripted.requests) == 2


def test_scripted_api_refuses_unstored_chaining() -> None:
    """The scripted API behaves like the real one: chaining needs store=True."""
    scripted = ScriptedResponses([[function_call("x", {})], [message("ok")]])
    client = scripted.client()
    first = client.post(
        "/responses",
        body={"model": "m", "input": "hi", "store": False},
        cast_to=httpx2.Response,
    )
    prev = first.json()["id"]
    import openai

    with pytest.raises(openai.BadRequestError, match="not found"):
        client.post(
            "/responses",
            body={"model": "m", "previous_response_id": prev, "input": []},
            cast_to=httpx2.Response,
        )


def test_a_response_with_fields_of_the_wrong_type_ends_with_error(kit: Kit) -> None:
    from openai_trigger_bot.testing import response_body

    body = response_body([])
    body["output"] = 5
    scripted = ScriptedResponses([body])
    bot = kit.make_bot(scripted)
    result = bot.run(invoke(bot))
    assert result.status == "error"
    assert "malformed response" in (result.error or "")


def test_a_model_backend_that_raises_anything_ends_with_error(kit: Kit) -> None:
    class Broken:
        async def create(self, body: dict[str, object], *, timeout: float | None) -> object:
            raise RuntimeError("bound to a different event loop")

    bot = Bot(name="b", model=Broken(), settings=BotSettings())  # type: ignore[arg-type]
    bot.register_actions(kit.send_message)

    @bot.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.status == "error"
    assert "RuntimeError" in (result.error or "")


def test_governance_options_beside_a_prebuilt_governance_are_refused() -> None:
    from openai_trigger_bot import ConfigurationError, Governance

    with pytest.raises(ConfigurationError, match="go into Governance"):
        Bot(name="b", model=object(), governance=Governance(), fail_mode="open")  # type: ignore[arg-type]
