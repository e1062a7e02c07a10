"""Build an action's argument validator, and hold its tool schema to the API's rules.

Both run once, at decoration; every failure is an :class:`ActionDefinitionError` saying what
is wrong and where (the parameter, and the path inside it), never a raw pydantic error.

* :func:`build_validator` builds the pydantic validator and JSON schema of the arguments. A
  ``pattern`` that pydantic's default (Rust) regex engine cannot compile, such as a
  look-around, is compiled with Python's ``re`` instead (pydantic's ``regex_engine=
  "python-re"``), so the pattern is still enforced on the model's arguments.
* :func:`check_api_rules` runs the API's strict-schema rules (:mod:`._api_rules`) on the
  finished tool schema: anything the API would refuse with a 400 (a limit on depth, property
  count, enum count or length; an unsupported keyword) is refused here, naming the rule.
"""

from __future__ import annotations

import inspect
from typing import Any

import typing_extensions
from pydantic import ConfigDict, PydanticUserError, TypeAdapter
from pydantic_core import SchemaError

from ._api_rules import SchemaProblem, schema_problems
from ._strict import SchemaGenerator
from .exceptions import ActionDefinitionError

__all__ = ["build_validator", "check_api_rules"]

_BUILD_ERRORS = (PydanticUserError, SchemaError, TypeError, ValueError)
_JSON_FRIENDLY = (
    "use a JSON-friendly type (str, int, float, bool, list, tuple, Literal, Enum, datetime, "
    "TypedDict, dataclass or pydantic model)"
)
#: ``TypedDict`` called functionally with computed fields (typed ``Any`` for mypy).
_TYPED_DICT: Any = typing_extensions.TypedDict


def _regex_failure(exc: BaseException) -> bool:
    return isinstance(exc, SchemaError) and "regex parse error" in str(exc)


def _build(arguments: Any, config: ConfigDict) -> tuple[TypeAdapter[Any], dict[str, Any]]:
    arguments.__pydantic_config__ = config
    adapter: TypeAdapter[Any] = TypeAdapter(arguments)
    return adapter, adapter.json_schema(schema_generator=SchemaGenerator)


def build_validator(
    where: str, params: list[inspect.Parameter], hints: dict[str, Any], arguments: Any
) -> tuple[TypeAdapter[Any], dict[str, Any]]:
    """Build the validator of the arguments ``TypedDict`` and its pydantic JSON schema.

    Args:
        where: Names the action in error messages (``@action fn()``).
        params: The function's parameters.
        hints: Their resolved type hints.
        arguments: The arguments ``TypedDict`` (its pydantic config is set here).

    Raises:
        ActionDefinitionError: A type pydantic cannot validate or describe, or a ``pattern``
            no regex engine compiles; the message names the parameter.
    """
    config = ConfigDict(extra="forbid")
    try:
        return _build(arguments, config)
    except _BUILD_ERRORS as exc:
        if _regex_failure(exc):  # e.g. a look-around: Python's `re` can run it
            config = ConfigDict(extra="forbid", regex_engine="python-re")
            try:
                return _build(arguments, config)
            except _BUILD_ERRORS as again:
                exc = again
        _blame(where, params, hints, config)
        raise ActionDefinitionError(
            f"{where}: cannot build the argument schema ({_reason(exc)})"
        ) from exc


def _blame(
    where: str, params: list[inspect.Parameter], hints: dict[str, Any], config: ConfigDict
) -> None:
    """Raise for the first parameter whose type alone cannot be built."""
    for param in params:
        alone = _TYPED_DICT("argument", {param.name: hints[param.name]})
        try:
            _build(alone, config)
        except _BUILD_ERRORS as inner:
            if _regex_failure(inner):
                raise ActionDefinitionError(
                    f"{where}: parameter {param.name!r}: a pattern in its type "
                    f"{hints[param.name]!r} is not a regular expression Python or pydantic can "
                    f"compile ({_reason(inner)}); fix the pattern"
                ) from inner
            raise ActionDefinitionError(
                f"{where}: parameter {param.name!r}: pydantic cannot validate or describe its "
                f"type {hints[param.name]!r} ({_reason(inner)}); {_JSON_FRIENDLY}"
            ) from inner


def _reason(exc: BaseException) -> str:
    """The telling line of a pydantic error: its first sentence, or a regex error's cause."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if isinstance(exc, SchemaError):
        causes = [line for line in lines if line.startswith("error:")]
        regex = next((line for line in lines if "regex parse error" in line), None)
        if causes:
            return causes[-1].removeprefix("error:").strip()
        if regex is not None:
            return regex.split("SchemaError:")[-1].strip()
        return lines[-1].split("SchemaError:")[-1].strip()
    return lines[0].split(". ", 1)[0].rstrip(".")


def check_api_rules(where: str, parameters: dict[str, Any]) -> None:
    """Refuse a tool schema the API would refuse (its strict-mode rules and limits).

    Args:
        where: Names the action in error messages.
        parameters: The strict tool schema of its arguments.

    Raises:
        ActionDefinitionError: Naming the rule or limit and where it is broken.
    """
    problems = schema_problems(parameters)
    if problems:
        raise ActionDefinitionError(f"{where}: {_describe(problems[0])}")


def _describe(problem: SchemaProblem) -> str:
    rule = f"the OpenAI API refuses this tool schema: {problem.reason}"
    where = problem.where
    if not where:
        return f"{rule} (in the arguments object)"
    if where.startswith("<"):
        name, _, rest = where[1:].partition(">")
        inside = f" at {rest.lstrip('.')!r}" if rest else ""
        return f"type {name!r}{inside}: {rule}"
    param = where.split(".")[0].split("[")[0]
    at = f" (at {where!r})" if where != param else ""
    return f"parameter {param!r}{at}: {rule}"
