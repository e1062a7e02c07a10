"""Shared fixtures: a small bot with counting actions, driven by the scripted Responses API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.actions import Action
from openai_trigger_bot.testing import ScriptedResponses

# No test depends on the machine's speed: hypothesis's default 200 ms per-example deadline
# fails on a loaded machine, so it is off for every property test (speed lives in benchmarks/).
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


@pytest.fixture(autouse=True)
def close_bots(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test owns the bots it makes: each is closed when the test ends.

    A bot owns the private event loops of ``Bot.run`` and its worker threads; one left open
    would only be collected later (an "unclosed event loop" ResourceWarning, an error here).
    Tests of the lifecycle itself close their bots explicitly and check the result.
    """
    made: list[Bot] = []
    init = Bot.__init__

    def tracking(self: Bot, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Bot, "__init__", tracking)
    yield
    for bot in made:
        bot.close()


@dataclass
class Calls:
    """Records every real execution of an action (to prove what did or did not run)."""

    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.log]


@dataclass
class Kit:
    calls: Calls
    send_message: Action[Any]
    remember_fact: Action[Any]
    delete_everything: Action[Any]
    make_bot: Callable[..., Bot]


@pytest.fixture
def kit() -> Kit:
    calls = Calls()

    @action(global_action=True)
    def send_message(chat_id: str, text: str) -> dict[str, str]:
        """Send a chat message.

        Args:
            chat_id: The destination chat identifier.
            text: The message body to deliver.
        """
        calls.log.append(("send_message", {"chat_id": chat_id, "text": text}))
        return {"status": "sent", "chat_id": chat_id}

    @action
    def remember_fact(fact: str, importance: int = 1) -> str:
        """Remember a fact for later runs.

        Args:
            fact: The fact, one sentence.
            importance: 1 (low) to 5 (high).
        """
        calls.log.append(("remember_fact", {"fact": fact, "importance": importance}))
        return "remembered"

    @action
    def delete_everything(confirm: bool) -> str:
        """Delete all data (never offered to the test trigger)."""
        calls.log.append(("delete_everything", {"confirm": confirm}))
        return "deleted"

    def make_bot(scripted: ScriptedResponses, *, use_async: bool = False, **settings: Any) -> Bot:
        client = scripted.async_client() if use_async else scripted.client()
        settings.setdefault("model", "gpt-5.2")
        settings.setdefault("system_prompt", "You are a support bot.")
        bot = Bot(name="support-bot", client=client, settings=BotSettings(**settings))
        bot.register_actions(send_message, remember_fact, delete_everything)

        @bot.trigger(
            "reply-to-chat",
            prompt="Reply to the chat.",
            default_action=send_message,
            hidden_actions=[remember_fact],
        )
        def reply_to_chat(chat_id: str, messages: list[dict[str, str]]) -> dict[str, object]:
            return {"chat_id": chat_id, "messages": messages}

        return bot

    return Kit(calls, send_message, remember_fact, delete_everything, make_bot)


def invoke(bot: Bot, chat_id: str = "support", text: str = "Can you help me?") -> Any:
    """An invocation of the kit bot's trigger."""
    return bot.triggers["reply-to-chat"](chat_id, [{"role": "user", "content": text}])
