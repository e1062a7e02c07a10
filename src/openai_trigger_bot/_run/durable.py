"""Suspending a run into the run store, and finishing the round a resume continues.

- :meth:`Durable.suspend`: a round left calls waiting for a person; the run's state (see
  :mod:`.state`) and one approval row per new request go to the store, and the result lists
  them (``RunResult.pending_approvals``).
- :meth:`Durable.finish_round`: a resume first settles the suspended round's waiting calls
  with their stored answers (through the same pipeline), then hands the loop the context with
  that round's outputs, so the next request answers the stored response: the model is never
  asked that round again.
- :meth:`Durable.finished`: a resumed run's end is saved (its status and result), its lease
  released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..governance.decision import Decision, ExecutionEvent
from ..governance.gate import Verdict
from ..models.base import FunctionCallItem, ModelResponse
from ..result import ActionCall, ModelCall, PendingApproval, RunResult, RunStatus
from .context import Chained, Context, Stateless
from .ledger import to_json
from .pipeline import Pipeline, Round
from .records import RunRecords
from .state import RUN_STATE_FORMAT, RUN_STATE_VERSION, RoundCall, RunState, tool_fingerprints

if TYPE_CHECKING:
    from ..runs.records import ApprovalRow
    from .loop import RunSpec

__all__ = ["Durable", "Resumed", "pending_of_row"]

log = logging.getLogger("openai_trigger_bot.runs")


@dataclass(frozen=True)
class Resumed:
    """What a resume continues from (read and claimed by ``bot.resume``).

    Attributes:
        state: The suspended run's state.
        rows: The approvals of its suspended round, by call id.
        version: The stored run's version after the claim (for the next save).
        owner: This process's lease on the run.
    """

    state: RunState
    rows: dict[str, ApprovalRow]
    version: int
    owner: str


def pending_of_row(row: ApprovalRow) -> PendingApproval:
    """The result's view of a stored approval."""
    request = row.data.get("request", {})
    decision = request.get("decision")
    return PendingApproval(
        id=row.id,
        run_id=row.run_id,
        call_id=row.call_id,
        action=row.action,
        arguments=dict(row.arguments),
        decision=None if decision is None else Decision.model_validate(decision),
        expires_at=row.expires_at,
        approvals_required=row.approvals_required,
        approvals=sum(1 for v in row.votes if v.approved),
        suggested_arguments=request.get("suggested_arguments"),
    )


