"""Which rules can apply to an action name, and why a rule does or does not match.

Rules are indexed by action name: exact names in a dict, glob patterns in a short list. The
candidates for a name (exact hits and glob hits, in load order) are computed once per action
name and cached, so the cost of a lookup does not grow with the number of rules.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..decision import ProposedAction
from .model import Rule

__all__ = ["Candidates", "RuleIndex", "describe_match", "is_glob", "static_mismatch"]

_GLOB = re.compile(r"[*?\[]")


def is_glob(pattern: str) -> bool:
    """Whether an action pattern has glob characters."""
    return _GLOB.search(pattern) is not None


@dataclass(frozen=True)
class Candidates:
    """The rules whose ``actions`` match one action name.

    Attributes:
        rules: Those rules, in load order.
        variables: The CEL variables their conditions use (without ``history``, which is
            built per rule window).
        conditions: How many of them have a ``when:`` condition.
    """

    rules: tuple[Rule, ...]
    variables: frozenset[str]
    conditions: int = 0


class RuleIndex:
    """Rules by action name.

    Args:
        rules: The rules, in load order (``Rule.order``).
        cache_size: How many action names to remember candidates for (the cache is cleared
            when full; bots have a fixed set of actions, so it rarely is).
    """

    def __init__(self, rules: Sequence[Rule], *, cache_size: int = 4096) -> None:
        self._exact: dict[str, list[Rule]] = {}
        self._globs: list[tuple[re.Pattern[str], Rule]] = []
        for rule in rules:
            for pattern in rule.actions:
                if is_glob(pattern):
                    self._globs.append((re.compile(fnmatch.translate(pattern)), rule))
                else:
                    self._exact.setdefault(pattern, []).append(rule)
        self._cache: dict[str, Candidates] = {}
        self._cache_size = cache_size

    def candidates(self, action: str) -> Candidates:
        """The rules that name ``action`` exactly or by a glob, in load order."""
        found = self._cache.get(action)
        if found is None:
            found = self._lookup(action)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[action] = found
        return found

    def _lookup(self, action: str) -> Candidates:
        rules = {rule.order: rule for rule in self._exact.get(action, ())}
        for regex, rule in self._globs:
            if rule.order not in rules and regex.match(action):
                rules[rule.order] = rule
        ordered = tuple(rules[key] for key in sorted(rules))
        variables: set[str] = set()
        conditions = 0
        for rule in ordered:
            if rule.condition is not None:
                variables |= rule.condition.variables
                conditions += 1
        variables.discard("history")
        return Candidates(ordered, frozenset(variables), conditions)


def _listing(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def static_mismatch(rule: Rule, proposal: ProposedAction) -> str | None:
    """Why ``rule`` does not match ``proposal`` before its condition, or ``None`` if it may.

    Checks the action name, system, environment, risk, tags and trigger, in that order, and
    names the first dimension that differs.
    """
    name = proposal.action
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in rule.actions):
        return f"action {name!r} is not in actions [{', '.join(rule.actions)}]"
    meta = proposal.metadata
    for label, wanted, actual in (
        ("system", rule.systems, meta.system),
        ("environment", rule.environments, meta.environment),
        ("risk", rule.risks, meta.risk),
        ("trigger", rule.triggers, proposal.trigger),
    ):
        if wanted is not None and actual not in wanted:
            return f"{label} is {actual!r}, the rule needs one of: {_listing(wanted)}"
    if rule.tags is not None and rule.tags.isdisjoint(meta.tags):
        return f"tags are [{', '.join(meta.tags)}], the rule needs one of: {_listing(rule.tags)}"
    return None


def describe_match(rule: Rule, proposal: ProposedAction) -> str:
    """What a matching rule matched on, for ``explain``."""
    parts = [f"action {proposal.action!r} matches [{', '.join(rule.actions)}]"]
    meta = proposal.metadata
    for label, wanted, actual in (
        ("system", rule.systems, meta.system),
        ("environment", rule.environments, meta.environment),
        ("risk", rule.risks, meta.risk),
        ("trigger", rule.triggers, proposal.trigger),
    ):
        if wanted is not None:
            parts.append(f"{label} {actual!r}")
    if rule.tags is not None:
        parts.append(f"tag(s) {_listing(rule.tags & set(meta.tags))}")
    if rule.condition is not None:
        parts.append(f"when `{rule.condition.source.strip()}` is true")
    return "; ".join(parts)
