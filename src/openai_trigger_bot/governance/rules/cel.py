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
           (every status of :data:`openai_trigger_bot.outcomes.EVENT_STATUSES`, zero when
           none) plus ``total``
=========  ==============================================================================

A condition may call only the functions the installed ``cel`` package provides (probed, see
:mod:`._cel_functions`): ``size``, ``contains``, ``startsWith``, ``endsWith``, ``matches``, the
conversions (``int``, ``string``, ``timestamp``, ``duration``...) and the timestamp getters; a
call to another (``sort()``, ``lowerAscii()``) is refused at load, like an unknown variable.

A missing map key is an error, not ``false``: test optional fields with ``has(args.field)``.
An error while evaluating, or a result that is not a boolean, raises
:class:`~openai_trigger_bot.governance.errors.RuleEvaluationError` from the engine: a broken
condition never allows a call silently.

Conditions are bounded (see :mod:`.budget`): comprehensions nest at most two deep and a
condition whose literal ranges alone would cost too much is refused here, at load; at run time
a condition that spends its budget fails with ``over_budget``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import cel

from ..errors import ConditionBudgetError
from ._cel_functions import call_line, is_operator, supported_functions
from ._cel_scan import OVER_BUDGET, STEP_FUNCTION, Comprehension, Scan, scan
from .budget import DEFAULT_STEPS, MAX_NESTING, ConditionBudget, Meter, static_costs

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

UNBOUNDED: Final = (
    "`when:` could not be given a cost bound (the condition bounds in docs/policies.md), so it "
    "is refused rather than run unbounded: please report this expression"
)
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
        program: The compiled program; with comprehensions, the instrumented one whose
            iterations call ``_budget_step`` (supply it with :meth:`context_functions`).
        variables: The context variables it references (a subset of
            :data:`CONTEXT_VARIABLES`).
        loops: Its comprehensions, in source order (empty: it needs no step counter).
    """

    source: str
    program: Any
    variables: frozenset[str]
    loops: tuple[Comprehension, ...] = ()

    def execute(
        self, variables: Mapping[str, Any], *, budget: ConditionBudget | None = None
    ) -> Any:
        """Run the program on plain variables, within a budget; other errors propagate as is.

        The engine runs conditions itself (sharing converted data between rules); this is for
        trying one condition on its own.

        Raises:
            ConditionBudgetError: The condition spent its budget (default
                :class:`~.budget.ConditionBudget`); its ``path`` is ``<when>``.
        """
        meter = Meter(budget or ConditionBudget())
        context = cel.Context(variables=dict(variables), functions={STEP_FUNCTION: meter.step})
        meter.start(self.loops)
        try:
            result = self.program.execute(context)
        except Exception:
            if meter.exceeded is None:
                raise
            result = None
        finally:
            meter.stop()
        if meter.exceeded is not None:
            raise ConditionBudgetError(
                f"`when: {self.source.strip()}` is over budget ({meter.exceeded})",
                rule_id="",
                path="<when>",
                line=1,
            )
        return result


def compile_condition(source: str) -> CelCondition:
    """Compile a condition and check the variables it uses.

    Raises:
        ConditionError: A syntax error (with the line and column inside the expression), an
            unknown variable or a function ``cel`` does not provide (with the list of
            available ones).
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
    found = scan(source)
    _check_scan(found)
    bound = {loop.variable for loop in found.comprehensions}
    names = set(program.variables()) - bound
    unknown = sorted(names - CONTEXT_VARIABLES)
    if unknown:
        available = ", ".join(sorted(CONTEXT_VARIABLES))
        raise ConditionError(
            f"`when:` uses unknown variable(s) {', '.join(unknown)}; available: {available}"
        )
    functions = set(program.references()["functions"])
    if STEP_FUNCTION in functions:
        raise ConditionError(f"`when:` may not call `{STEP_FUNCTION}` (the cost counter's name)")
    _check_functions(source, functions)
    loops = _bounded(found.comprehensions)
    if loops:
        program = _instrumented(found.instrumented, program)
    return CelCondition(source=source, program=program, variables=frozenset(names), loops=loops)


def _check_functions(source: str, functions: set[str]) -> None:
    """Refuse a call to a function the installed ``cel`` package does not provide.

    ``cel`` compiles any call and fails only when it runs, so such a condition would pass
    ``policy check`` and then fail every decision (see :mod:`._cel_functions`).
    """
    supported = supported_functions()
    unknown = sorted(functions - supported)
    if not unknown:
        return
    names = ", ".join(f"operator `{n}`" if is_operator(n) else f"{n}()" for n in unknown)
    available = ", ".join(sorted(n for n in supported - {STEP_FUNCTION} if not is_operator(n)))
    raise ConditionError(
        f"`when:` calls {names}, which the installed CEL (the `cel` package) does not "
        f"provide: the condition would fail on every decision. Available: {available}",
        line=call_line(source, unknown[0]),
    )


def _check_scan(found: Scan) -> None:
    """Refuse the condition unless the scanner's tokens agree with CEL's.

    Comprehensions are found by a scan of the source (``cel`` exposes no syntax tree). The scan
    can only go wrong where its idea of a string literal differs from CEL's (a comprehension
    hidden in what it takes for a string would run without a counter), so every literal it
    found must be exactly one literal to CEL as well.
    """
    bad = found.stray_quote
    for text in found.literals:
        if bad:
            break
        try:
            references = cel.compile(text).references()
        except (ValueError, RuntimeError, TypeError):
            bad = True
        else:
            bad = bool(references["variables"] or references["functions"])
    if bad:
        raise ConditionError(UNBOUNDED)


def _bounded(loops: tuple[Comprehension, ...]) -> tuple[Comprehension, ...]:
    """The comprehensions of a compiled condition, after the load-time limits."""
    for loop in loops:
        if loop.depth > MAX_NESTING:
            raise ConditionError(
                f"`when:` nests comprehensions {loop.depth} deep (.{loop.macro}() inside "
                f"{loop.depth - 1} other(s)); at most {MAX_NESTING} are allowed, so that a "
                "condition's cost stays bounded: split the rule, or compute the inner part "
                "before the decision (an extractor of the action)",
                line=loop.line,
            )
    costs = static_costs(loops)
    estimate = sum(costs.values())
    if estimate > DEFAULT_STEPS:
        costliest = max(costs, key=lambda loop: costs[loop])
        raise ConditionError(
            f"`when:` would take at least {estimate:,} steps (its literal lists alone), more "
            f"than the {DEFAULT_STEPS:,} a condition may take: use shorter lists",
            line=loops[costliest].line,
        )
    return loops


def _instrumented(text: str, original: Any) -> Any:
    """The instrumented program (``text``), checked against the original."""
    try:
        program = cel.compile(text)
    except (ValueError, RuntimeError, TypeError) as exc:  # a scanner bug: never run unbounded
        raise ConditionError(UNBOUNDED) from exc
    before = original.references()
    after = program.references()
    extra_functions = set(after["functions"]) - set(before["functions"])
    if set(after["variables"]) != set(before["variables"]) | {OVER_BUDGET} or not (
        extra_functions <= {STEP_FUNCTION, "_?_:_"}
    ):
        raise ConditionError(UNBOUNDED)
    return program


def describe_failure(exc: Exception) -> str:
    """A readable reason for an error raised while evaluating a condition."""
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        return (
            f"no field {key!r} in the data (test optional fields with has(), e.g. has(args.{key}))"
        )
    message = str(exc).split(". ", 1)[0]
    return f"{type(exc).__name__}: {message}"
