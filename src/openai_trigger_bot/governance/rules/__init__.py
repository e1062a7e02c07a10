"""Local policy rules: YAML files with CEL conditions, decided in-process.

A policy file::

    policy: infra-access                 # id, unique across the loaded files
    version: "2026-11-24"                # approvals are bound to it: change it when rules change
    description: Who may get access to what.
    default:                             # required: the decision when no rule matches
      recommendation: review_recommended
      reason: no rule covers this action
    rules:
      - id: prod-grant-needs-review      # unique across the loaded files
        description: Long production access needs a human.
        actions: ["grant_*"]             # names or globs (* ? [abc]); default: every action
        environment: production          # each dimension: one value or a list (any of)
        # system: aws    risk: [high, critical]    tags: [pii]    trigger: on-ticket
        when: 'args.duration_hours > 8 || history.executed > 3'   # CEL, optional
        history: {window: 1h}           # required when `when` uses `history`; per_target: true
        decision:                        # or just: decision: review_recommended
          recommendation: review_recommended   # proceed | proceed_with_caution |
                                               # review_recommended | do_not_proceed
          mode: review                   # optional; follows from the recommendation
          risk: 0.7                      # optional, 0..1
          reason: long production access needs review    # default: the description
          better_action: grant_temporary_access          # optional
    tests:
      - name: short staging grant proceeds
        proposal:
          action: grant_access
          args: {user: alice, duration_hours: 1}
          metadata: {environment: staging, system: aws, risk: medium, tags: [access]}
          # trigger, value, target, extra, bot, actor, domain
        history: {executed: 4}           # optional counts for `history` (every window)
        now: "2026-11-24T09:30:00Z"      # optional; default 2026-01-01T12:00:00Z
        expect:                          # at least one check
          outcome: execute               # execute | block | approval_required | needs_context
          enforcement: enforced          # the mode for `outcome` (default enforced)
          # recommendation, mode, rules: [ids that match, exactly], error: "text"

Matching: a rule applies when the action name matches one of ``actions`` and every dimension
the rule sets matches the action's metadata (``tags``: at least one shared tag) and its ``when``
holds. The most restrictive matching rule wins (ties: higher risk, then the earlier rule);
with no match, the most restrictive ``default`` of the loaded files applies. The variables a
``when`` condition sees are listed in :mod:`.cel`; what a condition may cost (checked at load,
bounded at run time by :class:`ConditionBudget`) in :mod:`.budget`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports

if TYPE_CHECKING:
    from .budget import ConditionBudget
    from .cel import CONTEXT_VARIABLES, CelCondition, compile_condition
    from .engine import Explanation, LocalRulesEvaluator, RuleCheck
    from .history import HistoryProvider, InMemoryHistory
    from .loader import (
        check_policies,
        load_policies,
        load_policy_file,
        load_policy_string,
        policy_files,
        read_policies,
    )
    from .model import Expectation, Policy, PolicyTest, Rule
    from .testing import (
        PolicyTestReport,
        PolicyTestResult,
        proposal_from_dict,
        run_policy_tests,
        run_tests,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".budget": ("ConditionBudget",),
        ".cel": ("CONTEXT_VARIABLES", "CelCondition", "compile_condition"),
        ".engine": ("Explanation", "LocalRulesEvaluator", "RuleCheck"),
        ".history": ("HistoryProvider", "InMemoryHistory"),
        ".loader": (
            "check_policies",
            "load_policies",
            "load_policy_file",
            "load_policy_string",
            "policy_files",
            "read_policies",
        ),
        ".model": ("Expectation", "Policy", "PolicyTest", "Rule"),
        ".testing": (
            "PolicyTestReport",
            "PolicyTestResult",
            "proposal_from_dict",
            "run_policy_tests",
            "run_tests",
        ),
    },
)

__all__ = [
    "CONTEXT_VARIABLES",
    "CelCondition",
    "ConditionBudget",
    "Expectation",
    "Explanation",
    "HistoryProvider",
    "InMemoryHistory",
    "LocalRulesEvaluator",
    "Policy",
    "PolicyTest",
    "PolicyTestReport",
    "PolicyTestResult",
    "Rule",
    "RuleCheck",
    "check_policies",
    "compile_condition",
    "load_policies",
    "load_policy_file",
    "load_policy_string",
    "policy_files",
    "proposal_from_dict",
    "read_policies",
    "run_policy_tests",
    "run_tests",
]
