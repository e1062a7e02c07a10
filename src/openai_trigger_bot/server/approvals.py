"""Approvals and runs over HTTP: the wire shapes, the vote body and the error mapping.

Pure functions, no I/O and no web framework: :mod:`._approval_handlers` reads the run store
(off the event loop) and the request, calls these, and sends what they return. Problems
become :class:`~.native.ProtocolError` s, rendered as the server's other errors are:

======  ==========================  =======================================================
status  code                        when
======  ==========================  =======================================================
400     ``invalid_query``           a bad ``status``, ``limit`` or ``bot`` query parameter
404     ``approval_not_found``      no approval with that id
404     ``run_not_found``           no run with that id
409     ``approval_closed``         the approval was already decided, or its run cancelled
409     ``approval_expired``        it expired before this decision (now marked ``expired``)
409     ``duplicate_approver``      this approver already approved it (four-eyes rule)
422     ``invalid_vote``            the body is not ``{"comment"?, "approver"?}``
422     ``approver_required``       an approve without ``approver`` where two or more
                                    distinct approvers are required
503     ``run_store_unavailable``   the run store is locked too long or unusable (logged)
======  ==========================  =======================================================

The wire shapes leave out what a store keeps for the runner alone (a run's ``state``, a ledger
entry's ``result``, an approval's serialised request): arguments are already redacted.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..runs.errors import (
    ApprovalClosed,
    ApprovalExpired,
    ApprovalNotFound,
    ApproverError,
    RunError,
    RunNotFound,
)
from ..runs.records import ApprovalRow, ApprovalVote, LedgerEntry, RunRecord
from .native import ProtocolError, validation_details

__all__ = [
    "APPROVAL_STATUSES",
    "MAX_LIMIT",
    "VoteRequest",
    "approval_to_wire",
    "ledger_to_wire",
    "list_query",
    "parse_vote",
    "run_to_wire",
    "store_error",
]

logger = logging.getLogger("openai_trigger_bot.server")

APPROVAL_STATUSES = ("pending", "approved", "denied", "expired", "cancelled")
"""The values of ``GET /v1/approvals?status=`` (and ``all``)."""

MAX_LIMIT = 1000
"""The most rows one list request returns."""

_MAX_NAME = 200
_MAX_COMMENT = 4000


class VoteRequest(BaseModel):
    """The body of ``POST /v1/approvals/{id}/approve`` and ``.../deny`` (may be empty).

    Attributes:
        comment: Why, recorded with the vote (at most 4,000 characters).
        approver: Who decides (at most 200 printable characters). The server has one token,
            so it cannot tell callers apart: the name given here is recorded as it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    comment: str | None = Field(default=None, max_length=_MAX_COMMENT)
    approver: str | None = Field(default=None, min_length=1, max_length=_MAX_NAME)

    @field_validator("approver")
    @classmethod
    def _printable_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not value.isprintable()):
            raise ValueError("the approver must be a printable, non-blank name")
        return value


def parse_vote(
    body: dict[str, Any], row: ApprovalRow, *, approved: bool, now: float
) -> ApprovalVote:
    """The vote a request body casts on ``row``.

    Raises:
        ProtocolError: 422 ``invalid_vote`` (the body has other fields or wrong types) or
            ``approver_required`` (an approve without a name where the four-eyes rule holds).
    """
    try:
        request = VoteRequest.model_validate(body)
    except ValidationError as exc:
        raise ProtocolError(
            422,
            "invalid_vote",
            'the body must be {"comment": string?, "approver": string?}',
            validation_details(exc),
        ) from None
    four_eyes = row.approvals_required > 1 and row.status == "pending"
    if approved and request.approver is None and four_eyes:
        raise ProtocolError(
            422,
            "approver_required",
            f"approval {row.id} needs {row.approvals_required} distinct approvers; "
            'send {"approver": "<your name>"}',
        )
    return ApprovalVote(
        approved=approved, approver=request.approver, comment=request.comment, at=now
    )


