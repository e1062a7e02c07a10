"""The loaded form of a policy file: policies, rules and policy tests (frozen, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..decision import ActionMetadata, Decision, ProposedAction
from .cel import CelCondition

__all__ = ["Expectation", "Policy", "PolicyTest", "Rule"]


@dataclass(frozen=True)
class Rule:
    """One rule of a policy file.

    A rule matches a proposal when the action name matches one of ``actions`` and every
    dimension it sets (``systems``, ``environments``, ``risks``, ``tags``, ``triggers``; ``None``
    means "any") matches, and its ``condition`` (if any) is true.

    Attributes:
        id: The rule's id, unique across the loaded files.
        policy_id: The policy the rule belongs to.
        policy_version: That policy's version.
        path: The file the rule comes from.
        line: The rule's line in that file.
        actions: Action names and globs (``*``, ``?``, ``[abc]``).
        decision: The decision when the rule matches (policy id, version and rule id filled in).
        level: The decision's restrictiveness (see ``enforcement.restrictiveness``).
        description: What the rule is for.
        systems: Accepted ``metadata.system`` values, or ``None`` for any.
        environments: Accepted ``metadata.environment`` values, or ``None`` for any.
        risks: Accepted ``metadata.risk`` values, or ``None`` for any.
        tags: The rule matches when the action has at least one of these tags (``None``: any).
        triggers: Accepted trigger names, or ``None`` for any.
        condition: The compiled ``when:`` condition, if any.
        window: The ``history`` window in seconds (set when the condition uses ``history``).
        per_target: Count ``history`` for the proposal's target only.
        order: Position across all loaded rules (ties are resolved in this order).
    """

    id: str
    policy_id: str
    policy_version: str
    path: str
    line: int
    actions: tuple[str, ...]
    decision: Decision
    level: int
    description: str = ""
    systems: frozenset[str] | None = None
    environments: frozenset[str] | None = None
    risks: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    triggers: frozenset[str] | None = None
    condition: CelCondition | None = None
    window: float | None = None
    per_target: bool = False
    order: int = 0

    def static_match(self, metadata: ActionMetadata, trigger: str | None) -> bool:
        """Whether every dimension except the action name and the condition matches."""
        if self.systems is not None and metadata.system not in self.systems:
            return False
        if self.environments is not None and metadata.environment not in self.environments:
            return False
        if self.risks is not None and metadata.risk not in self.risks:
            return False
        if self.triggers is not None and trigger not in self.triggers:
            return False
        return self.tags is None or not self.tags.isdisjoint(metadata.tags)


@dataclass(frozen=True)
class Expectation:
    """What a policy test expects; ``None`` fields are not checked.

    Attributes:
        outcome: ``execute``, ``block``, ``approval_required`` or ``needs_context`` under
            ``enforcement``.
        enforcement: The enforcement mode for ``outcome`` (default ``enforced``).
        recommendation: The expected recommendation.
        mode: The expected mode.
        rules: Exactly the ids of the rules expected to match (in any order).
        error: The evaluation is expected to fail with a message containing this text.
    """

    outcome: str | None = None
    enforcement: str = "enforced"
    recommendation: str | None = None
    mode: str | None = None
    rules: tuple[str, ...] | None = None
    error: str | None = None


@dataclass(frozen=True)
class PolicyTest:
    """A test case carried by a policy file (``tests:``).

    Attributes:
        name: What the test checks.
        path: The policy file.
        line: The test's line.
        proposal: The proposed action to evaluate.
        expect: What the policy should decide.
        history: Outcome counts the ``history`` variable shows (every window), default zeros.
        now: The evaluation time in epoch seconds, default 2026-01-01T12:00:00Z (a Thursday).
    """

    name: str
    path: str
    line: int
    proposal: ProposedAction
    expect: Expectation
    history: dict[str, int] = field(default_factory=dict)
    now: float | None = None


@dataclass(frozen=True)
class Policy:
    """One policy file.

    Attributes:
        id: The policy's id (``policy:``).
        version: Its version (``version:``); approvals are bound to it.
        path: The file.
        default: The decision when no rule matches.
        rules: Its rules, in file order.
        tests: Its test cases, in file order.
        description: What the policy is for.
    """

    id: str
    version: str
    path: str
    default: Decision
    rules: tuple[Rule, ...] = ()
    tests: tuple[PolicyTest, ...] = ()
    description: str = ""
