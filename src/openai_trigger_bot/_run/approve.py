"""The approval stage: what a call that needs a person comes to before it may run.

Given the policy's verdict for a validated call, :class:`Approvals` settles every approval
rule of ``docs/approvals.md``:

- a stored answer (on resume) replaces asking the handler; otherwise the handler is asked
  (a sync one off the event loop, within ``BotSettings.approval_timeout_s``);
- past the pending-approval cap (``BotSettings.max_pending_approvals``) the call is blocked;
- an approval used after its ``expires_at`` gives ``expired`` (not ``denied``: no one said no);
- an action that needs several approvers (``@action(approvals_required=2)``) waits until that
  many distinct people said yes; a handler's yes counts as one vote only when it names its
  approver (an unnamed yes is a handler error: it could be anyone's);
- an edit (``Approval(arguments=...)``) is a new proposal: validated and decided again; with
  several approvers, every yes must be to the same arguments (an edit one of them made is
  not approved by the others' yes to the model's arguments);
- just before an approved call runs the policy is asked again: if it now blocks, the call is
  blocked; if it now decides under another policy version, the approval no longer holds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..governance.approvals import consult
from ..governance.decision import ApprovalRecord
from ..governance.gate import APPROVAL_UNAVAILABLE, DENIED, Verdict
from ..governance.redaction import SecretValues
from ..models.base import FunctionCallItem
from .calls import ValidCall, validate

if TYPE_CHECKING:
    from ..runs.records import ApprovalRow
    from .loop import RunSpec

__all__ = [
    "CAPPED",
    "EDITS_DIFFER",
    "EXPIRED",
    "FEWER_APPROVERS",
    "POLICY_CHANGED",
    "SECRET_NOT_STORED",
    "Approvals",
    "row_record",
]

EXPIRED = (
    "Not run: the approval for this call expired before it was used (no one declined it). "
    "If it is still needed, call it again to ask anew."
)
CAPPED = (
    "Not run: too many calls are already waiting for a person's approval, so this one was "
    "blocked. Do not retry it now."
)
POLICY_CHANGED = (
    "Not run: the policy changed after the approval was given, so the approval no longer "
    "holds. If it is still needed, call it again to ask anew."
)
EDITS_DIFFER = (
    "Not run: the approvers did not approve the same arguments (one of them edited the call), "
    "so no one approved what would run. If it is still needed, call it again to ask anew."
)
FEWER_APPROVERS = (
    "Not run: this action now needs more approvers than approved the call, so the approval "
    "no longer holds. If it is still needed, call it again to ask anew."
)
SECRET_NOT_STORED = (
    "Not run: this call's secret arguments are never stored, so it cannot run after a "
    "restart. If it is still needed, call it again."
)

Decide = Callable[[ValidCall], Awaitable[Verdict]]


def _blocked(
    verdict: Verdict,
    failure: str,
    error: str | None,
    message: str,
    approval: ApprovalRecord | None,
) -> Verdict:
    """``verdict`` turned into a block by the approval stage (the request is spent)."""
    return dataclasses.replace(
        verdict,
        outcome="block",
        failure=failure,
        error=error,
        message=message,
        approval=approval,
        request=None,
    )


def row_record(
    row: ApprovalRow, resolution: Literal["approved", "denied", "pending", "expired", "error"]
) -> ApprovalRecord:
    """The event's record of a stored approval (the last vote's approver and comment)."""
    vote = row.votes[-1] if row.votes else None
    request = row.data.get("request", {})
    return ApprovalRecord(
        id=row.id,
        binding_hash=str(request.get("binding_hash", "")),
        expires_at=row.expires_at,
        resolution=resolution,
        approver=vote.approver if vote else None,
        comment=vote.comment if vote else None,
    )


class Approvals:
    """The approval stage of one run (see the module docstring).

    Args:
        spec: The run.
        decide: Decides one validated call again (the pipeline's decide stage).
        secrets: The run's secret values (kept out of approvers' words).
        now: Epoch seconds (expiry; a fake clock in tests).
        pending_elsewhere: How many approvals of this bot wait in the run store now (for the
            cap); ``None``: only this run's are counted.
        max_pending: The cap (``None``: no cap).
        timeout_s: How long the handler may take (``None``: the run's deadline bounds it).
        on_error: ``block`` (default: fail closed) or ``suspend`` (leave the call to a person
            through the run store) when the handler raises, times out or is not understood.
    """

    def __init__(
        self,
        spec: RunSpec,
        decide: Decide,
        secrets: SecretValues,
        *,
        now: Callable[[], float],
        pending_elsewhere: Callable[[], Awaitable[int]] | None = None,
        max_pending: int | None = None,
        timeout_s: float | None = None,
        on_error: Literal["block", "suspend"] = "block",
    ) -> None:
        self._spec = spec
        self._decide = decide
        self._secrets = secrets
        self._now = now
        self._pending_elsewhere = pending_elsewhere
        self._max_pending = max_pending
        self._timeout_s = timeout_s
        self._on_error = on_error
        self._pending_here = 0
        self.secret_lost: set[str] = set()
        """Call ids whose secret arguments were not kept (a resume in another process)."""

    async def resolve(
        self, valid: ValidCall, verdict: Verdict, row: ApprovalRow | None
    ) -> tuple[ValidCall, Verdict]:
        """The call to run (an edit replaces it) and its verdict after the approval rules."""
        if row is not None:
            return await self._stored(valid, verdict, row)
        if verdict.outcome != "approval_required" or verdict.request is None:
            return valid, verdict
        if await self._capped():
            return valid, _blocked(
                verdict,
                "approval_cap",
                "the pending-approval cap is reached",
                CAPPED,
                None,
            )
        handler = self._spec.governance.approval_handler if self._spec.governance else None
        if handler is None:
            self._pending_here += 1
            return valid, verdict
        request = verdict.request
        got = await consult(handler, request, offload=self._spec.offload, timeout_s=self._timeout_s)
        rec = self._clean(got.record)
        error = got.error and self._secrets.text(got.error)
        if got.outcome == "block" and self._on_error == "suspend":
            self._pending_here += 1
            return valid, dataclasses.replace(verdict, error=error)
        if got.outcome == "approval_required":
            self._pending_here += 1
            return valid, verdict
        if got.outcome == "denied":
            return valid, dataclasses.replace(
                verdict, outcome="denied", message=DENIED, approval=rec, error=error, request=None
            )
        if got.outcome == "block":
            return valid, _blocked(
                verdict,
                "approval_error",
                error,
                APPROVAL_UNAVAILABLE,
                rec,
            )
        answer = got.answer
        assert answer is not None
        if self._now() > request.expires_at:
            return valid, self._expired(verdict, rec)
        if answer.arguments is not None and valid.action.secret:
            return valid, self._secret_edit(verdict, rec)
        if request.approvals_required > 1:  # one yes of several: the rest decide later
            if not (answer.approver or "").strip():  # could be anyone's, the others' too
                return valid, self._unnamed(verdict, rec, request.approvals_required)
            self._pending_here += 1
            vote = dataclasses.replace(answer, approver=rec.approver, comment=rec.comment)
            return valid, dataclasses.replace(verdict, votes=(vote,))
        return await self._approved(valid, verdict, rec, answer.arguments, request.binding_hash)

    async def _stored(
        self, valid: ValidCall, verdict: Verdict, row: ApprovalRow
    ) -> tuple[ValidCall, Verdict]:
        """Resume: the stored answer, checked for expiry, then the policy again."""
        if row.status == "denied":
            rec = row_record(row, "denied")
            said = f"denied by a reviewer: {rec.comment}" if rec.comment else None
            return valid, dataclasses.replace(
                verdict, outcome="denied", message=DENIED, approval=rec, error=said, request=None
            )
        if row.status == "expired" or self._now() > row.expires_at:
            return valid, self._expired(verdict, row_record(row, "expired"))
        if row.status != "approved":  # still pending: it waits on
            self._pending_here += 1
            return valid, dataclasses.replace(
                verdict,
                outcome="approval_required",
                approval=row_record(row, "pending"),
                request=None,
            )
        rec = row_record(row, "approved")
        if valid.call.call_id in self.secret_lost:
            return valid, _blocked(
                verdict,
                "secret_not_stored",
                "the call's secret arguments were not kept across the restart",
                SECRET_NOT_STORED,
                rec,
            )
        required = verdict.request.approvals_required if verdict.request else 1
        approvers = {v.approver for v in row.votes if v.approved}
        given = len(approvers) if required > 1 else len([v for v in row.votes if v.approved])
        if given < required:  # the action now needs more approvers than said yes
            return valid, _blocked(
                verdict,
                "approval_stale",
                f"the call now needs {required} distinct approvers and {given} approved it",
                FEWER_APPROVERS,
                rec,
            )
        edits = [v.arguments for v in row.votes if v.approved]
        if any(e != edits[0] for e in edits[1:]):  # four eyes: each yes was to something else
            return valid, _blocked(
                verdict,
                "invalid_edit",
                "the approvers did not approve the same arguments",
                EDITS_DIFFER,
                rec,
            )
        edit = edits[0] if edits else None
        bound = str(row.data.get("request", {}).get("binding_hash", ""))
        return await self._approved(valid, verdict, rec, edit, bound, rechecked=True)

    async def _approved(
        self,
        valid: ValidCall,
        verdict: Verdict,
        rec: ApprovalRecord,
        edit: Mapping[str, Any] | None,
        bound: str,
        *,
        rechecked: bool = False,
    ) -> tuple[ValidCall, Verdict]:
        """An approved call: the edit (if any) validated and decided, or the policy asked
        again; what runs is what the policy now lets through."""
        if edit is not None and valid.action.secret:
            return valid, self._secret_edit(verdict, rec)
        if edit is not None:
            item = FunctionCallItem(
                valid.call.call_id, valid.call.name, json.dumps(edit, ensure_ascii=False)
            )
            spec = self._spec
            checked = validate(item, spec.allowed, spec.known, spec.tool_list, self._secrets)
            if not isinstance(checked, ValidCall):
                detail = checked.event.error or "not valid"
                return valid, _blocked(
                    verdict,
                    "invalid_edit",
                    f"the reviewer's edit is not valid: {detail}",
                    f"Not run: the reviewer's edit of the arguments is not valid ({detail}).",
                    rec,
                )
            again = await self._decide(checked)
            if again.outcome == "approval_required":  # the editor approved exactly this edit
                again = dataclasses.replace(again, outcome="execute", message="")
            return checked, dataclasses.replace(again, approval=rec, request=None)
        again = verdict if rechecked else await self._decide(valid)
        if again.outcome == "approval_required":
            request = again.request
            if request is None or request.binding_hash != bound:
                return valid, _blocked(
                    again,
                    "approval_stale",
                    "the policy changed after the approval was given",
                    POLICY_CHANGED,
                    rec,
                )
            again = dataclasses.replace(again, outcome="execute", message="")
        return valid, dataclasses.replace(again, approval=rec, request=None)

    def _unnamed(self, verdict: Verdict, rec: ApprovalRecord, required: int) -> Verdict:
        """A handler's yes without an approver's name, for a call that needs several distinct
        approvers: not a vote (it cannot be told apart from the others'); a handler error."""
        error = (
            f"approval_error: the call needs {required} distinct approvers and the approval "
            "handler's yes names no approver (answer with Approval(approver=...))"
        )
        if self._on_error == "suspend":
            self._pending_here += 1
            return dataclasses.replace(verdict, error=error)
        return _blocked(
            verdict,
            "approval_error",
            error,
            APPROVAL_UNAVAILABLE,
            rec.model_copy(update={"resolution": "error"}),
        )

    def _secret_edit(self, verdict: Verdict, rec: ApprovalRecord) -> Verdict:
        """An edit of an action with secret parameters: refused, since an edit may be stored
        (four eyes, resume) and secret values never are."""
        return _blocked(
            verdict,
            "invalid_edit",
            "edits of an action with secret parameters are not accepted",
            "Not run: the reviewer's edit could not be used (this action has secret "
            "parameters, which are never stored). If it is still needed, call it again.",
            rec,
        )

    def _expired(self, verdict: Verdict, rec: ApprovalRecord) -> Verdict:
        return dataclasses.replace(
            verdict,
            outcome="expired",
            message=EXPIRED,
            error="the approval expired before it was used",
            approval=rec.model_copy(update={"resolution": "expired"}),
            request=None,
        )

    async def _capped(self) -> bool:
        if self._max_pending is None:
            return False
        elsewhere = 0 if self._pending_elsewhere is None else await self._pending_elsewhere()
        return elsewhere + self._pending_here >= self._max_pending

    def _clean(self, rec: ApprovalRecord) -> ApprovalRecord:
        """A reviewer's words are recorded and reported: keep the run's secrets out of them."""
        if not (rec.comment or rec.approver):
            return rec
        secrets = self._secrets
        return rec.model_copy(
            update={
                "comment": rec.comment and secrets.text(rec.comment),
                "approver": rec.approver and secrets.text(rec.approver),
            }
        )
