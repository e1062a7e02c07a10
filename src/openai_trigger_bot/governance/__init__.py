"""Governance: every proposed tool call is decided on before it runs.

- :mod:`.decision`: the records (``ProposedAction``, ``Decision``, ``ExecutionEvent``).
- :mod:`.enforcement`: decision → ``execute`` / ``block`` / ``approval_required`` /
  ``needs_context``.
- :mod:`.evaluator` and :mod:`.shadow`: the ``PolicyEvaluator`` protocol and its wrappers.
- :mod:`.rules`: the local YAML/CEL rules engine (the default evaluator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .approvals import Approval, ApprovalHandler, ApprovalRequest, binding_hash
    from .decision import (
        ENFORCEMENT_MODES,
        EVENT_STATUSES,
        FAIL_MODES,
        MODES,
        OUTCOMES,
        RECOMMENDATIONS,
        ActionMetadata,
        ApprovalRecord,
        Decision,
        EnforcementMode,
        EventStatus,
        ExecutionEvent,
        FailMode,
        Mode,
        Outcome,
        ProposedAction,
        Recommendation,
        idempotency_key,
    )
    from .defaults import RiskTierEvaluator
    from .enforcement import outcome_for, outcome_for_failure, restrictiveness
    from .errors import (
        EvaluatorError,
        MalformedDecisionError,
        PolicyLoadError,
        PolicyProblem,
        RuleEvaluationError,
    )
    from .evaluator import (
        Fallback,
        MostRestrictive,
        PolicyEvaluator,
        StaticEvaluator,
        evaluate,
        evaluate_sync,
        most_restrictive,
    )
    from .gate import DecisionHook, Governance
    from .outbox import OutcomeOutbox
    from .remote import (
        FAILURE_KINDS,
        BreakerPolicy,
        RemoteEvaluator,
        RemoteEvent,
        RetryPolicy,
    )
    from .rules import (
        HistoryProvider,
        InMemoryHistory,
        LocalRulesEvaluator,
        check_policies,
        run_policy_tests,
    )
    from .shadow import Shadow, ShadowDifference

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".approvals": ("Approval", "ApprovalHandler", "ApprovalRequest", "binding_hash"),
        ".decision": (
            "ENFORCEMENT_MODES",
            "EVENT_STATUSES",
            "FAIL_MODES",
            "MODES",
            "OUTCOMES",
            "RECOMMENDATIONS",
            "ActionMetadata",
            "ApprovalRecord",
            "Decision",
            "EnforcementMode",
            "EventStatus",
            "ExecutionEvent",
            "FailMode",
            "Mode",
            "Outcome",
            "ProposedAction",
            "Recommendation",
            "idempotency_key",
        ),
        ".defaults": ("RiskTierEvaluator",),
        ".enforcement": ("outcome_for", "outcome_for_failure", "restrictiveness"),
        ".errors": (
            "EvaluatorError",
            "MalformedDecisionError",
            "PolicyLoadError",
            "PolicyProblem",
            "RuleEvaluationError",
        ),
        ".evaluator": (
            "Fallback",
            "MostRestrictive",
            "PolicyEvaluator",
            "StaticEvaluator",
            "evaluate",
            "evaluate_sync",
            "most_restrictive",
        ),
        ".gate": ("DecisionHook", "Governance"),
        ".outbox": ("OutcomeOutbox",),
        ".remote": (
            "FAILURE_KINDS",
            "BreakerPolicy",
            "RemoteEvaluator",
            "RemoteEvent",
            "RetryPolicy",
        ),
        ".rules": (
            "HistoryProvider",
            "InMemoryHistory",
            "LocalRulesEvaluator",
            "check_policies",
            "run_policy_tests",
        ),
        ".shadow": ("Shadow", "ShadowDifference"),
    },
)

__all__ = [
    "ENFORCEMENT_MODES",
    "EVENT_STATUSES",
    "FAILURE_KINDS",
    "FAIL_MODES",
    "MODES",
    "OUTCOMES",
    "RECOMMENDATIONS",
    "ActionMetadata",
    "Approval",
    "ApprovalHandler",
    "ApprovalRecord",
    "ApprovalRequest",
    "BreakerPolicy",
    "Decision",
    "DecisionHook",
    "EnforcementMode",
    "EvaluatorError",
    "EventStatus",
    "ExecutionEvent",
    "FailMode",
    "Fallback",
    "Governance",
    "HistoryProvider",
    "InMemoryHistory",
    "LocalRulesEvaluator",
    "MalformedDecisionError",
    "Mode",
    "MostRestrictive",
    "Outcome",
    "OutcomeOutbox",
    "PolicyEvaluator",
    "PolicyLoadError",
    "PolicyProblem",
    "ProposedAction",
    "Recommendation",
    "RemoteEvaluator",
    "RemoteEvent",
    "RetryPolicy",
    "RiskTierEvaluator",
    "RuleEvaluationError",
    "Shadow",
    "ShadowDifference",
    "StaticEvaluator",
    "binding_hash",
    "check_policies",
    "evaluate",
    "evaluate_sync",
    "idempotency_key",
    "most_restrictive",
    "outcome_for",
    "outcome_for_failure",
    "restrictiveness",
    "run_policy_tests",
]
