"""The "ops" bot that the approval, resume and ledger tests drive, and what it ran.

Shared by tests/test_resume.py, tests/test_approval_rules.py, tests/test_ledger.py and
tests/test_approval_requests.py. The actions note each call in :data:`ran`; a test module
that imports :func:`clear_ran` gets it as an autouse fixture, so each of its tests starts
with :data:`ran` empty. Actions only one file uses stay in that file and append to the same
:data:`ran`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from openai_trigger_bot import Bot, BotSettings, RunResult, action
from openai_trigger_bot.testing import ScriptedResponses

ran: list[str] = []


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    """Empty :data:`ran` before each test of a module that imports this fixture."""
    ran.clear()


@action(risk="high")
def restart(cluster: str) -> str:
    """Restart a cluster.

    Args:
        cluster: Cluster name.
    """
    ran.append(f"restart:{cluster}")
    return f"restarted {cluster}"


@action(risk="high")
def rotate(service: str) -> str:
    """Rotate a service's credentials.

    Args:
        service: Service name.
    """
    ran.append(f"rotate:{service}")
    return "rotated"


@action
def lookup(query: str) -> str:
    """Look something up.

    Args:
        query: What to look up.
    """
    ran.append(f"lookup:{query}")
    return "found"


class Clock:
    """Epoch seconds that a test moves forward."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_bot(
    scripted: ScriptedResponses,
    *,
    actions: tuple[Any, ...] = (restart, rotate, lookup),
    store: Any = None,
    clock: Callable[[], float] | None = None,
    settings: BotSettings | None = None,
    prompt: str = "Handle the incident.",
    **options: Any,
) -> Bot:
    """A bot named "ops" on the scripted model with one trigger, "incident".

    Args:
        scripted: The scripted model the bot's client answers from.
        actions: The trigger's (hidden) actions.
        store: The run store (a path or a store); ``None`` keeps runs in the bot's memory.
        clock: The bot's wall clock; ``None`` is a fresh :class:`Clock`.
        settings: The bot's settings; ``None`` is the defaults.
        prompt: The trigger's prompt.
        **options: Any other ``Bot`` argument (policy, approval_handler...).

    Returns:
        The bot; the test closes it (``with``).
    """
    bot = Bot(
        "ops",
        client=scripted.client(),
        run_store=store,
        wall_clock=clock or Clock(),
        settings=settings or BotSettings(),
        **options,
    )

    @bot.trigger("incident", prompt=prompt, hidden_actions=list(actions))
    def incident() -> dict[str, str]:
        return {"alert": "disk full"}

    return bot


def start(bot: Bot) -> RunResult:
    """Run the bot's "incident" trigger once."""
    return bot.run(bot.triggers["incident"]())
