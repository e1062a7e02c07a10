"""The gate: propose → decide → map to an outcome → (approve) for one validated tool call.

Validation happens before (``_run/calls.py``); execution and recording after. Everything here is
decided without I/O except the evaluator and the approval handler it calls. Evaluator failures
are recorded by kind and become outcomes through the fail mode
(:func:`~.enforcement.fail_mode_for`): an outage follows ``fail_mode`` (per action, else per
kind, else per bot); a failure the arguments caused (a rule's condition failing on this
proposal) blocks unless ``fail_modes`` names its kind ``open``. Configuration mistakes (an
extractor that raises on valid arguments) become ``tool_error``, never a silent allow.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._json import to_jsonable
from .approvals import (
    DEFAULT_APPROVAL_TTL_S,
    ApprovalAnswer,
    ApprovalHandler,
    ApprovalRequest,
    new_request,
    record,
)
from .capabilities import PolicyEvaluator, evaluate_many, histories_of
from .decision import (
    ApprovalRecord,
    Decision,
    EnforcementMode,
    ExecutionEvent,
    FailMode,
    ProposedAction,
    idempotency_key,
)
from .defaults import RiskTierEvaluator
from .enforcement import fail_mode_for, outcome_for, outcome_for_failure
from .errors import EvaluatorError
from .rules.history import HistoryProvider, InMemoryHistory

if TYPE_CHECKING:  # OutcomeOutbox: a type only (httpx, tenacity and sqlite3 load with it)
    from .._run.calls import ValidCall
    from .._run.offload import Offload
    from .outbox import OutcomeOutbox

__all__ = [
    "UNAVAILABLE",
    "ApprovalHandler",
    "DecisionHook",
    "Governance",
    "Verdict",
    "decide_all",
    "needs_context_message",
]

log = logging.getLogger("openai_trigger_bot.governance")

DecisionHook = Callable[[ExecutionEvent], "object | Awaitable[object]"]
"""Called with the final event of every governed call (sync or async)."""

VerdictOutcome = Literal[
    "execute", "block", "approval_required", "needs_context", "denied", "expired", "tool_error"
]

BLOCKED = "Not run: blocked by policy."
PENDING = (
    "Not run yet: this call needs a human's approval. Do not call it again; finish any other "
    "work, then stop."
)
DENIED = "Not run: a reviewer declined this call. Do not call it again."
UNAVAILABLE = "Not run: the policy check is unavailable, so the call was blocked. Do not retry it."
APPROVAL_UNAVAILABLE = "Not run: no valid approval could be obtained, so the call was blocked."
MAX_CONTEXT_REASON_CHARS = 500
"""How much of a ``needs_context`` decision's reason the model is told (the rest is cut)."""


def needs_context_message(reason: str) -> str:
    """What the model hears when the policy needs more context before a call may run.

    Unlike the other messages, this one carries the decision's reason: for a ``needs_context``
    decision the reason is meant for the model (policy authors write it as a question to the
    model), so that it can gather what is missing and propose the call again.

    Args:
        reason: The decision's reason (secret values already scrubbed); cut to
            :data:`MAX_CONTEXT_REASON_CHARS` characters.
    """
    text = " ".join(reason.split())
    if len(text) > MAX_CONTEXT_REASON_CHARS:
        text = text[: MAX_CONTEXT_REASON_CHARS - 1] + "…"
    if not text:
        return (
            "Not run yet: the policy needs more context before this call can run. Gather it, "
            "then call again."
        )
    end = "" if text.endswith((".", "?", "!", "…")) else "."
    return f"Not run yet: the policy needs more context: {text}{end} Gather it, then call again."


