"""Whatever the model sends, the run returns a RunResult and keeps every record (item 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[Any] = []


@action
def record(amount: int, note: str = "") -> str:
    """Record an amount.

    Args:
        amount: How much.
        note: Why.
    """
    ran.append(amount)
    return f"recorded {amount} {note}"


HOSTILE = {
    "a 5000-digit integer": '{"amount": ' + "9" * 5000 + "}",
    "a 5000-digit integer inside a string field": '{"amount": 1, "note": ' + "7" * 5000 + "}",
    "NaN": '{"amount": NaN}',
    "Infinity": '{"amount": Infinity}',
    "1e999": '{"amount": 1e999}',
    "a lone surrogate": '{"amount": 1, "note": "\\ud800"}',
    "deep nesting": '{"amount": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "a huge key": '{"' + "k" * 100_000 + '": 1}',
    "duplicate keys": '{"amount": 1, "amount": "x"}',
    "a bare number": "12",
    "a truncated object": '{"amount": 1',
}


@pytest.mark.parametrize("arguments", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_arguments_make_the_call_invalid_and_the_run_goes_on(arguments: str) -> None:
    ran.clear()
    scripted = ScriptedResponses(
        [
            [
                function_call("record", {"amount": 1}),
                function_call("record", arguments),
                function_call("record", {"amount": 2}),
            ],
            [message("done")],
        ]
    )
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(record)

    @bot.trigger("t", prompt="p", hidden_actions=[record])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert result.status == "completed"
    statuses = [e.status for e in result.events]
    assert statuses[0] == statuses[2] == "executed" and sorted(ran) == [1, 2]
    assert statuses[1] in ("invalid", "executed")  # a lone surrogate in free text is a string
    if statuses[1] == "invalid":
        assert result.events[1].message_to_model.startswith("Error:")
    # The run's records and the next request are all well-formed JSON.
    json.loads(result.model_dump_json())
    assert len(scripted.requests) == 2


@action
def charge(amount: float) -> str:
    """Charge an amount.

    Args:
        amount: How much.
    """
    ran.append(amount)
    return f"charged {amount}"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_a_non_finite_number_never_reaches_an_action(number: str) -> None:
    ran.clear()
    scripted = ScriptedResponses(
        [[function_call("charge", '{"amount": ' + number + "}")], [message("done")]]
    )
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(charge)

    @bot.trigger("t", prompt="p", hidden_actions=[charge])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert ran == []
    assert result.events[0].status == "invalid"
    assert result.events[0].error == "arguments hold an unreadable value"
    json.loads(result.model_dump_json())


class Node(BaseModel):
    name: str
    kids: list[Node]


@action
def plant(tree: Node) -> str:
    """Plant a tree.

    Args:
        tree: The tree.
    """
    ran.append("planted")
    return "planted"


@action
def grow(levels: int) -> Any:
    """Grow a nested value.

    Args:
        levels: How deep.
    """
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    ran.append(levels)
    return value


def nested(levels: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"name": "leaf", "kids": []}
    for i in range(levels):
        tree = {"name": f"n{i}", "kids": [tree]}
    return tree


def test_arguments_nested_past_the_limit_are_invalid_and_every_record_stays_serialisable() -> None:
    ran.clear()
    scripted = ScriptedResponses(
        [
            [
                function_call("plant", {"tree": nested(300)}),
                function_call("plant", {"tree": nested(5)}),
            ],
            [message("done")],
        ]
    )
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(plant)

    @bot.trigger("t", prompt="p", hidden_actions=[plant])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert [e.status for e in result.events] == ["invalid", "executed"]
    assert result.events[0].error == "arguments nest too deeply"
    assert ran == ["planted"]
    json.loads(result.model_dump_json())


def test_an_output_nested_past_the_limit_is_a_tool_error_and_the_run_stays_serialisable() -> None:
    ran.clear()
    scripted = ScriptedResponses(
        [
            [function_call("grow", {"levels": 100}), function_call("grow", {"levels": 3})],
            [message("done")],
        ]
    )
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())
    bot.register_actions(grow)

    @bot.trigger("t", prompt="p", hidden_actions=[grow])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    assert [e.status for e in result.events] == ["tool_error", "executed"]
    assert "nests deeper than 64 levels" in (result.events[0].error or "")
    assert result.events[1].output == [[["leaf"]]]
    json.loads(result.model_dump_json())
