"""Resuming a suspended run: record the decisions, claim the run, finish it through the loop.

``bot.resume(run_id, decisions)`` (and ``aresume``, and ``GovernedClient``'s) comes here:

1. read the run from the store; refuse a run that is cancelled or already ended, a state
   written by a newer release, or a bot whose tools differ from the run's (see :mod:`.state`);
2. record each decision (any answer an approval handler may give; ``None`` leaves it for
   later) on its approval, in the store: single use, expiry and the four-eyes rule are the
   store's (:mod:`openai_trigger_bot.runs`);
3. while a call of the suspended round still waits, return ``approval_required`` again (no
   model call, nothing run);
4. otherwise claim the run's lease (two processes resuming at once: one wins, the other gets
   :class:`~openai_trigger_bot.runs.RunBusy`) and continue it (:func:`.loop.run_loop`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..actions import Action
from ..exceptions import UsageError
from ..governance.approvals import normalise
from ..governance.decision import ExecutionEvent
from ..result import ActionCall, ModelCall, PendingApproval, RunResult
from .durable import Resumed, pending_of_row
from .loop import RunSpec, run_loop
from .offload import Offload
from .state import ResumeRefused, RunState

if TYPE_CHECKING:
    from ..runs.records import ApprovalRow, ApprovalVote
    from ..runs.store import RunStore

__all__ = ["cancel_run", "resume_run"]

LEASE_MARGIN_S = 60.0
"""A resumed run holds its lease for its time budget plus this margin (one hour without one)."""


async def _io(io: Offload | None, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    if io is None:
        return fn(*args, **kwargs)
    return await io(lambda: fn(*args, **kwargs))


async def resume_run(
    store: RunStore,
    io: Offload | None,
    run_id: str,
    decisions: Mapping[str, Any],
    *,
    bot: str,
    allowed_for: Callable[[str], Mapping[str, Action[Any]]],
    make_spec: Callable[[RunState, Mapping[str, Action[Any]]], RunSpec],
    now: Callable[[], float],
) -> RunResult:
    """Continue a suspended run (see the module docstring).

    Raises:
        RunNotFound: No run with this id in the store.
        ResumeRefused: The run cannot be resumed by this bot (why is in the message).
        UsageError: The run is cancelled or ended; a decision for an approval of another run,
            or an answer that is not understood.
        ApprovalClosed: A decision for an approval already decided (approvals are single use).
        ApproverError: A vote the four-eyes rule refuses.
        RunBusy: Another live process is resuming the run now.
        RunConflict: Another process resumed it (to a later round) since it was read here;
            nothing ran. RunFinished: it already ended.
    """
    from ..runs import ApprovalExpired, RunConflict, new_owner

    record = await _io(io, store.load, run_id)
    if record.status == "cancelled":
        raise UsageError(f"run {run_id} was cancelled; it cannot be resumed")
    if record.status not in ("suspended", "running"):
        raise UsageError(f"run {run_id} already ended (status {record.status}); nothing to resume")
    state = RunState.load(record.state, run_id=run_id)
    if state.bot != bot:
        raise ResumeRefused(f"run {run_id} belongs to bot {state.bot!r}, not {bot!r}")
    try:
        allowed = allowed_for(state.trigger)
    except KeyError:
        raise ResumeRefused(
            f"run {run_id} was started by trigger {state.trigger!r}, which bot {bot!r} no "
            "longer has"
        ) from None
    state.check_tools(allowed)
    votes = await _votes(store, io, run_id, decisions, now(), allowed)
    for approval_id, vote in votes:
        with contextlib.suppress(ApprovalExpired):  # marked expired: the call ends "expired"
            await _io(io, store.decide, approval_id, vote, now=now())
    ids = [c.approval_id for c in state.calls if c.approval_id]  # in the model's order
    listed = await _io(io, store.list_approvals, status=None, run_id=run_id)
    rows = sorted((r for r in listed if r.id in ids), key=lambda r: ids.index(r.id))
    waiting = [r for r in rows if r.status == "pending" and r.expires_at >= now()]
    if waiting:
        return _waiting(state, [pending_of_row(r) for r in waiting])
    spec = make_spec(state, allowed)
    owner = new_owner()
    lease_s = LEASE_MARGIN_S + (spec.timeout_s if spec.timeout_s is not None else 3600.0)
    claimed = await _io(io, store.claim, run_id, owner=owner, lease_s=lease_s, now=now())
    if claimed.state != record.state:  # another process resumed it since it was read here
        await _io(io, store.release, run_id, owner)
        raise RunConflict(
            run_id,
            f"run {run_id} was resumed by another process since it was read here (it is now "
            f"at a later round); nothing was run: see trigger-bot runs show {run_id}",
        )
    running = await _io(
        io,
        store.save,
        run_id,
        expected_version=claimed.version,
        status="running",
        state=claimed.state,
        now=now(),
    )
    resumed = Resumed(state, {r.call_id: r for r in rows}, running.version, owner)
    return await run_loop(spec, resumed)


async def _votes(
    store: RunStore,
    io: Offload | None,
    run_id: str,
    decisions: Mapping[str, Any],
    now: float,
    allowed: Mapping[str, Action[Any]],
) -> list[tuple[str, ApprovalVote]]:
    """Every decision as the vote to record, checked before any is recorded: one refused
    decision (another run's approval, an answer not understood, a closed approval, a vote the
    four-eyes rule refuses, an edit of an action with secret parameters) raises and records
    none of the others."""
    from ..runs import ApprovalVote
    from ..runs._rules import apply_vote

    votes: list[tuple[str, ApprovalVote]] = []
    for approval_id, answer in decisions.items():
        row = await _io(io, store.get_approval, approval_id)
        if row.run_id != run_id:
            raise UsageError(
                f"approval {approval_id} belongs to run {row.run_id}, not {run_id}; nothing "
                "was recorded: resume each run with its own approvals"
            )
        said = normalise(answer)
        if said.resolution == "deferred":
            continue
        if said.resolution == "invalid":
            raise UsageError(
                f"the decision for approval {approval_id} is not understood: {said.problem}; "
                "nothing was recorded"
            )
        action = allowed.get(row.action)
        if said.arguments is not None and action is not None and action.secret:
            raise UsageError(
                f"approval {approval_id}: {row.action} has secret parameters "
                f"({', '.join(sorted(action.secret))}), and an edit would store their values; "
                "nothing was recorded: approve or deny it as proposed, or let the model "
                "propose the call again"
            )
        vote = ApprovalVote(
            approved=said.resolution == "approved",
            approver=said.approver,
            comment=said.comment,
            at=now,
            arguments=said.arguments,
        )
        if _already_recorded(row, vote):  # a retry (say, after a crash): recorded once
            continue
        apply_vote(row, vote, now)  # raises ApprovalClosed / ApproverError, changes nothing
        votes.append((approval_id, vote))
    return votes


def _already_recorded(row: ApprovalRow, vote: ApprovalVote) -> bool:
    """Whether ``vote`` is already the decided outcome of ``row`` (the same yes, by the same
    approver, with the same arguments; or a no when it was denied): repeating a resume with
    the same decisions is then not an error."""
    if row.status == "denied":
        return not vote.approved
    if row.status != "approved" or not vote.approved:
        return False
    return any(
        v.approved and v.approver == vote.approver and v.arguments == vote.arguments
        for v in row.votes
    )


def _waiting(state: RunState, pending: list[PendingApproval]) -> RunResult:
    """The result of a resume that found calls still waiting: the run as it was."""
    return RunResult(
        run_id=state.run_id,
        bot=state.bot,
        trigger=state.trigger,
        status="approval_required",
        model_calls=tuple(ModelCall.model_validate(m) for m in state.model_calls),
        action_calls=tuple(ActionCall.model_validate(a) for a in state.action_calls),
        events=tuple(ExecutionEvent.model_validate(e) for e in state.events),
        text=state.text,
        last_response_id=state.response_id,
        pending_approvals=tuple(pending),
    )


async def cancel_run(store: RunStore, io: Offload | None, run_id: str, *, now: float) -> None:
    """End a suspended run: status ``cancelled``; its approvals can no longer be decided.

    Raises:
        RunNotFound: No such run.
        RunFinished: It is already cancelled or ended.
    """
    await _io(io, store.cancel, run_id, now=now)
