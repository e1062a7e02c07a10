"""``when:`` conditions in CEL (Common Expression Language), compiled once at policy load.

A condition sees these variables (each one is built only when some condition references it):

=========  ==============================================================================
args       the validated arguments (a map)
action     ``{name, system, risk, environment, tags}`` of the proposed action
trigger    the trigger's name (string or null)
value      what is at stake, from the value extractor (usually a number, or null)
target     the resource affected, from the target extractor (string or null)
extra      further facts from the metadata extractor (a map)
bot        the bot's name; ``actor``: on whose behalf it acts; ``domain`` (strings or null)
now        the evaluation time (a timestamp, UTC): ``now.getHours()``, ``now.getDayOfWeek()``
history    counts of this action's outcomes in the rule's ``history.window``, keyed by status
           (``executed``, ``blocked``, ``approval_required``, ``denied``, ``expired``,
           ``tool_error``, ``invalid``, ``skipped``) plus ``total``
=========  ==============================================================================

A missing map key is an error, not ``false``: test optional fields with ``has(args.field)``.
An error while evaluating, or a result that is not a boolean, raises
:class:`~openai_trigger_bot.governance.errors.RuleEvaluationError` from the engine: a broken
condition never allows a call silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import cel

__all__ = [
    "CONTEXT_VARIABLES",
    "CelCondition",
    "ConditionError",
    "compile_condition",
    "describe_failure",
]

CONTEXT_VARIABLES: Final = frozenset(
    {
        "args",
        "action",
        "trigger",
        "value",
        "target",
        "extra",
        "bot",
        "actor",
        "domain",
        "now",
        "history",
    }
)

# Names bound by comprehension macros (`list.exists(x, ...)`) are reported as variables too.
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+)")


class ConditionError(ValueError):
    """A condition does not compile, or references a variable that does not exist.

    Attributes:
        line: The 1-based line inside the expression where the problem is.
    """

    def __init__(self, message: str, *, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class CelCondition:
    """A compiled ``when:`` condition.

    Attributes:
        source: The expression as written.
        program: The compiled program.
        variables: The context variables it references (a subset of
            :data:`CONTEXT_VARIABLES`).
    """

    source: str
    program: Any
    variables: frozenset[str]

    def execute(self, context: Any) -> Any:
        """Run the program on a ``cel.Context`` (or dict); errors propagate as is."""
        return self.program.execute(context)


def compile_condition(source: str) -> CelCondition:
    """Compile a condition and check the variables it uses.

    Raises:
        ConditionError: A syntax error (with the line and column inside the expression) or an
            unknown variable (with the list of available ones).
    """
    if not source.strip():
        raise ConditionError("`when:` is empty: write a CEL expression or remove the key")
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError, TypeError) as exc:
        text = str(exc)
        position = _POSITION.search(text)
        line = int(position.group(1)) if position else 1
        detail = text.split("ERROR: ", 1)[-1]
        detail = _POSITION.sub("", detail).strip(" :").splitlines()[0]
        if position:
            detail += f" (column {position.group(2)} of the expression's line {line})"
        raise ConditionError(f"`when:` is not valid CEL: {detail}", line=line) from exc
    bound = set(_BOUND.findall(source))
    names = set(program.variables()) - bound
    unknown = sorted(names - CONTEXT_VARIABLES)
    if unknown:
        available = ", ".join(sorted(CONTEXT_VARIABLES))
        raise ConditionError(
            f"`when:` uses unknown variable(s) {', '.join(unknown)}; available: {available}"
        )
    return CelCondition(source=source, program=program, variables=frozenset(names))


def describe_failure(exc: Exception) -> str:
    """A readable reason for an error raised while evaluating a condition."""
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        return (
            f"no field {key!r} in the data (test optional fields with has(), e.g. has(args.{key}))"
        )
    message = str(exc).split(". ", 1)[0]
    return f"{type(exc).__name__}: {message}"
