"""The bot's governance from its keyword options (``Bot(policy=..., enforcement=...)``).

``Bot`` takes either the options one by one or a prebuilt :class:`~.gate.Governance`; this is
where the options are checked and assembled, so every mistake is a ``ConfigurationError`` at
construction, never a silently weaker gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from .approvals import ApprovalHandler
from .decision import ENFORCEMENT_MODES, FAIL_MODES, EnforcementMode, FailMode
from .defaults import evaluator_for
from .evaluator import PolicyEvaluator
from .gate import DecisionHook, Governance
from .rules.history import HistoryProvider

if TYPE_CHECKING:
    from .outbox import OutcomeOutbox

__all__ = ["governance_for"]


def governance_for(
    governance: Governance | None,
    *,
    governed: bool,
    history: HistoryProvider | None,
    policy: PolicyEvaluator | str | Path | None,
    enforcement: EnforcementMode,
    fail_mode: FailMode,
    fail_modes: Mapping[str, FailMode] | None,
    outbox: OutcomeOutbox | None,
    approval_handler: ApprovalHandler | None,
    on_decision: DecisionHook | None,
    actor: str | None,
    domain: str | None,
) -> Governance | None:
    """The gate's settings: ``governance`` as given, or built from the options.

    Returns:
        ``None`` for ``governed=False`` (every valid call runs).

    Raises:
        ConfigurationError: An unknown enforcement or fail mode, or options given beside
            ``governance=`` or with ``governed=False`` (where they would mean nothing).
        PolicyError: A policy directory with a broken file.
    """
    if enforcement not in ENFORCEMENT_MODES:
        raise ConfigurationError(
            f"enforcement={enforcement!r} is not one of {', '.join(ENFORCEMENT_MODES)}"
        )
    for mode in (fail_mode, *(fail_modes or {}).values()):
        if mode not in FAIL_MODES:
            raise ConfigurationError(f"fail mode {mode!r} is not 'closed' or 'open'")
    if governance is None and governed:
        return Governance(
            evaluator=evaluator_for(policy, history),
            history=history,
            enforcement=enforcement,
            fail_mode=fail_mode,
            fail_modes=dict(fail_modes or {}),
            outbox=outbox,
            approval_handler=approval_handler,
            on_decision=on_decision,
            actor=actor,
            domain=domain,
        )
    if any(x is not None for x in (policy, approval_handler, on_decision, outbox, fail_modes)) or (
        enforcement,
        fail_mode,
        actor,
        domain,
    ) != ("enforced", "closed", None, None):
        raise ConfigurationError(
            "the governance options (policy, enforcement, fail_mode, approval_handler, ...) "
            "go into Governance(...) when governance= is given, and mean nothing with "
            "governed=False"
        )
    return governance