@dataclass(frozen=True)
class Governance:
    """How a bot governs tool calls.

    Attributes:
        evaluator: Decides on each proposal (default: by the action's declared risk, see
            :class:`~openai_trigger_bot.governance.defaults.RiskTierEvaluator`).
        enforcement: ``enforced`` (default), ``review``, ``advisory`` or ``shadow`` (see
            :mod:`~openai_trigger_bot.governance.enforcement`).
        fail_mode: What an outage does: ``closed`` (default) blocks, ``open`` executes and
            marks the event. An action's own ``fail_mode`` wins. Outages are the remote kinds
            (``timeout``, ``transport_error``, ``http_error``, ``malformed``,
            ``circuit_open``, ``no_decision``) and an evaluator that raised anything but a
            rule-condition error (``evaluator_error``). It never opens a failure the model's
            arguments caused: a rule's ``when:`` failing on them (``over_budget``, or
            ``evaluator_error`` from a ``RuleEvaluationError``) always blocks...
        fail_modes: Per failure kind, overriding ``fail_mode`` (but not an action's own).
            ...unless named here: ``{"over_budget": "open"}`` lets an over-budget condition
            run the call (and ``{"evaluator_error": "open"}`` a failing one); an action's own
            ``fail_mode="closed"`` still blocks it.
        approval_handler: Asked when approval is required; none means the run suspends.
        on_decision: Called with the final event of every governed call.
        history: Where outcomes are recorded for ``history`` conditions, besides every
            history the evaluator reads (its ``histories()``, see
            :class:`~openai_trigger_bot.governance.capabilities.HistoryReader`).
        outbox: Where outcome reports for a decision service go (durable; see
            :class:`~openai_trigger_bot.governance.outbox.OutcomeOutbox`).
        actor: On whose behalf the bot acts (passed to policies).
        domain: The business domain (passed to policies).
    """

    evaluator: PolicyEvaluator = field(default_factory=RiskTierEvaluator)
    enforcement: EnforcementMode = "enforced"
    fail_mode: FailMode = "closed"
    fail_modes: Mapping[str, FailMode] = field(default_factory=dict)
    approval_handler: ApprovalHandler | None = None
    on_decision: DecisionHook | None = None
    history: HistoryProvider | None = None
    outbox: OutcomeOutbox | None = None
    actor: str | None = None
    domain: str | None = None

    recorders: tuple[HistoryProvider, ...] = field(init=False, repr=False, compare=False)
    """Every history outcomes go to: ``history`` and each one the evaluator reads."""
    decides_off_loop: bool = field(init=False, repr=False, compare=False)
    """The evaluator is sync and counts outcomes in a history that may block (a store, not an
    :class:`~.rules.history.InMemoryHistory`): the run calls it through its offload seam."""

    def __post_init__(self) -> None:
        # Resolved once: the explicit history plus every history the evaluator reads (through
        # the wrappers: a Fallback's local rules, a Shadow's candidate...), so `history` rules
        # see every outcome.
        found = [] if self.history is None else [self.history]
        for history in histories_of(self.evaluator):
            if all(history is not known for known in found):
                found.append(history)
        object.__setattr__(self, "recorders", tuple(found))
        blocking = any(not isinstance(h, InMemoryHistory) for h in histories_of(self.evaluator))
        sync = not inspect.iscoroutinefunction(self.evaluator.evaluate)
        object.__setattr__(self, "decides_off_loop", blocking and sync)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the gate concluded for one call (before execution)."""

    outcome: VerdictOutcome
    proposal: ProposedAction | None
    decision: Decision | None = None
    failure: str | None = None
    error: str | None = None
    decision_ms: float = 0.0
    message: str = ""
    approval: ApprovalRecord | None = None
    request: ApprovalRequest | None = None
    """For a new ``approval_required``: what a person is asked (see :mod:`.approvals`)."""
    votes: tuple[ApprovalAnswer, ...] = ()
    """Approvals already given to a call that needs several approvers."""


def propose(
    gov: Governance, valid: ValidCall, *, bot: str, trigger: str, run_id: str
) -> ProposedAction:
    """Build the frozen proposal (secret arguments already redacted in ``valid.arguments``).

    Raises:
        ValueError: An extractor raised or returned something unusable (the message says which).
    """
    action = valid.action
    value: Any = None
    target: str | None = None
    extra: Mapping[str, Any] = {}
    try:
        if action.value_from_args is not None:
            value = to_jsonable(action.value_from_args(valid.kwargs))
        if action.target_from_args is not None:
            raw_target = action.target_from_args(valid.kwargs)
            target = None if raw_target is None else str(raw_target)
        if action.metadata_from_args is not None:
            got = action.metadata_from_args(valid.kwargs)
            if not isinstance(got, Mapping):
                raise TypeError(f"returned {type(got).__name__}, not a dict")
            extra = to_jsonable(dict(got))
    except Exception as exc:
        raise ValueError(f"an extractor of {action.name} failed ({type(exc).__name__})") from exc
    secrets = valid.secrets
    if secrets:  # an extractor sees the real arguments: keep secrets out of its results
        value = secrets.data(value)
        target = None if target is None else secrets.data(target)
        extra = secrets.data(dict(extra))
    call_id = valid.call.call_id
    # Every field is already valid (validated arguments, the action's own metadata, JSON data
    # from the extractors), so the proposal is built without re-validation: this runs per call.
    return ProposedAction.model_construct(
        action=action.name,
        arguments=valid.arguments,
        metadata=action.metadata,
        value=value,
        target=target,
        extra=dict(extra),
        bot=bot,
        actor=gov.actor,
        domain=gov.domain,
        trigger=trigger,
        run_id=run_id,
        call_id=call_id,
        idempotency_key=idempotency_key(run_id, call_id, action.name, valid.arguments),
    )


async def decide_all(
    gov: Governance,
    valid: Sequence[ValidCall],
    *,
    bot: str,
    trigger: str,
    run_id: str,
    allowed: Mapping[str, object],
    offload: Offload | None = None,
    approval_ttl_s: float = DEFAULT_APPROVAL_TTL_S,
    now: Callable[[], float] = time.time,
) -> list[Verdict]:
    """The verdicts for the validated calls of one model response, in order.

    Several calls go together to an evaluator with the batch capability (a remote service,
    or a wrapper around one: one request, e.g. AuthZEN's batch endpoint); otherwise each is
    evaluated, concurrently (see :func:`~.capabilities.evaluate_many`). A sync evaluator that
    counts outcomes in a store (``Governance.decides_off_loop``) is called through
    ``offload``, so a count waiting for the store never holds the event loop. An approval
    request expires ``approval_ttl_s`` seconds after it is made (``BotSettings.approval_ttl_s``),
    unless the action sets its own ``approval_ttl_s``; ``now`` gives epoch seconds.
    """
    verdicts: list[Verdict | None] = []
    proposals: list[tuple[int, ProposedAction]] = []
    for i, v in enumerate(valid):
        try:
            proposals.append((i, propose(gov, v, bot=bot, trigger=trigger, run_id=run_id)))
            verdicts.append(None)
        except ValueError as exc:
            message = f"Error: {v.action.name} could not be checked, so it was not run."
            verdicts.append(Verdict("tool_error", None, error=str(exc), message=message))
    t0 = time.perf_counter()
    answers = await evaluate_many(
        gov.evaluator,
        [p for _, p in proposals],
        offload=offload if gov.decides_off_loop else None,
    )
    ms = (time.perf_counter() - t0) * 1000
    for (i, proposal), answer in zip(proposals, answers, strict=True):
        verdicts[i] = await _verdict(
            gov, valid[i], proposal, answer, ms, allowed, approval_ttl_s=approval_ttl_s, now=now
        )
    return [v for v in verdicts if v is not None]


async def _verdict(
    gov: Governance,
    valid: ValidCall,
    proposal: ProposedAction,
    answer: Decision | BaseException,
    ms: float,
    allowed: Mapping[str, object],
    *,
    approval_ttl_s: float,
    now: Callable[[], float],
) -> Verdict:
    if isinstance(answer, BaseException):
        if not isinstance(answer, Exception):  # cancellation and exits are not outcomes
            raise answer
        known = answer if isinstance(answer, EvaluatorError) else None
        failure = known.failure if known else "evaluator_error"
        fail_mode = fail_mode_for(
            failure,
            caused_by_arguments=known is not None and known.caused_by_arguments is True,
            action=valid.action.fail_mode,
            per_kind=gov.fail_modes,
            default=gov.fail_mode,
        )
        outcome = outcome_for_failure(fail_mode, gov.enforcement)
        # Scrubbed before it is cut: a cut secret could no longer be found by the run's scrub.
        error = valid.secrets.text(f"{failure}: {type(answer).__name__}: {answer}")[:300]
        if outcome == "execute":
            return Verdict("execute", proposal, failure=failure, error=error, decision_ms=ms)
        return Verdict(
            "block", proposal, failure=failure, error=error, decision_ms=ms, message=UNAVAILABLE
        )
    decision = answer
    outcome = outcome_for(decision, gov.enforcement)
    if outcome == "execute":
        return Verdict("execute", proposal, decision, decision_ms=ms)
    if outcome == "block":
        message = BLOCKED
        better = decision.better_action
        if better and better in allowed and better != valid.action.name:
            message += f" Consider `{better}` instead."
        return Verdict("block", proposal, decision, decision_ms=ms, message=message)
    if outcome == "needs_context":  # the model is asked, not a person: no approval handler
        message = needs_context_message(valid.clean(decision.reason))
        return Verdict("needs_context", proposal, decision, decision_ms=ms, message=message)
    ttl = valid.action.approval_ttl_s or approval_ttl_s
    request = new_request(
        proposal,
        decision,
        ttl_s=ttl,
        now=now(),
        approvals_required=valid.action.approvals_required,
    )
    return Verdict(
        "approval_required",
        proposal,
        decision,
        decision_ms=ms,
        message=PENDING,
        approval=record(request, "pending"),
        request=request,
    )
