"""@action and @bot.trigger definitions: visibility, names, registration errors."""

from __future__ import annotations

import pytest

from openai_trigger_bot import (
    Action,
    ActionDefinitionError,
    Bot,
    BotSettings,
    MemoryRequest,
    TriggerDefinitionError,
    UsageError,
    action,
)
from openai_trigger_bot.testing import ScriptedResponses, message


def _bot() -> Bot:
    return Bot(name="b", client=ScriptedResponses([]).client(), settings=BotSettings())


def test_action_is_hidden_by_default_and_stays_callable() -> None:
    @action
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    assert isinstance(add, Action)
    assert add.global_action is False
    assert add(2, 3) == 5
    assert add.tool["name"] == "add" and add.tool["strict"] is True
    assert add.tool["description"] == "Add two numbers."
    assert "hidden" in repr(add)


def test_global_action_and_name_override() -> None:
    @action(global_action=True, name="sum-two", description="Sums.")
    async def add(a: int, b: int) -> int:
        return a + b

    assert add.global_action and add.is_async
    assert add.name == "sum-two" and add.tool["description"] == "Sums."


@pytest.mark.parametrize("bad", ["has space", "", "x" * 65, "dot.name"])
def test_invalid_action_names_are_refused(bad: str) -> None:
    def fn(a: int) -> int:
        return a

    with pytest.raises(ActionDefinitionError, match="invalid action name"):
        action(name=bad)(fn)


def test_two_actions_with_one_name_are_refused() -> None:
    @action(name="dup")
    def one(a: int) -> int:
        return a

    @action(name="dup")
    def two(a: int) -> int:
        return a

    bot = _bot()
    bot.register_actions(one)
    bot.register_actions(one)  # the same action again is fine
    with pytest.raises(ActionDefinitionError, match="two different actions are named 'dup'"):
        bot.register_actions(two)


def test_registering_a_plain_function_is_refused() -> None:
    def plain(a: int) -> int:
        return a

    with pytest.raises(ActionDefinitionError, match="decorate the function with @action"):
        _bot().register_actions(plain)  # type: ignore[arg-type]


def test_hidden_default_action_is_offered_to_its_trigger_only() -> None:
    @action
    def grant(user: str) -> str:
        """Grant."""
        return user

    scripted = ScriptedResponses([[message("a")], [message("b")]])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings())

    @bot.trigger("with-grant", prompt="p", default_action=grant)
    def with_grant() -> dict[str, str]:
        return {}

    @bot.trigger("without", prompt="p")
    def without() -> dict[str, str]:
        return {}

    bot.run(with_grant())
    bot.run(without())
    assert [t["name"] for t in scripted.requests[0]["tools"]] == ["grant"]
    assert scripted.requests[1]["tools"] == []
    assert "grant" in bot.actions


def test_trigger_definition_errors() -> None:
    bot = _bot()

    def data() -> dict[str, str]:
        return {}

    with pytest.raises(TriggerDefinitionError, match="needs a prompt"):
        bot.trigger("t", prompt="  ")(data)
    with pytest.raises(TriggerDefinitionError, match="default_action must be an @action"):
        bot.trigger("t", prompt="p", default_action=data)(data)  # type: ignore[arg-type]
    with pytest.raises(TriggerDefinitionError, match="hidden_actions must be @actions"):
        bot.trigger("t", prompt="p", hidden_actions=[data])(data)  # type: ignore[list-item]
    with pytest.raises(TriggerDefinitionError, match="MemoryRequest"):
        bot.trigger("t", prompt="p", memory_request={"scopes": ["x"]})(data)  # type: ignore[arg-type]
    bot.trigger("t", prompt="p", memory_request=MemoryRequest(scopes=("global",)))(data)
    with pytest.raises(TriggerDefinitionError, match="already has a trigger 't'"):
        bot.trigger("t", prompt="p")(data)


def test_trigger_data_must_be_serialisable() -> None:
    bot = _bot()

    @bot.trigger("t", prompt="p")
    def t() -> object:
        return {"handle": object()}

    with pytest.raises(TriggerDefinitionError, match="cannot be serialised"):
        t()


def test_invocation_of_another_bot_is_refused() -> None:
    one, two = _bot(), _bot()

    @one.trigger("t", prompt="p")
    def t() -> dict[str, str]:
        return {}

    with pytest.raises(UsageError, match="not a trigger of bot"):
        two.run(t())


def test_request_preview_shows_the_first_request() -> None:
    bot = _bot()

    @bot.trigger("t", prompt="Do the thing.")
    def t(n: int) -> dict[str, int]:
        return {"n": n}

    body = bot.request_preview(t(3))
    assert body["store"] is True and body["prompt_cache_key"] == "b:t"
    assert body["input"][-1]["content"] == 'Trigger data:\n{"n":3}'
