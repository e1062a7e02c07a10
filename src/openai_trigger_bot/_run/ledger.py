"""Execution through the ledger: every governed call runs at most once.

Before a governed call runs, its idempotency key (run id, call id, action, canonical arguments)
is recorded as ``started`` in the run store; after it returned or raised, its result is
recorded as ``finished``, in the same store. A resume, a retry or a second process that
reaches the same call therefore finds it there:

- ``finished``: the recorded result is used; the action does not run again;
- ``started`` (the process that ran it died in between): the call is ``unknown``: shown to
  the operator and told to the model, never silently run again, unless the action is declared
  safe to repeat (``@action(idempotent=True)``), which runs it again.

A call whose run was cancelled in the store meanwhile (``bot.cancel`` while a resume
re-checks the policy) is ``skipped`` and the run ends ``cancelled``.

Ungoverned calls (``Bot(governed=False)``) run without the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..governance.decision import ExecutionEvent, idempotency_key
from ..governance.gate import Verdict
from ..result import ActionCall
from .calls import CallResult, ValidCall, execute, result_for
from .offload import Offload

if TYPE_CHECKING:
    from ..runs.store import RunStore

__all__ = ["CANCELLED", "LEDGER_DOWN", "UNKNOWN", "Ledger", "from_json", "to_json"]

log = logging.getLogger("openai_trigger_bot.runs")

UNKNOWN = (
    "Unknown: this call was started earlier, but the process running it stopped before it "
    "finished, so whether it took effect is not known. It was not run again: check its effect "
    "before calling it again."
)
LEDGER_DOWN = "Not run: the execution could not be recorded beforehand, so it was blocked."
CANCELLED = "Not run: the run was cancelled. Do not call it again."


def to_json(result: CallResult) -> dict[str, Any]:
    """A call's result as JSON data, for the ledger and the run state."""
    return {
        "output_item": dict(result.output_item),
        "event": result.event.model_dump(mode="json"),
        "action_call": None
        if result.action_call is None
        else result.action_call.model_dump(mode="json"),
        "target": result.target,
    }


def from_json(data: dict[str, Any]) -> CallResult:
    """The result :func:`to_json` wrote."""
    action_call = data.get("action_call")
    return CallResult(
        output_item=dict(data["output_item"]),
        event=ExecutionEvent.model_validate(data["event"]),
        action_call=None if action_call is None else ActionCall.model_validate(action_call),
        target=data.get("target"),
    )


class Ledger:
    """Runs admitted calls through the run store's ledger (see the module docstring).

    Args:
        store: The run store (``None``: no ledger, for ungoverned runs).
        run_id: The run.
        offload: Runs sync actions off the event loop.
        store_io: Runs the store's blocking calls (``None``: call them here, for the
            in-memory store, which never blocks).
        now: Epoch seconds, for the entries.
    """

    def __init__(
        self,
        store: RunStore | None,
        run_id: str,
        *,
        offload: Offload,
        store_io: Offload | None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._offload = offload
        self._store_io = store_io
        self._now = now
        self.cancelled = False
        """A call found its run cancelled in the store (``bot.cancel`` during a resume)."""

    async def _io(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if self._store_io is None:
            return fn(*args, **kwargs)
        return await self._store_io(lambda: fn(*args, **kwargs))

    async def _run_cancelled(self, store: RunStore) -> bool:
        """Whether the run is stored as cancelled (a run never stored is not)."""
        from ..runs import RunNotFound

        try:
            record = await self._io(store.load, self._run_id)
        except RunNotFound:
            return False
        return bool(record.status == "cancelled")

    async def execute_all(
        self, runs: Sequence[tuple[ValidCall, Verdict | None]]
    ) -> list[CallResult]:
        """Execute admitted calls concurrently; results in the given order."""
        if len(runs) == 1:
            return [await self.execute(*runs[0])]
        return list(await asyncio.gather(*(self.execute(v, verdict) for v, verdict in runs)))

    async def execute(self, valid: ValidCall, verdict: Verdict | None) -> CallResult:
        """Run one admitted call at most once (see the module docstring)."""
        store = self._store
        if store is None or verdict is None:
            return await execute(valid, verdict, offload=self._offload)
        proposal = verdict.proposal
        key = (
            proposal.idempotency_key
            if proposal is not None
            else idempotency_key(
                self._run_id, valid.call.call_id, valid.action.name, valid.arguments
            )
        )
        if await self._run_cancelled(store):
            self.cancelled = True
            return result_for(
                valid,
                "skipped",
                CANCELLED,
                verdict,
                error="the run was cancelled before the call ran",
            )
        try:
            found = await self._io(
                store.ledger_start,
                key,
                run_id=self._run_id,
                call_id=valid.call.call_id,
                action=valid.action.name,
                now=self._now(),
            )
        except Exception as exc:  # no record before: it must not run (fail closed)
            log.error("execution ledger not written for %s: %r; not run", valid.action.name, exc)
            return result_for(
                valid,
                "blocked",
                LEDGER_DOWN,
                verdict,
                error=f"ledger_error: the execution ledger could not be written "
                f"({type(exc).__name__})",
            )
        if found is not None:
            if found.status == "finished" and found.result is not None:
                return from_json(found.result)
            if not valid.action.idempotent:
                return result_for(
                    valid,
                    "unknown",
                    UNKNOWN,
                    verdict,
                    error="its execution started but did not finish (the process stopped); "
                    "not run again",
                )
        result = await execute(valid, verdict, offload=self._offload)
        try:
            await self._io(store.ledger_finish, key, to_json(result), now=self._now())
        except Exception as exc:  # it ran: the result stands; the entry stays "started"
            log.error("execution ledger not finished for %s: %r", valid.action.name, exc)
        return result
