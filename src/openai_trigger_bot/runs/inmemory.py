"""A run store in this process's memory: runs resume in this process only (and tests)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any

from .._lifecycle import Closing
from ._rules import apply_vote, check_cancel, check_claim, check_save
from .errors import ApprovalNotFound, LedgerEntryNotFound, RunConflict, RunNotFound
from .records import ACTIVE_RUN_STATUSES, ApprovalRow, ApprovalVote, LedgerEntry, RunRecord

__all__ = ["InMemoryRunStore"]


class InMemoryRunStore(Closing):
    """A :class:`~openai_trigger_bot.runs.RunStore` in memory, safe across threads.

    Records are deep-copied on the way in and out, so a caller cannot change stored data by
    mutating a record's ``state``, ``arguments`` or ``data``. Nothing survives the process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._approvals: dict[str, ApprovalRow] = {}
        self._ledger: dict[str, LedgerEntry] = {}

    # -- runs -------------------------------------------------------------------------------

    def create(self, record: RunRecord, approvals: Sequence[ApprovalRow]) -> None:
        """See :meth:`RunStore.create`."""
        stored = record.model_copy(update={"version": 1}, deep=True)
        rows = [row.model_copy(deep=True) for row in approvals]
        with self._lock:
            if record.run_id in self._runs:
                raise RunConflict(record.run_id, f"run {record.run_id} already exists")
            for row in rows:
                if row.run_id != record.run_id:
                    raise ValueError(
                        f"approval {row.id} belongs to run {row.run_id}, not {record.run_id}"
                    )
            self._runs[record.run_id] = stored
            self._approvals.update((row.id, row) for row in rows)

    def _run(self, run_id: str) -> RunRecord:
        try:
            return self._runs[run_id]
        except KeyError:
            raise RunNotFound(run_id) from None

    def _put(self, record: RunRecord, now: float, **changes: Any) -> RunRecord:
        changes.setdefault("updated_at", now)
        updated = record.model_copy(update={"version": record.version + 1, **changes})
        self._runs[record.run_id] = updated
        return updated.model_copy(deep=True)

    def load(self, run_id: str) -> RunRecord:
        """See :meth:`RunStore.load`."""
        with self._lock:
            return self._run(run_id).model_copy(deep=True)

    def save(
        self,
        run_id: str,
        *,
        expected_version: int,
        status: str,
        state: dict[str, Any],
        approvals: Sequence[ApprovalRow] = (),
        now: float,
    ) -> RunRecord:
        """See :meth:`RunStore.save`."""
        rows = [row.model_copy(deep=True) for row in approvals]
        with self._lock:
            record = self._run(run_id)
            check_save(record, expected_version, rows)
            self._approvals.update((row.id, row) for row in rows)
            return self._put(record, now, status=status, state=_copy(state))

    def claim(self, run_id: str, *, owner: str, lease_s: float, now: float) -> RunRecord:
        """See :meth:`RunStore.claim`."""
        with self._lock:
            record = self._run(run_id)
            check_claim(record, owner, now)
            return self._put(record, now, lease_owner=owner, lease_until=now + lease_s)

    def release(self, run_id: str, owner: str) -> None:
        """See :meth:`RunStore.release`."""
        with self._lock:
            record = self._runs.get(run_id)
            if record is not None and record.lease_owner == owner:
                cleared = {"lease_owner": None, "lease_until": None}
                self._runs[run_id] = record.model_copy(update=cleared)

    def list_runs(
        self, *, status: str | None = None, bot: str | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """See :meth:`RunStore.list_runs`."""
        with self._lock:
            found = [
                r
                for r in self._runs.values()
                if (status is None or r.status == status) and (bot is None or r.bot == bot)
            ]
            found.sort(key=lambda r: (r.created_at, r.run_id), reverse=True)
            return [r.model_copy(deep=True) for r in found[: max(limit, 0)]]

    def cancel(self, run_id: str, *, now: float) -> RunRecord:
        """See :meth:`RunStore.cancel`."""
        with self._lock:
            record = self._run(run_id)
            check_cancel(record)
            for row in list(self._approvals.values()):
                if row.run_id == run_id and row.status == "pending":
                    closed = {"status": "cancelled", "decided_at": now}
                    self._approvals[row.id] = row.model_copy(update=closed)
            return self._put(record, now, status="cancelled")

    def purge(self, *, older_than: float) -> int:
        """See :meth:`RunStore.purge`."""
        with self._lock:
            gone = {
                r.run_id
                for r in self._runs.values()
                if r.status not in ACTIVE_RUN_STATUSES and r.updated_at < older_than
            }
            for run_id in gone:
                del self._runs[run_id]
            self._approvals = {k: v for k, v in self._approvals.items() if v.run_id not in gone}
            self._ledger = {k: v for k, v in self._ledger.items() if v.run_id not in gone}
            return len(gone)

    # -- approvals --------------------------------------------------------------------------

    def get_approval(self, approval_id: str) -> ApprovalRow:
        """See :meth:`RunStore.get_approval`."""
        with self._lock:
            return self._approval(approval_id).model_copy(deep=True)

    def _approval(self, approval_id: str) -> ApprovalRow:
        try:
            return self._approvals[approval_id]
        except KeyError:
            raise ApprovalNotFound(approval_id) from None

    def list_approvals(
        self,
        *,
        status: str | None = "pending",
        bot: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRow]:
        """See :meth:`RunStore.list_approvals`."""
        with self._lock:
            found = [
                a
                for a in self._approvals.values()
                if (status is None or a.status == status)
                and (bot is None or a.bot == bot)
                and (run_id is None or a.run_id == run_id)
            ]
            found.sort(key=lambda a: (a.created_at, a.id), reverse=True)
            return [a.model_copy(deep=True) for a in found[: max(limit, 0)]]

    def count_pending(self, bot: str, now: float) -> int:
        """See :meth:`RunStore.count_pending`."""
        with self._lock:
            return sum(
                1
                for a in self._approvals.values()
                if a.bot == bot and a.status == "pending" and a.expires_at >= now
            )

    def decide(self, approval_id: str, vote: ApprovalVote, *, now: float) -> ApprovalRow:
        """See :meth:`RunStore.decide`."""
        vote = vote.model_copy(deep=True)
        with self._lock:
            row, error = apply_vote(self._approval(approval_id), vote, now)
            self._approvals[row.id] = row
            record = self._runs.get(row.run_id)
            if record is not None:
                self._put(record, now)
            if error is not None:
                raise error
            return row.model_copy(deep=True)

    # -- ledger -----------------------------------------------------------------------------

    def ledger_start(
        self, key: str, *, run_id: str, call_id: str, action: str, now: float
    ) -> LedgerEntry | None:
        """See :meth:`RunStore.ledger_start`."""
        with self._lock:
            found = self._ledger.get(key)
            if found is not None:
                return found.model_copy(deep=True)
            self._ledger[key] = LedgerEntry(
                key=key, run_id=run_id, call_id=call_id, action=action, started_at=now
            )
            return None

    def ledger_finish(self, key: str, result: dict[str, Any], *, now: float) -> LedgerEntry:
        """See :meth:`RunStore.ledger_finish`."""
        with self._lock:
            entry = self._ledger.get(key)
            if entry is None:
                raise LedgerEntryNotFound(key)
            if entry.status == "finished":
                raise RunConflict(entry.run_id, f"ledger entry {key!r} is already finished")
            done = {"status": "finished", "finished_at": now, "result": _copy(result)}
            self._ledger[key] = entry.model_copy(update=done)
            return self._ledger[key].model_copy(deep=True)

    def ledger_get(self, key: str) -> LedgerEntry | None:
        """See :meth:`RunStore.ledger_get`."""
        with self._lock:
            entry = self._ledger.get(key)
            return None if entry is None else entry.model_copy(deep=True)

    def ledger_for_run(self, run_id: str) -> list[LedgerEntry]:
        """See :meth:`RunStore.ledger_for_run`."""
        with self._lock:
            found = [e for e in self._ledger.values() if e.run_id == run_id]
            return [e.model_copy(deep=True) for e in sorted(found, key=lambda e: e.started_at)]

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Nothing to release (the data stays until the store is garbage)."""


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)
