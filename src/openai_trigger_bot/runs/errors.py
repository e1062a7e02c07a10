"""What the run store raises.

A run store keeps suspended runs, their approval records and the execution ledger. Its errors
say which run or approval is concerned and what to do::

    TriggerBotError
    └── RunError                 a run store refused an operation
        ├── RunNotFound          no run with that id (also a LookupError)
        ├── ApprovalNotFound     no approval with that id (also a LookupError)
        ├── LedgerEntryNotFound  no ledger entry under that key (also a LookupError)
        ├── RunConflict          the run changed since it was read (a stale version), or it
        │   │                    is cancelled and stays so
        │   └── RunFinished      the run is already cancelled or finished (cannot cancel it)
        ├── RunBusy              another live process holds the run's lease
        ├── ApprovalClosed       the approval is no longer pending (approvals are single-use)
        ├── ApprovalExpired      the approval expired before it was decided (it is now
        │                        marked "expired")
        ├── ApproverError        a vote the four-eyes rule refuses (no approver name, or the
        │                        same approver twice); also a ValueError. Nothing changed.
        └── RunStoreError        the store's file cannot be used: corrupt, another
            │                    application's, a newer schema, or locked too long
            └── RunStorePathError  the path cannot hold the file; also a StorePathError
"""

from __future__ import annotations

from ..exceptions import StorePathError, TriggerBotError

__all__ = [
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
]


class RunError(TriggerBotError):
    """A run store refused an operation (the message says why and what to do)."""


class RunNotFound(RunError, LookupError):
    """No run has this id in the store."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"no run {run_id!r} in the run store; list them with: trigger-bot runs list"
        )
        self.run_id = run_id


class ApprovalNotFound(RunError, LookupError):
    """No approval has this id in the store."""

    def __init__(self, approval_id: str) -> None:
        super().__init__(
            f"no approval {approval_id!r} in the run store; "
            "list them with: trigger-bot approvals list --all"
        )
        self.approval_id = approval_id


class LedgerEntryNotFound(RunError, LookupError):
    """No execution was started under this idempotency key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no ledger entry {key!r}: ledger_start it before ledger_finish")
        self.key = key


class RunConflict(RunError):
    """The run changed since it was read, or it is cancelled; read it again."""

    def __init__(self, run_id: str, message: str | None = None) -> None:
        super().__init__(
            message
            or (
                f"run {run_id} changed since it was read (another process resumed or "
                "decided it); read it again"
            )
        )
        self.run_id = run_id


class RunFinished(RunConflict):
    """The run is already cancelled or finished."""

    def __init__(self, run_id: str, status: str, message: str | None = None) -> None:
        super().__init__(
            run_id,
            message
            or f"run {run_id} is {status}; only a suspended or running run can be cancelled",
        )
        self.status = status


class RunBusy(RunError):
    """Another live process holds the run's lease (it is resuming the run right now)."""

    def __init__(self, run_id: str, owner: str, until: float) -> None:
        super().__init__(
            f"run {run_id} is being resumed by {owner} (lease until {until:.0f}); "
            "wait for it to finish, or retry after the lease ends"
        )
        self.run_id = run_id
        self.owner = owner
        self.until = until


class ApprovalClosed(RunError):
    """The approval is no longer pending: it was decided, expired or cancelled (single use)."""

    def __init__(self, approval_id: str, status: str) -> None:
        super().__init__(
            f"approval {approval_id} is already {status}; an approval is decided once "
            "(see it with: trigger-bot approvals show " + approval_id + ")"
        )
        self.approval_id = approval_id
        self.status = status


class ApprovalExpired(RunError):
    """The approval expired before it was decided; it is now marked ``expired``."""

    def __init__(self, approval_id: str, expires_at: float) -> None:
        super().__init__(
            f"approval {approval_id} expired (at {expires_at:.0f}) before it was decided; "
            "the call will not run: ask for it again in a new run"
        )
        self.approval_id = approval_id
        self.expires_at = expires_at


class ApproverError(RunError, ValueError):
    """A vote the four-eyes rule refuses; the approval is unchanged."""


class RunStoreError(RunError):
    """The run store's file cannot be used; the message names it and what to do."""


class RunStorePathError(RunStoreError, StorePathError):
    """The run store cannot be opened at its path (nothing was created)."""
