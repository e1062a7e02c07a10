"""The pipeline: one object owns every proposed call's life, from the model's text to its outcome.

For the calls of one model response, in this order (``docs/governance.md``, "The pipeline"):

1. **validate** (:func:`.calls.validate`): known, allowed tool; JSON object; schema-valid.
   Anything else is ``invalid`` and goes no further.
2. **propose** and **decide** (:func:`~..governance.gate.decide_all`): the frozen proposal,
   the evaluator's decision (one batch when it can), the enforcement table, the fail modes.
3. **approve** (:mod:`.approve`): the approval handler, stored approvals (on resume), expiry,
   the pending-approval cap, edits, and the policy asked again just before an approved call runs.
4. **admit**: the deadline and the action budget, in the model's order; an admitted call is
   counted in policy history before the next call is decided.
5. **execute** (:mod:`.ledger`): through the execution ledger (a call runs at most once), sync
   actions through the offload seam.
6. **settle** (:mod:`.settle`): each outcome is published once, in the model's order, to the
   run's subscribers.

The run loop hands :meth:`Pipeline.round` the calls and gets back their results; it does none
of this bookkeeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..governance.decision import ExecutionEvent
from ..governance.gate import UNAVAILABLE, Verdict, decide_all
from ..governance.redaction import SecretValues
from ..models.base import FunctionCallItem
from ..result import RunStatus
from .calls import CallResult, ValidCall, learn_secrets, not_run, skipped, validate
from .ledger import Ledger
from .settle import HistoryRecorder, Settled, Subscriber, publish

if TYPE_CHECKING:
    from ..runs.records import ApprovalRow
    from .approve import Approvals
    from .loop import RunSpec

__all__ = ["Pipeline", "Round"]


@dataclass
class Round:
    """What the pipeline made of one response's calls.

    Attributes:
        results: One result per call, in the model's order (settled or pending).
        pending: The verdicts of the calls still waiting for a person
            (``approval_required``), by call id.
        stop: The status the run stops with, if any (a budget, the deadline, approvals).
    """

    results: list[CallResult] = field(default_factory=list)
    pending: dict[str, Verdict] = field(default_factory=dict)
    stop: RunStatus | None = None


class Pipeline:
    """The life of every proposed call of one run.

    Args:
        spec: The run.
        secrets: The run's secret values (learned from the calls, scrubbed from records).
        subscribers: Who receives settled outcomes (see :mod:`.settle`).
        history: The policy histories' recorder (it is a subscriber too).
        ledger: Where executions are recorded before and after they run.
        approvals: The approval stage (handler, stored answers, expiry, re-check); it decides
            through this pipeline, so it is usually set after construction.
        actions_used: Executed actions so far (a resumed run carries its count over).
    """

    def __init__(
        self,
        spec: RunSpec,
        secrets: SecretValues,
        subscribers: Sequence[Subscriber],
        history: HistoryRecorder,
        ledger: Ledger,
        approvals: Approvals | None = None,
        *,
        actions_used: int = 0,
    ) -> None:
        self._spec = spec
        self._secrets = secrets
        self._subscribers = subscribers
        self._history = history
        self._ledger = ledger
        self.approvals = approvals
        self.actions_used = actions_used

    async def round(
        self,
        calls: Sequence[FunctionCallItem],
        deadline: float | None,
        *,
        stored: Mapping[str, ApprovalRow] | None = None,
    ) -> Round:
        """Take the calls of one response through every stage; settle each outcome.

        Args:
            calls: The response's function calls (or, on resume, those not yet settled).
            deadline: The run's deadline on the spec's clock, if any.
            stored: On resume, the stored approval of each call that waited for one, by call
                id: its answer replaces asking the handler.

        Returns:
            The results in the model's order, the calls still pending, the status to stop with.
        """
        spec = self._spec
        learn_secrets(calls, spec.allowed, self._secrets)
        checked = [
            validate(c, spec.allowed, spec.known, spec.tool_list, self._secrets) for c in calls
        ]
        valid = [c for c in checked if isinstance(c, ValidCall)]
        governed = spec.governance is not None
        sequential = bool(self._history) and len(valid) > 1
        verdicts: dict[str, tuple[ValidCall, Verdict]] = {}
        if governed and not sequential:
            verdicts = await self._decide(valid, deadline, stored)
        out = Round()
        runs: list[tuple[ValidCall, Verdict | None]] = []
        decided: dict[str, CallResult] = {}
        for original in valid:
            call_id = original.call.call_id
            if sequential:
                verdicts.update(await self._decide([original], deadline, stored))
            item, verdict = verdicts.get(call_id, (original, None))
            late = deadline is not None and spec.clock() >= deadline
            if verdict is not None and verdict.outcome != "execute":
                decided[call_id] = not_run(item, verdict)
                if verdict.outcome == "approval_required":
                    out.pending[call_id] = verdict
                    out.stop = out.stop or "approval_required"
            elif late:
                decided[call_id] = skipped(item, "the run's deadline passed", verdict)
                out.stop = "deadline"
            elif self.actions_used < spec.max_action_calls:
                self.actions_used += 1
                runs.append((item, verdict))
                if self._history and verdict is not None:
                    proposal = verdict.proposal
                    target = proposal.target if proposal is not None else None
                    self._history.admitted(item.action.name, call_id, target)
            else:
                decided[call_id] = skipped(item, "the run's action budget is used up", verdict)
                out.stop = out.stop or "max_action_calls"
        if runs:
            for (item, _), result in zip(runs, await self._ledger.execute_all(runs), strict=True):
                decided[item.call.call_id] = result
            if self._ledger.cancelled:
                out.stop = "cancelled"
        out.results = [decided[c.call.call_id] if isinstance(c, ValidCall) else c for c in checked]
        settled: list[Settled] = []
        for c in checked:
            if isinstance(c, ValidCall):
                got = verdicts.get(c.call.call_id)
                proposal = got[1].proposal if got is not None else None
                settled.append(Settled(decided[c.call.call_id], proposal, governed))
            else:
                settled.append(Settled(c, None, False))
        await publish(self._subscribers, settled)
        return out

    async def settle_unrun(self, events: Sequence[ExecutionEvent]) -> None:
        """Settle the ``skipped`` events of a response that ended the run (its calls never
        reached validation) through the same subscribers."""
        items = [Settled(CallResult(output_item={}, event=e), None, governed=False) for e in events]
        await publish(self._subscribers, items)

    async def _decide(
        self,
        valid: list[ValidCall],
        deadline: float | None,
        stored: Mapping[str, ApprovalRow] | None,
    ) -> dict[str, tuple[ValidCall, Verdict]]:
        """The verdicts (decision, then approval) of ``valid``, bounded by the run's deadline:
        a decision or approval still pending then blocks the call. An approver's edit replaces
        the call it edits."""
        spec = self._spec
        gov = spec.governance
        assert gov is not None
        if not valid:
            return {}
        work = self._verdicts(valid, stored)
        try:
            if deadline is None:
                verdicts = await work
            else:
                verdicts = await asyncio.wait_for(work, max(deadline - spec.clock(), 0.0))
        except asyncio.TimeoutError:
            late = Verdict(
                "block",
                None,
                failure="timeout",
                error="the run's deadline passed during the decision",
                message=UNAVAILABLE,
            )
            return {v.call.call_id: (v, late) for v in valid}
        return {v.call.call_id: got for v, got in zip(valid, verdicts, strict=True)}

    async def decide(self, valid: list[ValidCall]) -> list[Verdict]:
        """The policy's verdicts for ``valid`` (propose, decide, enforce), in order."""
        spec = self._spec
        gov = spec.governance
        assert gov is not None
        return await decide_all(
            gov,
            valid,
            bot=spec.bot,
            trigger=spec.trigger,
            run_id=spec.run_id,
            allowed=spec.allowed,
            offload=spec.offload,
            approval_ttl_s=spec.approval_ttl_s,
            now=spec.now,
        )

    async def decide_one(self, valid: ValidCall) -> Verdict:
        """The policy's verdict for one call (an edit, or the check before an approved call)."""
        return (await self.decide([valid]))[0]

    async def _verdicts(
        self, valid: list[ValidCall], stored: Mapping[str, ApprovalRow] | None
    ) -> list[tuple[ValidCall, Verdict]]:
        verdicts = await self.decide(valid)
        if self.approvals is None:
            return list(zip(valid, verdicts, strict=True))
        rows = stored or {}
        return [
            await self.approvals.resolve(v, verdict, rows.get(v.call.call_id))
            for v, verdict in zip(valid, verdicts, strict=True)
        ]
