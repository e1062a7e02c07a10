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
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from ._api_rules import tool_name_problem
from ._schema import FunctionSchema, function_schema
from .exceptions import ActionDefinitionError
from .governance.decision import FAIL_MODES, ActionMetadata, FailMode

__all__ = ["Action", "ActionRegistry", "action"]

R = TypeVar("R")

_RISKS = ("low", "medium", "high", "critical")

Extractor = Callable[[dict[str, Any]], Any]
"""Takes the validated arguments (real Python values, by parameter name) and returns a value."""


def _extractor(
    spec: str | Extractor | None, what: str, name: str, params: Iterable[str]
) -> Extractor | None:
    """Turn ``value_from_args="amount"`` into a lookup; check callables and names early."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in params:
            raise ActionDefinitionError(
                f"action {name!r}: {what}={spec!r} names no parameter "
                f"(parameters: {', '.join(params) or 'none'})"
            )
        key = spec
        return lambda args: args.get(key)
    if not callable(spec):
        raise ActionDefinitionError(
            f"action {name!r}: {what} must be a parameter name or a callable taking the arguments"
        )
    return spec


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
        metadata: What policies know about the action (system, risk, environment, tags).
        value_from_args: Extracts what is at stake (e.g. an amount) for the policy.
        target_from_args: Extracts the affected resource for the policy.
        metadata_from_args: Extracts further facts (a dict) for the policy.
        fail_mode: Overrides the bot's fail mode for this action (``closed`` or ``open``).
            ``open`` applies to outages only: a failure the model's arguments caused (a rule's
            condition over budget or failing) still blocks unless the bot's ``fail_modes``
            names its kind; ``closed`` blocks every failure.
        secret: Parameters whose values never appear in events, decisions, outputs or logs.
        approval_ttl_s: How long an approval request for this action holds, in seconds;
            overrides ``BotSettings.approval_ttl_s`` (``None``: the bot's).
        approvals_required: How many distinct people must approve a call that needs approval
            (default 1; 2 for the four-eyes rule).
        idempotent: Safe to run twice: a call whose execution started but whose end is not
            known (a crash in between) is run again on resume instead of ending ``unknown``.
    """

    __slots__ = (
        "approval_ttl_s",
        "approvals_required",
        "description",
        "fail_mode",
        "fn",
        "global_action",
        "idempotent",
        "is_async",
        "metadata",
        "metadata_from_args",
        "name",
        "schema",
        "secret",
        "target_from_args",
        "tool",
        "value_from_args",
    )

    def __init__(
        self,
        fn: Callable[..., R],
        *,
        name: str | None = None,
        description: str | None = None,
        global_action: bool = False,
        system: str | None = None,
        risk: str | None = None,
        environment: str | None = None,
        tags: Sequence[str] = (),
        value_from_args: str | Extractor | None = None,
        target_from_args: str | Extractor | None = None,
        metadata_from_args: Extractor | None = None,
        fail_mode: FailMode | None = None,
        secret: Sequence[str] = (),
        approval_ttl_s: float | None = None,
        approvals_required: int = 1,
        idempotent: bool = False,
    ) -> None:
        if not callable(fn):
            raise ActionDefinitionError(f"@action needs a function, got {type(fn).__name__}")
        tool_name = name if name is not None else getattr(fn, "__name__", "")
        if tool_name_problem(tool_name):  # the API's rule for function names
            raise ActionDefinitionError(
                f"invalid action name {tool_name!r}: use 1-64 letters, digits, '_' or '-' "
                "(pass name=... to @action)"
            )
        if isinstance(secret, str):
            secret = (secret,)
        schema: FunctionSchema = function_schema(fn, description=description, secret=secret)
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
        params = list(schema.parameters.get("properties", {}))
        if risk is not None and risk not in _RISKS:
            raise ActionDefinitionError(
                f"action {tool_name!r}: risk={risk!r} is not one of {', '.join(_RISKS)}"
            )
        if fail_mode is not None and fail_mode not in FAIL_MODES:
            raise ActionDefinitionError(
                f"action {tool_name!r}: fail_mode={fail_mode!r} is not 'closed' or 'open'"
            )
        if approval_ttl_s is not None and not _positive_seconds(approval_ttl_s):
            raise ActionDefinitionError(
                f"action {tool_name!r}: approval_ttl_s={approval_ttl_s!r} is not a number of "
                "seconds > 0"
            )
        if (
            isinstance(approvals_required, bool)
            or not isinstance(approvals_required, int)
            or not 1 <= approvals_required <= 10
        ):
            raise ActionDefinitionError(
                f"action {tool_name!r}: approvals_required={approvals_required!r} is not a "
                "whole number from 1 to 10"
            )
        if not isinstance(idempotent, bool):
            raise ActionDefinitionError(
                f"action {tool_name!r}: idempotent={idempotent!r} is not True or False"
            )
        if isinstance(tags, str):
            tags = (tags,)
        unknown = [p for p in secret if p not in params]
        if unknown:
            raise ActionDefinitionError(
                f"action {tool_name!r}: secret={unknown!r} names no parameter "
                f"(parameters: {', '.join(params) or 'none'})"
            )
        if metadata_from_args is not None and not callable(metadata_from_args):
            raise ActionDefinitionError(
                f"action {tool_name!r}: metadata_from_args must be a callable taking the arguments"
            )
        self.metadata = ActionMetadata(
            system=system, risk=risk, environment=environment, tags=tuple(tags)
        )
        for what, spec in (
            ("value_from_args", value_from_args),
            ("target_from_args", target_from_args),
        ):
            if isinstance(spec, str) and spec in secret:
                raise ActionDefinitionError(
                    f"action {tool_name!r}: {what}={spec!r} names a secret parameter; a policy "
                    "would see the secret"
                )
        self.value_from_args = _extractor(value_from_args, "value_from_args", tool_name, params)
        self.target_from_args = _extractor(target_from_args, "target_from_args", tool_name, params)
        self.metadata_from_args = metadata_from_args
        self.fail_mode: FailMode | None = fail_mode
        self.secret = frozenset(secret)
        self.approval_ttl_s: float | None = (
            None if approval_ttl_s is None else float(approval_ttl_s)
        )
        self.approvals_required = approvals_required
        self.idempotent = idempotent

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        """Call the wrapped function directly (no validation, no governance)."""
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        scope = "global" if self.global_action else "hidden"
        return f"<Action {self.name} ({scope})>"


