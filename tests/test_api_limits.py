"""Settings the real API would refuse are fixed or refused at setup, never sent.

Limits (checked against openai 3.57 and the API's error texts): ``prompt_cache_key`` at most
64 characters ("string too long. Expected a string with maximum length 64"),
``max_output_tokens`` at least 16 (``integer_below_min_value``), ``reasoning.effort`` one of the
SDK's ``ReasoningEffort`` values.
"""

from __future__ import annotations

import typing

import pytest
from openai.types.shared import ReasoningEffort
from pydantic import ValidationError

from openai_trigger_bot import Bot, BotSettings, GovernedClient, action
from openai_trigger_bot.exceptions import ConfigurationError
from openai_trigger_bot.testing import ScriptedResponses, message

LONG_BOT = "customer-support-escalations"
LONG_TRIGGER = "summarise-and-route-inbound-ticket-to-queue"  # with the bot: 72 characters


@action(global_action=True)
def route(queue: str) -> str:
    """Route the ticket.

    Args:
        queue: The destination queue.
    """
    return "routed"


def _bot(name: str, *, triggers: tuple[str, ...], **settings: typing.Any) -> Bot:
    bot = Bot(name, ScriptedResponses([]).client(), settings=BotSettings(**settings))
    bot.register_actions(route)
    for trigger in triggers:
        bot.trigger(trigger, prompt="Route it.")(lambda: {"ticket": 1})
    return bot


def _key(bot: Bot, trigger: str) -> str:
    return str(bot.request_preview(bot.triggers[trigger]())["prompt_cache_key"])


def test_short_default_key_stays_readable() -> None:
    bot = _bot("support", triggers=("reply",))
    assert _key(bot, "reply") == "support:reply"


def test_long_default_key_is_shortened_stably_within_64() -> None:
    assert len(f"{LONG_BOT}:{LONG_TRIGGER}") == 72
    other = LONG_TRIGGER.replace("queue", "queues")
    bot = _bot(LONG_BOT, triggers=(LONG_TRIGGER, other))
    key = _key(bot, LONG_TRIGGER)
    assert len(key) == 64
    assert key.startswith(f"{LONG_BOT}:summarise-and-rou")  # still readable
    # stable: another bot object (another process would compute the same) gets the same key
    assert _key(_bot(LONG_BOT, triggers=(LONG_TRIGGER,)), LONG_TRIGGER) == key
    # distinct: triggers that differ only past the cut get different keys
    assert _key(bot, other) != key and len(_key(bot, other)) == 64


def test_a_run_with_long_names_sends_a_key_the_api_accepts() -> None:
    scripted = ScriptedResponses([[message("done")]])
    bot = Bot(LONG_BOT, scripted.client())
    bot.register_actions(route)
    bot.trigger(LONG_TRIGGER, prompt="Route it.")(lambda: {"ticket": 1})
    result = bot.run(bot.triggers[LONG_TRIGGER]())
    assert result.status == "completed"
    assert len(scripted.requests[0]["prompt_cache_key"]) <= 64


def test_governed_client_default_key_fits_too() -> None:
    scripted = ScriptedResponses([[message("done")]])
    with GovernedClient(scripted.client(), name="x" * 70) as gc:
        gc.tool("route", route.fn)
        gc.run([{"role": "user", "content": "hi"}])
    key = scripted.requests[0]["prompt_cache_key"]
    assert len(key) == 64 and key.startswith("x" * 40)


def test_user_key_over_64_is_a_configuration_error_at_setup() -> None:
    BotSettings(prompt_cache_key="k" * 64)  # the limit itself is fine
    with pytest.raises(ConfigurationError, match="65 characters"):
        BotSettings(prompt_cache_key="k" * 65)
    with pytest.raises(ConfigurationError, match="prompt_cache_key"):
        BotSettings(extra_body={"prompt_cache_key": "k" * 80})
    bot = _bot("support", triggers=())
    with pytest.raises(ConfigurationError, match="trigger 'reply'"):
        bot.trigger("reply", prompt="Reply.", prompt_cache_key="k" * 65)(lambda: {})
    assert "reply" not in bot.triggers


def test_max_output_tokens_below_16_is_refused() -> None:
    for low in (1, 15):
        with pytest.raises(ValidationError, match="greater than or equal to 16"):
            BotSettings(max_output_tokens=low)
    with pytest.raises(ConfigurationError, match="at least 16"):
        BotSettings(extra_body={"max_output_tokens": 8})
    bot = _bot("support", triggers=("reply",), max_output_tokens=16)
    assert bot.request_preview(bot.triggers["reply"]())["max_output_tokens"] == 16


def _sdk_efforts() -> list[str]:
    (literal,) = [a for a in typing.get_args(ReasoningEffort) if a is not type(None)]
    return list(typing.get_args(literal))


@pytest.mark.parametrize("effort", _sdk_efforts())
def test_every_reasoning_effort_of_the_sdk_is_accepted_and_sent(effort: str) -> None:
    bot = _bot("support", triggers=("reply",), reasoning_effort=effort)
    assert bot.request_preview(bot.triggers["reply"]())["reasoning"] == {"effort": effort}


def test_an_effort_the_sdk_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError):
        BotSettings(reasoning_effort="extreme")  # type: ignore[arg-type]