class Durable:
    """A run's link to the run store (see the module docstring)."""

    def __init__(
        self, spec: RunSpec, records: RunRecords, pipe: Pipeline, resumed: Resumed | None
    ) -> None:
        self._spec = spec
        self._records = records
        self._pipe = pipe
        self._resumed = resumed
        self._version = None if resumed is None else resumed.version
        self.pending: tuple[PendingApproval, ...] = ()
        self._settled: tuple[list[dict[str, Any]] | None, ModelResponse, list[RoundCall]] | None
        self._settled = None
        """A resumed run's last settled round, not yet answered by the model: its input
        items (stateless), response and calls, kept again if the model call fails."""

    async def _io(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        io = self._spec.store_io
        if io is None:
            return fn(*args, **kwargs)
        return await io(lambda: fn(*args, **kwargs))

    async def finish_round(self, deadline: float | None) -> tuple[Context, RunStatus | None]:
        """Settle the suspended round's waiting calls; the context to go on with."""
        resumed = self._resumed
        assert resumed is not None
        st, records, spec = resumed.state, self._records, self._spec
        records.model_calls = [ModelCall.model_validate(m) for m in st.model_calls]
        records.action_calls = [ActionCall.model_validate(a) for a in st.action_calls]
        records.events = [ExecutionEvent.model_validate(e) for e in st.events]
        records.text = st.text
        records.last_response_id = st.response_id
        self._pipe.actions_used = st.actions_used
        context: Context = Stateless(st.items) if st.items is not None else Chained([])
        kept = spec.secret_arguments.get(spec.run_id, {})
        waiting: list[FunctionCallItem] = []
        for c in st.calls:
            if c.result is not None:
                continue
            arguments = c.arguments
            if c.secret:
                if c.call_id in kept:
                    arguments = kept[c.call_id]
                elif self._pipe.approvals is not None:
                    self._pipe.approvals.secret_lost.add(c.call_id)
            waiting.append(FunctionCallItem(c.call_id, c.name, arguments))
        rnd = await self._pipe.round(waiting, deadline, stored=resumed.rows)
        new = {r.event.call_id: r for r in rnd.results}
        calls = [
            c
            if c.result is not None
            else self._call(c.call_id, c.name, c.arguments, rnd, new, secret=c.secret)
            for c in st.calls
        ]
        if rnd.stop == "approval_required":
            return context, await self._save_suspended(context, st.response(), calls, rnd)
        if rnd.stop is not None:
            return context, rnd.stop
        self._settled = (st.items, st.response(), calls)
        outputs = [
            c.result["output_item"] if c.result is not None else new[c.call_id].output_item
            for c in calls
        ]
        context.advance(st.response(), outputs)
        return context, None

    def _call(
        self,
        call_id: str,
        name: str,
        arguments: str,
        rnd: Round,
        new: dict[str, Any],
        *,
        secret: bool = False,
    ) -> RoundCall:
        """One call of a round as the state keeps it (secret values scrubbed; ``secret``: it
        was already stored scrubbed)."""
        secrets = self._records.secrets
        scrubbed = secrets.text(arguments)
        pending = rnd.pending.get(call_id)
        return RoundCall(
            call_id=call_id,
            name=name,
            arguments=scrubbed,
            secret=secret or scrubbed != arguments,
            result=None if pending is not None else secrets.data(to_json(new[call_id])),
            approval_id=None if pending is None else _approval_id(pending),
        )

    def settled(self, context: Context, response: ModelResponse, rnd: Round) -> None:
        """Note a resumed run's round whose calls all settled, before the model hears them
        (what :meth:`keep_for_retry` stores if that model call fails)."""
        if self._version is None:
            return
        new = {r.event.call_id: r for r in rnd.results}
        items = context.items() if isinstance(context, Stateless) else None
        calls = [
            self._call(c.call_id, c.name, c.arguments, rnd, new) for c in response.function_calls
        ]
        self._settled = (items, response, calls)

    async def keep_for_retry(self) -> bool:
        """A resumed run whose model call failed after its round settled: store it suspended
        at that round (every call with its result, nothing waiting), so that the next
        ``resume`` sends the outputs again instead of the run ending with them unheard. The
        ledger keeps the calls from running twice.

        Returns:
            Whether the run was kept (only a resumed run with a settled round is).
        """
        if self._version is None or self._settled is None:
            return False
        items, response, calls = self._settled
        context: Context = Stateless(items) if items is not None else Chained([])
        status = await self._save_suspended(context, response, calls, Round())
        return status == "approval_required"

    async def suspend(self, context: Context, response: ModelResponse, rnd: Round) -> RunStatus:
        """Store a run whose round left calls waiting for a person."""
        new = {r.event.call_id: r for r in rnd.results}
        calls = [
            self._call(c.call_id, c.name, c.arguments, rnd, new) for c in response.function_calls
        ]
        kept = {
            c.call_id: c.arguments
            for c, rc in zip(response.function_calls, calls, strict=True)
            if rc.secret and rc.result is None
        }
        if kept:
            self._spec.secret_arguments.setdefault(self._spec.run_id, {}).update(kept)
        return await self._save_suspended(context, response, calls, rnd)

    async def _save_suspended(
        self, context: Context, response: ModelResponse, calls: list[RoundCall], rnd: Round
    ) -> RunStatus:
        spec, records = self._spec, self._records
        store = spec.run_store
        records.scrubbed()
        secrets = records.secrets
        stateless = isinstance(context, Stateless)
        items = context.items() if isinstance(context, Stateless) else None
        state = RunState(
            run_id=spec.run_id,
            bot=spec.bot,
            trigger=spec.trigger,
            base_body=dict(spec.base_body),
            tools=tool_fingerprints(spec.allowed),
            items=None if items is None else secrets.data(items),
            response_id=response.id,
            response_output=secrets.data(list(response.raw.get("output") or []))
            if stateless
            else [],
            calls=calls,
            model_calls=[m.model_dump(mode="json") for m in records.model_calls],
            action_calls=[a.model_dump(mode="json") for a in records.action_calls],
            events=[e.model_dump(mode="json") for e in records.events],
            actions_used=self._pipe.actions_used,
            text=records.text,
        ).model_dump(mode="json")
        now = spec.now()
        rows = [_row(spec.bot, v, now) for v in rnd.pending.values() if v.request is not None]
        if store is None:  # ungoverned runs never wait for approval; nothing to keep
            return "approval_required"
        from ..runs.records import RunRecord

        if self._version is None:
            record = RunRecord(
                run_id=spec.run_id,
                bot=spec.bot,
                trigger=spec.trigger,
                status="suspended",
                created_at=now,
                updated_at=now,
                state=state,
            )
            await self._io(store.create, record, rows)
        else:
            assert self._resumed is not None
            from ..runs import RunConflict

            try:
                await self._io(
                    store.save,
                    spec.run_id,
                    expected_version=self._version,
                    status="suspended",
                    state=state,
                    approvals=rows,
                    now=now,
                )
            except RunConflict:
                if not await self.cancelled():
                    raise
                return "cancelled"  # cancelled meanwhile: nothing new waits; finished() releases
            await self._io(store.release, spec.run_id, self._resumed.owner)
            self._version = None
        listed = await self._io(store.list_approvals, status="pending", run_id=spec.run_id)
        order = [c.approval_id for c in calls]  # the model's order, not the store's
        ours = sorted((r for r in listed if r.id in order), key=lambda r: order.index(r.id))
        self.pending = tuple(pending_of_row(r) for r in ours)
        return "approval_required"

    async def cancelled(self) -> bool:
        """Whether a resumed run was cancelled in the store meanwhile (``bot.cancel`` from
        another process): the loop then ends it before asking the model again."""
        store = self._spec.run_store
        if self._version is None or store is None:
            return False
        record = await self._io(store.load, self._spec.run_id)
        return bool(record.status == "cancelled")

    async def finished(self, result: RunResult) -> RunResult:
        """Save a resumed run's end (a run that never suspended is not stored).

        Returns:
            The result, with status ``cancelled`` if the run was cancelled in the store while
            its last round ran (the store keeps it cancelled; what ran is still reported).
        """
        spec = self._spec
        if self._version is None or self._resumed is None or spec.run_store is None:
            return result
        if result.status == "approval_required":
            return result
        if result.status != "cancelled":
            result = await self._save_end(result)
        await self._io(spec.run_store.release, spec.run_id, self._resumed.owner)
        spec.secret_arguments.pop(spec.run_id, None)
        if result.status == "cancelled":  # cancelled in the store meanwhile: it stays so
            return result
        try:  # retention: finished runs older than BotSettings.run_retention_s go
            await self._io(spec.run_store.purge, older_than=spec.now() - spec.run_retention_s)
        except Exception as exc:  # housekeeping never fails a run
            log.warning("run store purge failed: %r", exc)
        return result

    async def _save_end(self, result: RunResult) -> RunResult:
        """Store the run's result; a run cancelled meanwhile stays cancelled (the result says
        so), any other conflict is raised."""
        from ..runs import RunConflict

        spec = self._spec
        assert spec.run_store is not None
        state = {
            "format": RUN_STATE_FORMAT,
            "version": RUN_STATE_VERSION,
            "result": result.model_dump(mode="json"),
        }
        try:
            await self._io(
                spec.run_store.save,
                spec.run_id,
                expected_version=self._version,
                status=result.status,
                state=state,
                now=spec.now(),
            )
        except RunConflict:
            if not await self.cancelled():
                raise
            return result.model_copy(update={"status": "cancelled", "pending_approvals": ()})
        return result


def _approval_id(verdict: Verdict) -> str | None:
    if verdict.request is not None:
        return verdict.request.id
    return verdict.approval.id if verdict.approval is not None else None


def _row(bot: str, verdict: Verdict, now: float) -> ApprovalRow:
    """The store's row for a new approval request (with the votes already given)."""
    from ..runs.records import ApprovalRow, ApprovalVote

    request = verdict.request
    assert request is not None
    return ApprovalRow(
        id=request.id,
        run_id=request.run_id,
        bot=bot,
        call_id=request.call_id,
        action=request.proposal.action,
        arguments=dict(request.proposal.arguments),
        approvals_required=request.approvals_required,
        votes=tuple(
            ApprovalVote(
                approved=True,
                approver=v.approver,
                comment=v.comment,
                at=now,
                arguments=v.arguments,
            )
            for v in verdict.votes
        ),
        expires_at=request.expires_at,
        created_at=now,
        data={"request": request.model_dump(mode="json")},
    )
