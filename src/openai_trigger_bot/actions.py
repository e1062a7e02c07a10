"""Actions: Python functions turned into strict OpenAI function tools.

``@action`` builds the tool once, at decoration time, from the function's name, docstring summary,
parameter names, type hints and per-parameter docstring descriptions (see ``_schema``). The
decorated object stays callable like the original function.

Actions are **hidden** by default: a trigger only offers a hidden action when it lists it in
``hidden_actions`` (or names it as its default action). ``global_action=True`` offers the action
to every trigger of the bot.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar, overload

from ._schema import FunctionSchema, function_schema
from .exceptions import ActionDefinitionError

__all__ = ["Action", "ActionRegistry", "action"]

R = TypeVar("R")

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class Action(Generic[R]):
    """A function exposed to the model as a strict function tool.

    Attributes:
        name: The tool name the model calls.
        description: The tool description (docstring summary unless overridden).
        fn: The wrapped function (sync or ``async def``).
        is_async: Whether ``fn`` is a coroutine function.
        global_action: Offered to every trigger when true; hidden otherwise.
        schema: The strict JSON schema and argument validator.
        tool: The function-tool definition sent to the Responses API.
    """

    __slots__ = ("description", "fn", "global_action", "is_async", "name", "schema", "tool")

    def __init__(
        self,
        fn: Callable[..., R],
        *,
        name: str | None = None,
        description: str | None = None,
        global_action: bool = False,
    ) -> None:
        if not callable(fn):
            raise ActionDefinitionError(f"@action needs a function, got {type(fn).__name__}")
        tool_name = name if name is not None else getattr(fn, "__name__", "")
        if not tool_name or not set(tool_name) <= _NAME_CHARS or len(tool_name) > 64:
            raise ActionDefinitionError(
                f"invalid action name {tool_name!r}: use 1-64 letters, digits, '_' or '-' "
                "(pass name=... to @action)"
            )
        schema: FunctionSchema = function_schema(fn, description=description)
        self.fn = fn
        self.name = tool_name
        self.description = schema.description
        self.is_async = inspect.iscoroutinefunction(fn)
        self.global_action = global_action
        self.schema = schema
        self.tool: dict[str, Any] = {
            "type": "function",
            "name": tool_name,
            "description": schema.description,
            "parameters": schema.parameters,
            "strict": True,
        }

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        """Call the wrapped function directly (no validation, no governance)."""
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        scope = "global" if self.global_action else "hidden"
        return f"<Action {self.name} ({scope})>"


@overload
def action(fn: Callable[..., R], /) -> Action[R]: ...


@overload
def action(
    *,
    name: str | None = None,
    description: str | None = None,
    global_action: bool = False,
) -> Callable[[Callable[..., R]], Action[R]]: ...


def action(
    fn: Callable[..., R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    global_action: bool = False,
) -> Action[R] | Callable[[Callable[..., R]], Action[R]]:
    """Turn a function into an :class:`Action` (usable bare or with options).

    Args:
        fn: The function, when used as ``@action`` without parentheses.
        name: The tool name; defaults to the function name.
        description: The tool description; defaults to the docstring summary.
        global_action: Offer the action to every trigger. Hidden by default.

    Returns:
        The action, or a decorator that makes one.

    Raises:
        ActionDefinitionError: The function cannot be a strict tool (``*args``, ``**kwargs``,
            positional-only parameters, missing or unsupported type hints, a bad name).
    """

    def wrap(func: Callable[..., R]) -> Action[R]:
        return Action(func, name=name, description=description, global_action=global_action)

    return wrap(fn) if fn is not None else wrap


class ActionRegistry:
    """The actions a bot knows, by name; refuses two different actions with one name."""

    __slots__ = ("_actions",)

    def __init__(self) -> None:
        self._actions: dict[str, Action[Any]] = {}

    def add(self, item: Action[Any]) -> None:
        """Register an action (registering the same action twice is a no-op).

        Raises:
            ActionDefinitionError: Not an ``Action``, or another action already has the name.
        """
        if not isinstance(item, Action):
            raise ActionDefinitionError(
                f"{item!r} is not an action: decorate the function with @action first"
            )
        existing = self._actions.get(item.name)
        if existing is not None and existing is not item:
            raise ActionDefinitionError(f"two different actions are named {item.name!r}")
        self._actions[item.name] = item

    def extend(self, items: Iterable[Action[Any]]) -> None:
        """Register several actions."""
        for item in items:
            self.add(item)

    def get(self, name: str) -> Action[Any] | None:
        """The action called ``name``, or ``None``."""
        return self._actions.get(name)

    def global_actions(self) -> list[Action[Any]]:
        """Global actions in registration order."""
        return [a for a in self._actions.values() if a.global_action]

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action[Any]]:
        return iter(self._actions.values())

    def __len__(self) -> int:
        return len(self._actions)
