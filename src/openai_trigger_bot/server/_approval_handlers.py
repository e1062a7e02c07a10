"""The approval and run endpoints (starlette glue around :mod:`.approvals`).

Served when the app has a run store (``trigger-bot serve --run-store PATH``), behind the
server's token; :meth:`~._handlers.DecisionService.endpoint` wraps each handler (token,
error bodies, ``X-Request-Id``). The run store is read and written in starlette's thread
pool, never on the event loop. With a :class:`~.resumer.Resumer`, deciding the last open
approval of a run's round hands the run to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..runs.errors import ApprovalExpired, RunError
from ..runs.records import ApprovalRow
from ..runs.store import RunStore
from . import approvals
from ._handlers import Reply, read_body
from .native import ProtocolError, parse_json
from .resumer import Resumer

__all__ = ["ApprovalService"]

T = TypeVar("T")

_MAX_ID = 200
_EVERY = 100_000


def _path_id(request: Request, name: str, missing: str) -> str:
    """A path parameter, or 404 without echoing it when it cannot be an id."""
    value: str = request.path_params[name]
    if not value or len(value) > _MAX_ID or not value.isprintable():
        raise ProtocolError(404, missing, "no such id")
    return value


class ApprovalService:
    """The approval and run endpoints, bound to one run store.

    Args:
        store: The run store (thread-safe: :class:`~openai_trigger_bot.runs.SQLiteRunStore`).
        resumer: Resumes runs once their approvals are decided (``None``: the runs wait for
            ``trigger-bot runs resume``).
        clock: Epoch seconds (the votes' time, expiry checks).
    """

    def __init__(
        self,
        store: RunStore,
        *,
        resumer: Resumer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.resumer = resumer
        self._clock = clock

    async def _io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` in the thread pool; a run store refusal becomes its HTTP error."""
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        except RunError as exc:
            raise approvals.store_error(exc) from exc

    # -- approvals --------------------------------------------------------------------------

    async def list_approvals(self, request: Request) -> Reply:
        """``GET /v1/approvals?status=&bot=&run_id=&limit=`` (pending by default)."""
        query = dict(request.query_params)
        query.setdefault("status", "pending")
        wanted = approvals.list_query(query, approvals.APPROVAL_STATUSES)
        run_id = query.get("run_id")
        if run_id is not None and not (0 < len(run_id) <= _MAX_ID and run_id.isprintable()):
            raise ProtocolError(400, "invalid_query", "run_id must be a run's id")
        rows = await self._io(self.store.list_approvals, run_id=run_id, **wanted)
        now = self._clock()
        return Reply(200, {"approvals": [approvals.approval_to_wire(r, now) for r in rows]})

    async def show_approval(self, request: Request) -> Reply:
        """``GET /v1/approvals/{id}``."""
        approval_id = _path_id(request, "id", "approval_not_found")
        row = await self._io(self.store.get_approval, approval_id)
        return Reply(200, {"approval": approvals.approval_to_wire(row, self._clock())})

    async def approve(self, request: Request) -> Reply:
        """``POST /v1/approvals/{id}/approve`` with ``{"comment"?, "approver"?}``."""
        return await self._decide(request, approved=True)

    async def deny(self, request: Request) -> Reply:
        """``POST /v1/approvals/{id}/deny`` with ``{"comment"?, "approver"?}``."""
        return await self._decide(request, approved=False)

    async def _decide(self, request: Request, *, approved: bool) -> Reply:
        approval_id = _path_id(request, "id", "approval_not_found")
        raw = await read_body(request)
        body = parse_json(raw) if raw.strip() else {}
        row = await self._io(self.store.get_approval, approval_id)
        now = self._clock()
        vote = approvals.parse_vote(body, row, approved=approved, now=now)
        try:
            row = await run_in_threadpool(self.store.decide, approval_id, vote, now=now)
        except ApprovalExpired as exc:
            # Now marked expired: the run's round may be settled (the model is told "expired").
            await self._after_decision(row.model_copy(update={"status": "expired"}))
            raise approvals.store_error(exc) from exc
        except RunError as exc:
            raise approvals.store_error(exc) from exc
        resume = await self._after_decision(row)
        return Reply(200, {"approval": approvals.approval_to_wire(row, now), "resume": resume})

    async def _after_decision(self, row: ApprovalRow) -> str:
        """Hand the run to the resumer when no approval of it is open any more.

        Returns:
            ``waiting_for_approvers`` (this approval needs more approvers), ``manual`` (no
            resumer for this bot: resume with ``trigger-bot runs resume``),
            ``waiting_for_approvals`` (another approval of the run is open) or ``scheduled``.
        """
        if row.status == "pending":
            return "waiting_for_approvers"
        resumer = self.resumer
        if resumer is None or row.bot != resumer.bot_name:
            return "manual"
        now = self._clock()
        open_ = await self._io(
            self.store.list_approvals, status="pending", run_id=row.run_id, limit=_EVERY
        )
        if any(other.expires_at >= now for other in open_):
            return "waiting_for_approvals"
        return "scheduled" if resumer.submit(row.run_id) else "manual"

    # -- runs -------------------------------------------------------------------------------

    def _pending_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.store.list_approvals(status="pending", limit=_EVERY):
            counts[row.run_id] = counts.get(row.run_id, 0) + 1
        return counts

    async def list_runs(self, request: Request) -> Reply:
        """``GET /v1/runs?status=&bot=&limit=``, newest first."""
        wanted = approvals.list_query(dict(request.query_params), None)
        runs = await self._io(self.store.list_runs, **wanted)
        counts = await self._io(self._pending_counts)
        body = [
            {**approvals.run_to_wire(run), "pending_approvals": counts.get(run.run_id, 0)}
            for run in runs
        ]
        return Reply(200, {"runs": body})

    async def show_run(self, request: Request) -> Reply:
        """``GET /v1/runs/{id}``: the run, its approvals, its ledger, the server's last resume."""
        run_id = _path_id(request, "id", "run_not_found")
        run = await self._io(self.store.load, run_id)
        rows = await self._io(self.store.list_approvals, status=None, run_id=run_id, limit=_EVERY)
        ledger = await self._io(self.store.ledger_for_run, run_id)
        now = self._clock()
        last = self.resumer.last(run_id) if self.resumer is not None else None
        body = {
            "run": approvals.run_to_wire(run),
            "approvals": [approvals.approval_to_wire(r, now) for r in rows],
            "ledger": [approvals.ledger_to_wire(e) for e in ledger],
            "last_resume": last.to_wire() if last is not None else None,
        }
        return Reply(200, body)
