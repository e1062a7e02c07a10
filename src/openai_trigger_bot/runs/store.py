"""The :class:`RunStore` protocol: where suspended runs, approvals and the ledger live.

Two stores implement it: :class:`~openai_trigger_bot.runs.SQLiteRunStore` (one file, shared
by threads and processes) and :class:`~openai_trigger_bot.runs.InMemoryRunStore` (this process
only). Methods are synchronous and may block on I/O: call them off the event loop. Every
method that changes something is atomic; ``now`` is passed in so tests need no clock.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from .records import ApprovalRow, ApprovalVote, LedgerEntry, RunRecord

__all__ = ["RunStore", "open_run_store"]


@runtime_checkable
class RunStore(Protocol):
    """Durable runs, their approvals and the execution ledger (see ``docs/approvals.md``)."""

    def create(self, record: RunRecord, approvals: Sequence[ApprovalRow]) -> None:
        """Store a new run (at version 1) with its approvals, in one transaction.

        Raises:
            RunConflict: A run with this id exists.
        """
        ...

    def load(self, run_id: str) -> RunRecord:
        """The run ``run_id``.

        Raises:
            RunNotFound: No such run.
        """
        ...

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
        """Compare and swap: replace the run's status and state, upsert ``approvals``.

        Returns:
            The run at its new version (``expected_version + 1``).

        Raises:
            RunNotFound: No such run.
            RunConflict: The run's version is not ``expected_version`` (it changed since it was
                read), or the run is cancelled. Nothing changes.
            ValueError: An approval belongs to another run.
        """
        ...

    def claim(self, run_id: str, *, owner: str, lease_s: float, now: float) -> RunRecord:
        """Take the run's lease for ``lease_s`` seconds (bumps its version).

        Raises:
            RunNotFound: No such run.
            RunFinished: The run already ended (cancelled or finished): nothing to resume.
            RunBusy: Another owner holds an unexpired lease and its process may be alive (an
                owner of this host whose pid is gone is dead: its lease is stale at once).
        """
        ...

    def release(self, run_id: str, owner: str) -> None:
        """Give the lease back, if ``owner`` still holds it (otherwise do nothing)."""
        ...

    def list_runs(
        self, *, status: str | None = None, bot: str | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one status or one bot."""
        ...

    def get_approval(self, approval_id: str) -> ApprovalRow:
        """The approval ``approval_id``.

        Raises:
            ApprovalNotFound: No such approval.
        """
        ...

    def list_approvals(
        self,
        *,
        status: str | None = "pending",
        bot: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRow]:
        """Approvals, newest first (``status=None``: of every status)."""
        ...

    def count_pending(self, bot: str, now: float) -> int:
        """How many of ``bot``'s approvals are pending and not expired at ``now``."""
        ...

    def decide(self, approval_id: str, vote: ApprovalVote, *, now: float) -> ApprovalRow:
        """Record a vote on a pending approval, atomically; bumps its run's version.

        A denial denies it. An approval adds the vote; once ``approvals_required`` distinct
        approvers approved, it is ``approved``.

        Raises:
            ApprovalNotFound: No such approval.
            ApprovalClosed: It is not pending (decided, expired or cancelled: single use).
            ApprovalExpired: ``now`` is past its expiry; it is now stored as ``expired``.
            ApproverError: Two or more approvals required and no approver name, or one
                already given by the same approver. Nothing changes.
        """
        ...

    def cancel(self, run_id: str, *, now: float) -> RunRecord:
        """End a suspended (or running) run: status ``cancelled``, its pending approvals too.

        Raises:
            RunNotFound: No such run.
            RunFinished: It is already cancelled or finished.
        """
        ...

    def ledger_start(
        self, key: str, *, run_id: str, call_id: str, action: str, now: float
    ) -> LedgerEntry | None:
        """Record that the execution ``key`` starts, unless it was recorded before.

        Returns:
            ``None`` when this call recorded it (the caller runs the action); otherwise the
            entry already there, unchanged (the caller must not run it again: ``started``
            means it may have run, ``finished`` carries the result).
        """
        ...

    def ledger_finish(self, key: str, result: dict[str, Any], *, now: float) -> LedgerEntry:
        """Record the result of the execution ``key``.

        Raises:
            LedgerEntryNotFound: It was never started.
            RunConflict: It is already finished (the first result is kept).
        """
        ...

    def ledger_get(self, key: str) -> LedgerEntry | None:
        """The ledger entry ``key``, or ``None``."""
        ...

    def ledger_for_run(self, run_id: str) -> list[LedgerEntry]:
        """The run's ledger entries, in the order they started."""
        ...

    def purge(self, *, older_than: float) -> int:
        """Delete finished runs (any status but suspended and running) last changed before
        ``older_than``, with their approvals and ledger entries; returns how many runs."""
        ...

    def close(self) -> None:
        """Release the store's resources (a closed store must not be used again)."""
        ...

    def __enter__(self) -> RunStore: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def open_run_store(store: RunStore | str | os.PathLike[str] | None) -> RunStore:
    """The run store a bot's ``run_store=`` names.

    Args:
        store: A file path (a :class:`~openai_trigger_bot.runs.SQLiteRunStore` there), a
            store (returned as it is), or ``None`` (an
            :class:`~openai_trigger_bot.runs.InMemoryRunStore`: runs resume in this process
            only).

    Raises:
        RunStorePathError: The path cannot hold the file.
        RunStoreError: The file is not a run store or has a newer schema (it is untouched).
    """
    if store is None:
        from .inmemory import InMemoryRunStore

        return InMemoryRunStore()
    if isinstance(store, (str, os.PathLike)):
        from .sqlite import SQLiteRunStore

        return SQLiteRunStore(store)
    if isinstance(store, RunStore):
        return store
    raise TypeError(
        f"run_store must be a file path, a RunStore or None, not {type(store).__name__}"
    )