def _positive_seconds(value: object) -> bool:
    """Whether ``value`` is a finite number of seconds above zero (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


@overload
def action(fn: Callable[..., R], /) -> Action[R]: ...


@overload
def action(
    *,
    name: str | None = None,
    description: str | None = None,
    global_action: bool = False,
    system: str | None = None,
    risk: str | None = None,
    environment: str | None = None,
    tags: Sequence[str] = (),
    value_from_args: str | Extractor | None = None,
    target_from_args: str | Extractor | None = None,
    metadata_from_args: Extractor | None = None,
    fail_mode: FailMode | None = None,
    secret: Sequence[str] = (),
    approval_ttl_s: float | None = None,
    approvals_required: int = 1,
    idempotent: bool = False,
) -> Callable[[Callable[..., R]], Action[R]]: ...


def action(
    fn: Callable[..., R] | None = None,
    /,
    **options: Any,
) -> Action[R] | Callable[[Callable[..., R]], Action[R]]:
    """Turn a function into an :class:`Action` (usable bare or with options).

    Args:
        fn: The function, when used as ``@action`` without parentheses.
        **options: ``name`` (default: the function name), ``description`` (default: the
            docstring summary), ``global_action`` (offer to every trigger; hidden by default),
            and the governance metadata: ``system``, ``risk`` (``low``, ``medium``, ``high``,
            ``critical``), ``environment``, ``tags``, ``value_from_args`` /
            ``target_from_args`` (a parameter name or a callable taking the validated
            arguments), ``metadata_from_args`` (a callable returning a dict), ``fail_mode``
            (``closed`` or ``open``, overriding the bot's), ``secret`` (parameter names whose
            values are redacted everywhere), ``approval_ttl_s`` (seconds an approval
            request holds, overriding ``BotSettings.approval_ttl_s``), ``approvals_required``
            (distinct approvers a call needs, default 1) and ``idempotent`` (safe to run again
            after a crash left its execution ``unknown``).

    Returns:
        The action, or a decorator that makes one.

    Raises:
        ActionDefinitionError: The function cannot be a strict tool (``*args``, ``**kwargs``,
            positional-only parameters, missing or unsupported type hints, a bad name), or an
            option is wrong (unknown risk, a secret or extractor naming no parameter, an
            ``approval_ttl_s`` that is not a finite number > 0).
    """

    def wrap(func: Callable[..., R]) -> Action[R]:
        return Action(func, **options)

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
