"""The data a rule's ``when:`` sees, built lazily once per evaluation.

Converting Python data to CEL values is the expensive part of evaluating a condition (a few
µs per variable; running a compiled program on a ready context costs well under 1 µs). So the
scope converts only the variables the candidate rules use, once per proposal, and shares the
converted context between rules. ``history`` depends on each rule's window, so rules that use
it get their own context per (window, per-target) pair. When only one condition can run
(``shared=False``) and it has no comprehension, it is given the plain values instead of a
``cel.Context``: ``Program.execute`` converts a dict once, which costs less than building a
context (measured inside a real run: ~18 µs against ~21 µs for the two steps).

Every context carries the ``_budget_step`` function of one :class:`~.budget.Meter`, which the
instrumented comprehensions call on each iteration; a condition that spends its budget fails
with :class:`~openai_trigger_bot.governance.errors.ConditionBudgetError` (``over_budget``).
That function must not refer back to the scope: a ``cel.Context`` is a native object the
cyclic garbage collector cannot traverse, so a cycle through it (scope → context → the
scope's bound method) is never collected, and every proposal decided with a condition stayed
in memory (slowing every later collection too). It is the method of a small
:class:`_Steps` holder that refers to the meter only.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import cel

from ..decision import ProposedAction
from ..errors import ConditionBudgetError, EvaluatorError, RuleEvaluationError
from ._cel_scan import STEP_FUNCTION
from .budget import ConditionBudget, Meter
from .cel import describe_failure
from .history import HistoryProvider, empty_counts
from .model import Rule

__all__ = ["ConditionScope"]


def _action(proposal: ProposedAction) -> dict[str, Any]:
    meta = proposal.metadata
    return {
        "name": proposal.action,
        "system": meta.system,
        "risk": meta.risk,
        "environment": meta.environment,
        "tags": list(meta.tags),
    }


_GETTERS: dict[str, Callable[[ProposedAction], Any]] = {
    "args": lambda p: p.arguments,
    "action": _action,
    "trigger": lambda p: p.trigger,
    "value": lambda p: p.value,
    "target": lambda p: p.target,
    "extra": lambda p: p.extra,
    "bot": lambda p: p.bot,
    "actor": lambda p: p.actor,
    "domain": lambda p: p.domain,
}


class _Steps:
    """The ``_budget_step`` of one evaluation's contexts: refers to its meter, nothing else."""

    __slots__ = ("meter",)

    def __init__(self) -> None:
        self.meter: Meter | None = None

    def step(self, loop: int) -> bool:
        # Called by `_budget_step(loop)` in an instrumented condition; only a condition with
        # comprehensions calls it, after `ConditionScope.check` started the meter.
        meter = self.meter
        return meter is not None and meter.step(loop)


class ConditionScope:
    """Evaluates the conditions of one proposal's candidate rules.

    Args:
        proposal: The proposed action.
        variables: The variables the candidate rules use (``history`` excluded).
        clock: Epoch seconds, for ``now`` and the history windows.
        history: Where ``history`` counts come from.
        budget: What one condition may cost (default :class:`~.budget.ConditionBudget`).
        shared: Several conditions may run on this proposal (its converted context is then
            built once and shared); ``False``: at most one condition runs.
    """

    __slots__ = (
        "_budget",
        "_clock",
        "_contexts",
        "_history",
        "_now",
        "_proposal",
        "_shared",
        "_steps",
        "_values",
        "_variables",
    )

    def __init__(
        self,
        proposal: ProposedAction,
        variables: frozenset[str],
        clock: Callable[[], float],
        history: HistoryProvider,
        budget: ConditionBudget | None = None,
        *,
        shared: bool = True,
    ) -> None:
        self._budget = budget
        self._shared = shared
        self._steps = _Steps()
        self._proposal = proposal
        self._variables = variables
        self._clock = clock
        self._history = history
        self._now: float | None = None
        self._values: dict[str, Any] | None = None
        self._contexts: dict[tuple[float, bool] | None, Any] = {}

    def _base(self) -> dict[str, Any]:
        if self._values is None:
            values: dict[str, Any] = {}
            for name in self._variables:
                if name == "now":
                    values[name] = datetime.datetime.fromtimestamp(
                        self.now(), datetime.timezone.utc
                    )
                else:
                    values[name] = _GETTERS[name](self._proposal)
            self._values = values
        return self._values

    def now(self) -> float:
        """The evaluation time (read from the clock once per proposal)."""
        if self._now is None:
            self._now = self._clock()
        return self._now

    def _context(self, rule: Rule) -> Any:
        key = (rule.window, rule.per_target) if rule.window is not None else None
        context = self._contexts.get(key)
        if context is None:
            values = self._base()
            if rule.window is not None:
                target = self._proposal.target if rule.per_target else None
                counts = empty_counts()
                try:
                    counts.update(
                        self._history.counts(
                            self._proposal.action, since=self.now() - rule.window, target=target
                        )
                    )
                except Exception as exc:  # the store's outage, not the arguments' doing
                    raise EvaluatorError(
                        f"{rule.path}:{rule.line}: rule {rule.id!r}: the outcome history is "
                        f"unavailable ({type(exc).__name__}: {str(exc)[:120]})"
                    ) from exc
                values = {**values, "history": counts}
            if self._shared or rule.condition is None or rule.condition.loops:
                context = cel.Context(variables=values, functions={STEP_FUNCTION: self._steps.step})
            else:  # the only condition to run, without a comprehension: no step function
                context = values
            self._contexts[key] = context
        return context

    def check(self, rule: Rule) -> bool:
        """Whether the rule's condition holds (a rule without one holds).

        Raises:
            RuleEvaluationError: The condition failed or did not give a boolean.
            EvaluatorError: The history store failed while counting (an outage).
        """
        condition = rule.condition
        if condition is None:
            return True
        meter = None
        try:
            context = self._context(rule)  # converted before the meter starts: data costs none
            if condition.loops:
                meter = self._steps.meter
                if meter is None:
                    meter = self._steps.meter = Meter(self._budget or ConditionBudget())
                meter.start(condition.loops)
            result = condition.program.execute(context)
        except EvaluatorError:
            raise  # the history store failed (an outage): not the condition's failure
        except Exception as exc:
            if meter is not None and meter.exceeded is not None:
                raise self._over_budget(rule, meter) from exc
            raise RuleEvaluationError(
                f"`when: {condition.source.strip()}` failed: {describe_failure(exc)}",
                rule_id=rule.id,
                path=rule.path,
                line=rule.line,
            ) from exc
        finally:
            if meter is not None:
                meter.stop()
        if meter is not None and meter.exceeded is not None:  # an error CEL absorbed (`||`)
            raise self._over_budget(rule, meter)
        if result is True or result is False:
            return result
        raise RuleEvaluationError(
            f"`when: {condition.source.strip()}` gave {result!r}, not true or false: "
            "write a comparison",
            rule_id=rule.id,
            path=rule.path,
            line=rule.line,
        )

    @staticmethod
    def _over_budget(rule: Rule, meter: Meter) -> ConditionBudgetError:
        source = rule.condition.source.strip() if rule.condition else ""
        return ConditionBudgetError(
            f"`when: {source}` is over budget ({meter.exceeded}; see the condition bounds in "
            "docs/policies.md): stopped, not decided",
            rule_id=rule.id,
            path=rule.path,
            line=rule.line,
        )
