"""The evaluator a bot uses when it is given no policy: decide by the action's declared risk.

Safe by default: an action declared ``risk="high"`` or ``risk="critical"`` needs a human's
approval unless a policy says otherwise; undeclared, ``low`` and ``medium`` risk proceed
(``medium`` as ``proceed_with_caution``, which executes under ``enforced``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from .decision import Decision, ProposedAction

if TYPE_CHECKING:
    from .evaluator import PolicyEvaluator
    from .rules.history import HistoryProvider

__all__ = ["RiskTierEvaluator", "evaluator_for"]

_BY_RISK: dict[str | None, Decision] = {
    None: Decision(recommendation="proceed", risk=0.1, reason="no risk declared"),
    "low": Decision(recommendation="proceed", risk=0.1, reason="low-risk action"),
    "medium": Decision(
        recommendation="proceed_with_caution", risk=0.4, reason="medium-risk action"
    ),
    "high": Decision(
        recommendation="review_recommended", risk=0.7, reason="high-risk action needs review"
    ),
    "critical": Decision(
        recommendation="review_recommended",
        risk=0.9,
        reason="critical action needs review",
    ),
}


class RiskTierEvaluator:
    """Decides from ``ActionMetadata.risk`` alone (sync, no I/O).

    An unknown risk string is decided like ``critical``.
    """

    name = "risk-tier-default"

    def __init__(self) -> None:
        self._decisions = {
            risk: d.model_copy(
                update={"evaluator": self.name, "policy_id": "default", "policy_version": "1"}
            )
            for risk, d in _BY_RISK.items()
        }

    def evaluate(self, proposal: ProposedAction) -> Decision:
        """The decision for the proposal's declared risk."""
        return self._decisions.get(proposal.metadata.risk, self._decisions["critical"])


def evaluator_for(
    policy: PolicyEvaluator | str | Path | None, history: HistoryProvider | None = None
) -> PolicyEvaluator:
    """The evaluator for a bot's ``policy=`` argument.

    Args:
        policy: ``None`` (decide by declared risk), a policy directory, or an evaluator.
        history: Where a policy directory's ``history`` conditions count outcomes.

    Raises:
        ConfigurationError: ``policy`` is neither.
        PolicyLoadError: The directory's policies do not load.
    """
    if policy is None:
        return RiskTierEvaluator()
    if isinstance(policy, (str, Path)):
        from .rules.engine import LocalRulesEvaluator  # CEL and YAML load only when used

        return LocalRulesEvaluator.from_directory(policy, history=history)
    if not callable(getattr(policy, "evaluate", None)):
        raise ConfigurationError(
            f"policy must be a PolicyEvaluator or a policy directory, got {type(policy).__name__}"
        )
    return policy
