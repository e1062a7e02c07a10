"""The records a run store keeps: runs, approval rows with their votes, ledger entries.

All are frozen pydantic models that refuse unknown fields. ``state`` (of a run), ``data`` (of
an approval) and ``result`` (of a ledger entry) are opaque JSON owned by the runner: stores
keep them as they are and never interpret them. Times are epoch seconds.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "ApprovalRow",
    "ApprovalStatus",
    "ApprovalVote",
    "LedgerEntry",
    "LedgerStatus",
    "RunRecord",
]

ApprovalStatus = Literal["pending", "approved", "denied", "expired", "cancelled"]
LedgerStatus = Literal["started", "finished"]

ACTIVE_RUN_STATUSES = frozenset({"suspended", "running"})
"""Run statuses that are not final; every other status (``completed``, ``cancelled``,
``error``, ``deadline``...) is final, and such runs are removed by ``purge``."""


class RunRecord(BaseModel):
    """A run the store keeps while it waits for approvals (and after it finished).

    Attributes:
        run_id: The run's id.
        bot: The bot's name.
        trigger: The trigger that started it.
        status: ``suspended``, ``running``, ``cancelled``, ``completed`` or another final
            run status (``error``, ``deadline``...).
        version: Optimistic-concurrency counter, managed by the store: 1 when created, bumped
            by every change (a save, a claim, a decided approval, a cancel).
        created_at: When the run was stored.
        updated_at: When it last changed.
        state: The runner's serialised state (opaque JSON).
        lease_owner: Who is resuming it now (see :func:`~openai_trigger_bot.runs.new_owner`).
        lease_until: When that lease ends.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    bot: str
    trigger: str
    status: str
    version: int = Field(default=1, ge=1)
    created_at: float
    updated_at: float
    state: dict[str, Any] = Field(default_factory=dict)
    lease_owner: str | None = None
    lease_until: float | None = None


class ApprovalVote(BaseModel):
    """One person's answer to an approval.

    Attributes:
        approved: ``True`` approves, ``False`` denies.
        approver: Who answered.
        comment: Why.
        at: When.
        arguments: Edited arguments (an edit is a new proposal: the runner validates it and
            asks the policy again).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved: bool
    approver: str | None = None
    comment: str | None = None
    at: float
    arguments: dict[str, Any] | None = None


class ApprovalRow(BaseModel):
    """An approval as the store keeps it: one call of a run waiting for a person.

    Attributes:
        id: The approval's id (the ``ApprovalRequest`` id).
        run_id: The run it belongs to.
        bot: The bot's name.
        call_id: The model's call id.
        action: The action to run.
        arguments: Its arguments, already redacted.
        status: ``pending`` until decided; then ``approved``, ``denied``, ``expired`` or
            ``cancelled`` (its run was cancelled), for good.
        approvals_required: Distinct approvers needed (2 for the four-eyes rule).
        votes: The votes given so far.
        expires_at: After this, it can no longer be approved.
        created_at: When it was stored.
        decided_at: When its status left ``pending``.
        data: The runner's serialised request and decision (opaque JSON; ``data["decision"]``
            is shown by ``trigger-bot approvals show``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    run_id: str
    bot: str
    call_id: str
    action: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    status: ApprovalStatus = "pending"
    approvals_required: int = Field(default=1, ge=1)
    votes: tuple[ApprovalVote, ...] = ()
    expires_at: float
    created_at: float
    decided_at: float | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class LedgerEntry(BaseModel):
    """One governed execution, recorded before it runs and after it finished.

    Attributes:
        key: The call's idempotency key.
        run_id: The run it belongs to.
        call_id: The model's call id.
        action: The action run.
        status: ``started`` (it may be running, or the process died: the outcome is unknown)
            or ``finished``.
        started_at: When it started.
        finished_at: When it finished.
        result: What it returned (opaque JSON).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    run_id: str
    call_id: str
    action: str
    status: LedgerStatus = "started"
    started_at: float
    finished_at: float | None = None
    result: dict[str, Any] | None = None
