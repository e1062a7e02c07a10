"""A bot's stable request prefix: model, instructions, tools and settings, built once per trigger.

Every round of a run sends the same prefix (so it hits the prompt cache); only ``input`` (and,
when chained, ``previous_response_id``) changes. :func:`compile_trigger` builds a trigger's
prefix and the actions it offers; :func:`request_body` builds a prefix from parts (the
message-driven :class:`~openai_trigger_bot.GovernedClient` uses it directly).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._cache_key import default_cache_key
from ..actions import Action
from ..settings import BotSettings
from ..triggers import Trigger
from .context import stateless_include
from .prompt import build_instructions

__all__ = ["Compiled", "compile_trigger", "request_body"]


@dataclass(frozen=True)
class Compiled:
    """A trigger's stable request parts, built once per set of registered actions."""

    base_body: dict[str, Any]
    allowed: dict[str, Action[Any]]


def request_body(
    settings: BotSettings,
    allowed: dict[str, Action[Any]],
    instructions: str,
    cache_key: str,
    *,
    model: str | None = None,
) -> dict[str, Any]:
    """The stable request fields of a run: model, instructions, tools, settings.

    With ``BotSettings(store=False)``: ``store: false`` and ``include`` asks for the reasoning
    items' ``encrypted_content`` (see :mod:`openai_trigger_bot._run.context`).
    """
    s = settings
    body: dict[str, Any] = {
        "model": model or s.model,
        "instructions": instructions,
        "tools": [a.tool for a in allowed.values()],
        "tool_choice": "auto",
        "parallel_tool_calls": s.parallel_tool_calls,
        "store": s.store,
        "prompt_cache_key": cache_key,
    }
    if s.temperature is not None:
        body["temperature"] = s.temperature
    if s.max_output_tokens is not None:
        body["max_output_tokens"] = s.max_output_tokens
    if s.reasoning_effort is not None:
        body["reasoning"] = {"effort": s.reasoning_effort}
    body.update(s.extra_body)
    if not s.store:
        body["include"] = stateless_include(s.extra_body.get("include"))
    return body


def compile_trigger(
    settings: BotSettings, bot_name: str, global_actions: Iterable[Action[Any]], trig: Trigger
) -> Compiled:
    """A trigger's request prefix and offered actions (global ones, then its hidden ones)."""
    allowed: dict[str, Action[Any]] = {}
    for act in (*global_actions, *trig.hidden_actions):
        allowed.setdefault(act.name, act)
    s = settings
    instructions = build_instructions(
        system_prompt=s.system_prompt,
        trigger_name=trig.name,
        trigger_prompt=trig.prompt,
        tool_names=list(allowed),
        default_action=trig.default_action.name if trig.default_action else None,
    )
    cache_key = (
        trig.prompt_cache_key or s.prompt_cache_key or default_cache_key(bot_name, trig.name)
    )
    return Compiled(request_body(s, allowed, instructions, cache_key), allowed)
