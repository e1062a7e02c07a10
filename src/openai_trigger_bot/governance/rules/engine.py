"""The local rules engine: the default :class:`~openai_trigger_bot.governance.PolicyEvaluator`.

:class:`LocalRulesEvaluator` loads one or more policy files (a *policy set*) and decides
synchronously, without I/O beyond the history provider:

1. the candidate rules for the action name come from an index (exact names in a dict, globs in
   a short list, the result cached per name);
2. each candidate is checked on system, environment, risk, tags and trigger, then on its
   ``when:`` condition (CEL, compiled at load);
3. the most restrictive matching rule wins (ties: higher risk, then the earlier rule); the
   decision lists every matching rule id, in load order;
4. when nothing matches, the most restrictive ``default:`` of the loaded files applies (ties:
   the first file). Put one bot's policies in one directory.

A condition that fails on a proposal raises
:class:`~openai_trigger_bot.governance.errors.RuleEvaluationError` (a condition that spends its
cost budget: :class:`~openai_trigger_bot.governance.errors.ConditionBudgetError`, failure kind
``over_budget``; see :mod:`.budget`), never an allow. The model's arguments can cause it, so
the gate blocks the call whatever ``fail_mode`` says, unless ``fail_modes`` names the kind. A
history store that fails while counting is an outage instead (a plain ``EvaluatorError``: the
fail mode applies).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..decision import Decision, ProposedAction
from ..errors import RuleEvaluationError
from ..evaluator import most_restrictive
from ._context import ConditionScope
from .budget import ConditionBudget
from .history import HistoryProvider, InMemoryHistory
from .loader import load_policies, policy_files
from .matcher import RuleIndex, describe_match, static_mismatch
from .model import Policy, Rule

__all__ = ["Explanation", "LocalRulesEvaluator", "RuleCheck"]


@dataclass(frozen=True)
class RuleCheck:
    """How one rule fared against a proposal (for ``explain``).

    Attributes:
        rule_id: The rule.
        policy_id: Its policy.
        path: Its file.
        line: Its line.
        matched: Whether it matched.
        reason: What it matched on, or the first thing that did not match, or the error.
        error: The condition failed on this proposal.
        decisive: This rule's decision is the one enforced.
    """

    rule_id: str
    policy_id: str
    path: str
    line: int
    matched: bool
    reason: str
    error: bool = False
    decisive: bool = False


@dataclass(frozen=True)
class Explanation:
    """Why the rules engine decides what it decides for one proposal.

    Attributes:
        proposal: The proposal explained.
        decision: The decision (``None`` when a condition failed; see ``error``).
        checks: One entry per rule whose ``actions`` name the action (every rule with
            ``all_rules=True``), in load order.
        unrelated: How many loaded rules do not name the action (and are not in ``checks``).
        used_default: No rule matched, so a policy default decided.
        error: The evaluation error the engine would raise, if any.
    """

    proposal: ProposedAction
    decision: Decision | None
    checks: tuple[RuleCheck, ...]
    unrelated: int
    used_default: bool
    error: str | None = None

    def format(self) -> str:
        """Plain text for a terminal."""
        lines = [f"proposal: {self.proposal.action} {self.proposal.arguments}"]
        for check in self.checks:
            mark = "ERROR" if check.error else ("MATCH" if check.matched else "no   ")
            star = " (decides)" if check.decisive else ""
            lines.append(f"  {mark} {check.rule_id}{star} [{check.path}:{check.line}]")
            lines.append(f"        {check.reason}")
        if self.unrelated:
            lines.append(f"  ({self.unrelated} other rule(s) do not name this action)")
        if self.error is not None:
            lines.append(f"error: {self.error}")
        elif self.decision is not None:
            d = self.decision
            source = "default of policy" if self.used_default else "policy"
            lines.append(
                f"decision: {d.recommendation} (mode {d.mode}, risk {d.risk}) from {source} "
                f"{d.policy_id}@{d.policy_version}: {d.reason}"
            )
        return "\n".join(lines)


class LocalRulesEvaluator:
    """Decides with the rules of one or more policy files (see the module docstring).

    Args:
        policies: The loaded policies (see :mod:`.loader`); at least one.
        history: Where ``history`` counts come from (default: a new :class:`InMemoryHistory`
            on ``clock``). The gate records outcomes into it (it is named by
            :meth:`histories`, the evaluator's history capability).
        clock: Epoch seconds, for ``now`` and history windows (inject a fake one in tests).
        name: The evaluator's name in decisions and traces.
        budget: What one ``when:`` condition may cost per proposal (default
            :class:`~.budget.ConditionBudget`: 100,000 steps, 0.25 s); a condition over it
            raises :class:`~openai_trigger_bot.governance.errors.ConditionBudgetError`
            (failure kind ``over_budget``).
    """

    def __init__(
        self,
        policies: Sequence[Policy],
        *,
        history: HistoryProvider | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "local-rules",
        budget: ConditionBudget | None = None,
    ) -> None:
        if not policies:
            raise ValueError("LocalRulesEvaluator needs at least one policy")
        self.name = name
        self.budget = budget or ConditionBudget()
        self.policies: tuple[Policy, ...] = tuple(policies)
        self.rules: tuple[Rule, ...] = tuple(rule for p in self.policies for rule in p.rules)
        self.clock = clock
        self.history: HistoryProvider = (
            history if history is not None else InMemoryHistory(clock=clock)
        )
        # Outcomes are recorded only where they can be read: a history given here (its owner
        # may read it), or the default one when a rule counts from it.
        self._records_history = history is not None or any(
            rule.window is not None for rule in self.rules
        )
        self._index = RuleIndex(self.rules)
        default = most_restrictive(policy.default for policy in self.policies)
        self.default: Decision = default.model_copy(update={"evaluator": name})
        self._decisions: dict[tuple[int, ...], Decision] = {}

    @classmethod
    def from_directory(
        cls,
        directory: str | Path,
        *,
        history: HistoryProvider | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "local-rules",
        budget: ConditionBudget | None = None,
    ) -> LocalRulesEvaluator:
        """Load every ``*.yaml`` / ``*.yml`` file directly inside a directory.

        Raises:
            PolicyLoadError: A file is broken or the directory holds none (every problem is
                listed, each with file and line).
        """
        policies = load_policies(policy_files(directory))
        return cls(policies, history=history, clock=clock, name=name, budget=budget)

    @classmethod
    def from_files(
        cls,
        *paths: str | Path,
        history: HistoryProvider | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "local-rules",
        budget: ConditionBudget | None = None,
    ) -> LocalRulesEvaluator:
        """Load the given policy files (a policy set).

        Raises:
            PolicyLoadError: A file is broken (every problem is listed).
        """
        return cls(load_policies(paths), history=history, clock=clock, name=name, budget=budget)

    @classmethod
    def from_yaml_string(
        cls,
        *texts: str,
        source: str = "<string>",
        history: HistoryProvider | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "local-rules",
        budget: ConditionBudget | None = None,
    ) -> LocalRulesEvaluator:
        """Load policies from YAML text (several texts form a policy set).

        Args:
            *texts: The YAML of each policy.
            source: The name errors use (``<string>``, ``<string#2>``, ...).

        Raises:
            PolicyLoadError: A policy is broken (every problem is listed).
        """
        named = [(source if i == 0 else f"{source}#{i + 1}", t) for i, t in enumerate(texts)]
        return cls(load_policies(named), history=history, clock=clock, name=name, budget=budget)

    def histories(self) -> tuple[HistoryProvider, ...]:
        """The history ``history`` conditions count from (the gate records outcomes into it).

        Empty when no rule counts history and no ``history`` was given: the default in-memory
        history would then be written and never read, a cost on every call for nothing.
        """
        return (self.history,) if self._records_history else ()

    def evaluate(self, proposal: ProposedAction) -> Decision:
        """Decide on a proposal (sync; no I/O beyond the history provider).

        Raises:
            RuleEvaluationError: A candidate rule's condition failed on this proposal.
            EvaluatorError: The history store failed while counting (an outage: the fail mode
                applies, unlike a condition's failure).
        """
        candidates = self._index.candidates(proposal.action)
        if not candidates.rules:
            return self.default
        metadata = proposal.metadata
        trigger = proposal.trigger
        scope: ConditionScope | None = None
        matched: list[Rule] = []
        for rule in candidates.rules:
            if not rule.static_match(metadata, trigger):
                continue
            if rule.condition is not None:
                if scope is None:
                    scope = ConditionScope(
                        proposal,
                        candidates.variables,
                        self.clock,
                        self.history,
                        self.budget,
                        shared=candidates.conditions > 1,
                    )
                if not scope.check(rule):
                    continue
            matched.append(rule)
        if not matched:
            return self.default
        return self._decision(matched)

    def _decision(self, matched: Sequence[Rule]) -> Decision:
        key = tuple([rule.order for rule in matched])
        decision = self._decisions.get(key)
        if decision is None:
            winner = _winner(matched)
            decision = winner.decision.model_copy(
                update={
                    "matched_rules": tuple(rule.id for rule in matched),
                    "evaluator": self.name,
                }
            )
            if len(self._decisions) >= 4096:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def explain(self, proposal: ProposedAction, *, all_rules: bool = False) -> Explanation:
        """Which rules match a proposal and why (never raises for a failing condition).

        Args:
            proposal: The proposal to explain.
            all_rules: List every loaded rule, not only those that name the action.
        """
        candidates = self._index.candidates(proposal.action)
        listed: Iterable[Rule] = self.rules if all_rules else candidates.rules
        scope = ConditionScope(
            proposal, candidates.variables, self.clock, self.history, self.budget
        )
        results: list[tuple[Rule, bool, str, bool]] = []
        error: str | None = None
        for rule in listed:
            mismatch = static_mismatch(rule, proposal)
            if mismatch is not None:
                results.append((rule, False, mismatch, False))
                continue
            try:
                holds = scope.check(rule)
            except RuleEvaluationError as exc:
                error = error or str(exc)
                results.append((rule, False, str(exc).split(": ", 1)[-1], True))
                continue
            if holds:
                results.append((rule, True, describe_match(rule, proposal), False))
            else:
                source = rule.condition.source.strip() if rule.condition else ""
                results.append((rule, False, f"when `{source}` is false", False))
        matched = [rule for rule, ok, _, _ in results if ok]
        winner = _winner(matched) if matched and error is None else None
        checks = tuple(
            RuleCheck(
                rule_id=rule.id,
                policy_id=rule.policy_id,
                path=rule.path,
                line=rule.line,
                matched=ok,
                reason=reason,
                error=failed,
                decisive=rule is winner,
            )
            for rule, ok, reason, failed in results
        )
        decision = None
        if error is None:
            decision = self._decision(matched) if matched else self.default
        return Explanation(
            proposal=proposal,
            decision=decision,
            checks=checks,
            unrelated=len(self.rules) - len(candidates.rules) if not all_rules else 0,
            used_default=error is None and not matched,
            error=error,
        )


def _winner(matched: Sequence[Rule]) -> Rule:
    return max(matched, key=lambda rule: (rule.level, rule.decision.risk or 0.0, -rule.order))
