"""Durable runs: suspended runs, their approval records and the execution ledger.

- :class:`RunStore`: the protocol; :class:`SQLiteRunStore` (one file, shared by processes) and
  :class:`InMemoryRunStore` (this process only) implement it; :func:`open_run_store` picks one
  from a path, a store or ``None``.
- Records: :class:`RunRecord`, :class:`ApprovalRow` with its :class:`ApprovalVote` s,
  :class:`LedgerEntry`.
- Leases: :func:`new_owner` names this process as a run's lease owner.

See ``docs/approvals.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._rules import new_owner
    from .errors import (
        ApprovalClosed,
        ApprovalExpired,
        ApprovalNotFound,
        ApproverError,
        LedgerEntryNotFound,
        RunBusy,
        RunConflict,
        RunError,
        RunFinished,
        RunNotFound,
        RunStoreError,
        RunStorePathError,
    )
    from .inmemory import InMemoryRunStore
    from .records import (
        ACTIVE_RUN_STATUSES,
        ApprovalRow,
        ApprovalStatus,
        ApprovalVote,
        LedgerEntry,
        LedgerStatus,
        RunRecord,
    )
    from .sqlite import SQLiteRunStore
    from .store import RunStore, open_run_store

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "ApprovalClosed",
    "ApprovalExpired",
    "ApprovalNotFound",
    "ApprovalRow",
    "ApprovalStatus",
    "ApprovalVote",
    "ApproverError",
    "InMemoryRunStore",
    "LedgerEntry",
    "LedgerEntryNotFound",
    "LedgerStatus",
    "RunBusy",
    "RunConflict",
    "RunError",
    "RunFinished",
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "RunStoreError",
    "RunStorePathError",
    "SQLiteRunStore",
    "new_owner",
    "open_run_store",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        "._rules": ("new_owner",),
        ".errors": (
            "ApprovalClosed",
            "ApprovalExpired",
            "ApprovalNotFound",
            "ApproverError",
            "LedgerEntryNotFound",
            "RunBusy",
            "RunConflict",
            "RunError",
            "RunFinished",
            "RunNotFound",
            "RunStoreError",
            "RunStorePathError",
        ),
        ".inmemory": ("InMemoryRunStore",),
        ".records": (
            "ACTIVE_RUN_STATUSES",
            "ApprovalRow",
            "ApprovalStatus",
            "ApprovalVote",
            "LedgerEntry",
            "LedgerStatus",
            "RunRecord",
        ),
        ".sqlite": ("SQLiteRunStore",),
        ".store": ("RunStore", "open_run_store"),
    },
)