def list_query(query: dict[str, str], statuses: tuple[str, ...] | None) -> dict[str, Any]:
    """``status``, ``bot`` and ``limit`` of a list request, checked.

    Args:
        query: The query parameters.
        statuses: The accepted ``status`` values (``all`` is always accepted: every status);
            ``None`` accepts any status name.

    Returns:
        ``{"status": str | None, "bot": str | None, "limit": int}``.

    Raises:
        ProtocolError: 400 ``invalid_query``.
    """
    status = query.get("status")
    if status == "all":
        status = None
    elif status is not None and (
        (statuses is not None and status not in statuses) or not _name(status)
    ):
        allowed = ", ".join((*(statuses or ("a run status",)), "all"))
        raise ProtocolError(400, "invalid_query", f"status must be one of: {allowed}")
    bot = query.get("bot")
    if bot is not None and not _name(bot):
        raise ProtocolError(400, "invalid_query", "bot must be a bot's name")
    raw = query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ProtocolError(400, "invalid_query", f"limit must be 1..{MAX_LIMIT}")
    return {"status": status, "bot": bot, "limit": int(raw)}


def _name(value: str) -> bool:
    return 0 < len(value) <= _MAX_NAME and value.isprintable()


def _decision(data: dict[str, Any]) -> Any:
    """The policy's decision an approval carries (shapes of every store release)."""
    if isinstance(data.get("decision"), dict):
        return data["decision"]
    request = data.get("request")
    if isinstance(request, dict) and isinstance(request.get("decision"), dict):
        return request["decision"]
    return None


def _suggested(data: dict[str, Any]) -> Any:
    request = data.get("request")
    return request.get("suggested_arguments") if isinstance(request, dict) else None


def approval_to_wire(row: ApprovalRow, now: float) -> dict[str, Any]:
    """An approval as the server sends it.

    ``approvals_given`` counts the approving votes; ``expired`` is true for a pending approval
    past its expiry (it can no longer be approved; the store marks it when next touched).
    """
    return {
        "id": row.id,
        "run_id": row.run_id,
        "bot": row.bot,
        "call_id": row.call_id,
        "action": row.action,
        "arguments": row.arguments,
        "status": row.status,
        "expired": row.status == "expired" or (row.status == "pending" and row.expires_at < now),
        "approvals_required": row.approvals_required,
        "approvals_given": sum(1 for vote in row.votes if vote.approved),
        "votes": [vote.model_dump(mode="json") for vote in row.votes],
        "expires_at": row.expires_at,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
        "decision": _decision(row.data),
        "suggested_arguments": _suggested(row.data),
    }


def run_to_wire(run: RunRecord) -> dict[str, Any]:
    """A run as the server sends it (without the runner's opaque ``state``)."""
    return {
        "run_id": run.run_id,
        "bot": run.bot,
        "trigger": run.trigger,
        "status": run.status,
        "version": run.version,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "lease_owner": run.lease_owner,
        "lease_until": run.lease_until,
    }


def ledger_to_wire(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger entry without its result (``started``: it may have run; never re-run)."""
    return {
        "key": entry.key,
        "call_id": entry.call_id,
        "action": entry.action,
        "status": entry.status,
        "started_at": entry.started_at,
        "finished_at": entry.finished_at,
    }


def store_error(exc: RunError) -> ProtocolError:
    """The HTTP error for a run store's refusal (see the module table)."""
    if isinstance(exc, ApprovalNotFound):
        return ProtocolError(404, "approval_not_found", "no approval with this id")
    if isinstance(exc, RunNotFound):
        return ProtocolError(404, "run_not_found", "no run with this id")
    if isinstance(exc, ApprovalClosed):
        return ProtocolError(
            409,
            "approval_closed",
            f"the approval is already {exc.status}; an approval is decided once",
            {"status": exc.status},
        )
    if isinstance(exc, ApprovalExpired):
        return ProtocolError(
            409,
            "approval_expired",
            "the approval expired before it was decided; the call will not run",
            {"expires_at": exc.expires_at},
        )
    if isinstance(exc, ApproverError):
        return ProtocolError(
            409,
            "duplicate_approver",
            "this approver already approved it; another person must approve it",
        )
    logger.error("the run store refused a request: %s", exc)
    return ProtocolError(
        503, "run_store_unavailable", "the run store cannot be used now; see the server log"
    )
