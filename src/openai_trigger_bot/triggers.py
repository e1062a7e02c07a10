"""Triggers: templates for one kind of bot run (prompt, data, default and hidden actions).

``@bot.trigger(...)`` turns a *data function* into a :class:`Trigger`. Calling the trigger with
the data function's arguments returns an :class:`Invocation` (the data is computed then), and
``bot.run(invocation)`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._cache_key import check_cache_key
from ._json import UnserialisableOutput, to_jsonable
from .actions import Action
from .exceptions import ConfigurationError, TriggerDefinitionError
from .memory.request import MemoryRequest

__all__ = ["Invocation", "Trigger"]


class Trigger:
    """A named run template. Create it with ``@bot.trigger(...)``.

    Attributes:
        name: The trigger's name (also part of the default ``prompt_cache_key``).
        prompt: What the model is asked to do for this trigger.
        data_fn: Returns the trigger's data from the invocation's arguments.
        default_action: The action the instructions push the model towards, if any.
        hidden_actions: Hidden actions this trigger may use (beyond the bot's global ones).
        memory_request: What to recall before the run, if anything.
        prompt_cache_key: Overrides the bot's cache key for this trigger (at most 64
            characters, the API's limit).
    """

    __slots__ = (
        "data_fn",
        "default_action",
        "hidden_actions",
        "memory_request",
        "name",
        "prompt",
        "prompt_cache_key",
    )

    def __init__(
        self,
        name: str,
        data_fn: Callable[..., Any],
        *,
        prompt: str,
        default_action: Action[Any] | None = None,
        hidden_actions: Sequence[Action[Any]] = (),
        memory_request: MemoryRequest | None = None,
        prompt_cache_key: str | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise TriggerDefinitionError("a trigger needs a non-empty name")
        if not isinstance(prompt, str) or not prompt.strip():
            raise TriggerDefinitionError(f"trigger {name!r} needs a prompt (prompt=...)")
        if default_action is not None and not isinstance(default_action, Action):
            raise TriggerDefinitionError(
                f"trigger {name!r}: default_action must be an @action, got {default_action!r}"
            )
        hidden = tuple(hidden_actions)
        for item in hidden:
            if not isinstance(item, Action):
                raise TriggerDefinitionError(
                    f"trigger {name!r}: hidden_actions must be @actions, got {item!r}"
                )
        if memory_request is not None and not isinstance(memory_request, MemoryRequest):
            raise TriggerDefinitionError(
                f"trigger {name!r}: memory_request must be a MemoryRequest"
            )
        if (
            default_action is not None
            and not default_action.global_action
            and default_action not in hidden
        ):
            hidden = (*hidden, default_action)
        try:
            check_cache_key(prompt_cache_key, f"trigger {name!r}: prompt_cache_key")
        except ConfigurationError as exc:
            raise TriggerDefinitionError(str(exc)) from None
        self.name = name
        self.prompt = prompt
        self.data_fn = data_fn
        self.default_action = default_action
        self.hidden_actions = hidden
        self.memory_request = memory_request
        self.prompt_cache_key = prompt_cache_key

    def __call__(self, *args: Any, **kwargs: Any) -> Invocation:
        """Compute the trigger's data and return an invocation to pass to ``bot.run``.

        Raises:
            TriggerDefinitionError: The data function returned something with no JSON form.
        """
        data = self.data_fn(*args, **kwargs)
        try:
            data = to_jsonable(data)
        except UnserialisableOutput as exc:
            raise TriggerDefinitionError(
                f"trigger {self.name!r}: the data function returned {exc}"
            ) from exc
        return Invocation(trigger=self, data=data)

    def __repr__(self) -> str:
        return f"<Trigger {self.name}>"


@dataclass(frozen=True, slots=True)
class Invocation:
    """One trigger with its data, ready to run.

    Attributes:
        trigger: The trigger.
        data: The trigger's data as JSON data.
    """

    trigger: Trigger
    data: Any
