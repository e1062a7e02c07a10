"""The run store's decisions, without I/O: votes, leases, owners. Every store applies these.

- :func:`apply_vote` turns a pending approval and a vote into the approval's next state.
- :func:`check_claim` says whether an owner may take a run's lease now.
- :func:`new_owner` / :func:`owner_alive`: lease owners are ``host:pid:nonce``; an owner on
  this host whose process no longer exists is dead, so its lease is stale at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence

from .errors import (
    ApprovalClosed,
    ApprovalExpired,
    ApproverError,
    RunBusy,
    RunConflict,
    RunFinished,
)
from .records import ACTIVE_RUN_STATUSES, ApprovalRow, ApprovalVote, RunRecord

__all__ = [
    "apply_vote",
    "check_cancel",
    "check_claim",
    "check_save",
    "new_owner",
    "owner_alive",
]


def new_owner() -> str:
    """A lease owner name for this process: ``host:pid:nonce`` (unique per call)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    """Whether ``owner``'s process may still be running.

    An owner of this host whose pid does not exist is dead. An owner of another host, or a
    name not made by :func:`new_owner`, counts as alive: its lease holds until it ends.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return True
    return True


def check_claim(record: RunRecord, owner: str, now: float) -> None:
    """Raise :class:`RunFinished` when the run already ended (a resumer that read it before
    another finished it must not continue it again), :class:`RunBusy` when another live owner
    holds an unexpired lease on it."""
    if record.status not in ACTIVE_RUN_STATUSES:
        raise RunFinished(
            record.run_id,
            record.status,
            f"run {record.run_id} already ended (status {record.status}) while this process "
            f"was about to resume it; nothing to resume (see trigger-bot runs show "
            f"{record.run_id})",
        )
    holder, until = record.lease_owner, record.lease_until
    if holder is None or holder == owner or until is None or until <= now:
        return
    if owner_alive(holder):
        raise RunBusy(record.run_id, holder, until)


def _name(approver: str | None) -> str:
    return (approver or "").strip().casefold()


def apply_vote(
    row: ApprovalRow, vote: ApprovalVote, now: float
) -> tuple[ApprovalRow, ApprovalExpired | None]:
    """The approval after ``vote``, or an error saying why the vote is refused.

    Returns:
        The row to store, and the error to raise once it is stored: when ``now`` is past the
        approval's expiry, the row is marked ``expired`` and the error is
        :class:`ApprovalExpired`.

    Raises:
        ApprovalClosed: The approval is not pending (it is single use).
        ApproverError: With more than one approval required, an approval without an approver
            name, or a second approval by the same approver (names compare without case and
            surrounding spaces). Nothing changes.
    """
    now = float(now)
    if row.status != "pending":
        raise ApprovalClosed(row.id, row.status)
    if now > row.expires_at:
        expired = row.model_copy(update={"status": "expired", "decided_at": now})
        return expired, ApprovalExpired(row.id, row.expires_at)
    if not vote.approved:
        denied = {"status": "denied", "votes": (*row.votes, vote), "decided_at": now}
        return row.model_copy(update=denied), None
    if row.approvals_required > 1:
        name = _name(vote.approver)
        if not name:
            raise ApproverError(
                f"approval {row.id} needs {row.approvals_required} distinct approvers and this "
                "vote names none; give the approver's name (--approver NAME)"
            )
        if any(v.approved and _name(v.approver) == name for v in row.votes):
            raise ApproverError(
                f"approval {row.id} was already approved by {vote.approver!r}; it needs "
                f"{row.approvals_required} distinct approvers: another person must approve it"
            )
    votes = (*row.votes, vote)
    approvals = {_name(v.approver) for v in votes if v.approved}
    count = len(approvals) if row.approvals_required > 1 else len(votes)
    if count >= row.approvals_required:
        approved = {"status": "approved", "votes": votes, "decided_at": now}
        return row.model_copy(update=approved), None
    return row.model_copy(update={"votes": votes}), None


def check_save(record: RunRecord, expected_version: int, approvals: Sequence[ApprovalRow]) -> None:
    """Raise when a save of ``record`` must be refused (see ``RunStore.save``)."""
    if record.status == "cancelled":
        raise RunConflict(
            record.run_id,
            f"run {record.run_id} was cancelled; a cancelled run stays cancelled",
        )
    if record.version != expected_version:
        raise RunConflict(record.run_id)
    for row in approvals:
        if row.run_id != record.run_id:
            raise ValueError(f"approval {row.id} belongs to run {row.run_id}, not {record.run_id}")


def check_cancel(record: RunRecord) -> None:
    """Raise :class:`RunFinished` when ``record`` is already cancelled or finished."""
    if record.status not in ACTIVE_RUN_STATUSES:
        raise RunFinished(record.run_id, record.status)
