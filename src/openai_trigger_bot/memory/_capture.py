"""What automatic captures remember: pure functions from run records to memory drafts.

Only fields a later run or a reviewer needs are read: names, statuses, the policy's
recommendation and reason, the target. Arguments, outputs and raw error texts are **never**
read (they can hold secrets even after redaction); for a ``tool_error`` or ``invalid`` call
the short notice the model already received is kept, cut to 200 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..governance.decision import ExecutionEvent
from ..result import RunResult

__all__ = ["Capture", "capture_scope", "event_capture", "run_capture"]

_NOTICE_CHARS = 200


@dataclass(frozen=True)
class Capture:
    """A memory to remember: text, kind, source, metadata and dedup key."""

    text: str
    kind: str
    source: str
    key: str
    metadata: dict[str, Any] = field(default_factory=dict)


def capture_scope(scopes: Sequence[str]) -> str | None:
    """The scope captures go to: the first that is not ``"global"``, else the first, else none."""
    for scope in scopes:
        if scope != "global":
            return scope
    return scopes[0] if scopes else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _NOTICE_CHARS else text[: _NOTICE_CHARS - 1] + "…"


def run_capture(result: RunResult) -> Capture:
    """One memory summarising a run: trigger, status and what happened to each tool call."""
    by_status: dict[str, list[str]] = {}
    for event in result.events:
        by_status.setdefault(event.status, []).append(event.tool)
    parts = [f"{status}: {', '.join(tools)}" for status, tools in by_status.items()]
    summary = "; ".join(parts) if parts else "no tool call"
    text = f"Run of trigger {result.trigger}: {result.status} ({summary})."
    metadata: dict[str, Any] = {
        "run_id": result.run_id,
        "bot": result.bot,
        "trigger": result.trigger,
        "status": result.status,
        "model_calls": len(result.model_calls),
        "actions": [call.name for call in result.action_calls],
        "outcomes": {status: len(tools) for status, tools in by_status.items()},
    }
    return Capture(
        text=text,
        kind="trigger_run",
        source=f"run:{result.run_id}",
        key=f"run:{result.run_id}:{result.status}",
        metadata=metadata,
    )


def event_capture(event: ExecutionEvent, *, bot: str, trigger: str, target: str | None) -> Capture:
    """One memory for one governed outcome (``action`` when executed, else ``tool_outcome``)."""
    subject = f"{event.tool} on {target}" if target else event.tool
    text = f"{subject}: {event.status}"
    metadata: dict[str, Any] = {
        "bot": bot,
        "trigger": trigger,
        "tool": event.tool,
        "status": event.status,
        "call_id": event.call_id,
        "target": target,
    }
    decision = event.decision
    if decision is not None:
        reason = _short(decision.reason) if decision.reason else ""
        text += f" (policy: {decision.recommendation}" + (f" — {reason})" if reason else ")")
        metadata |= {
            "recommendation": decision.recommendation,
            "reason": reason,
            "mode": decision.mode,
            "policy_id": decision.policy_id,
            "policy_version": decision.policy_version,
        }
    if event.failure:
        text += f" [evaluator {event.failure}]"
        metadata["failure"] = event.failure
    if event.status == "invalid" and event.message_to_model:
        # our own validation notice (secret inputs are never echoed in it)
        notice = _short(event.message_to_model)
        text += f": {notice}"
        metadata["notice"] = notice
    elif event.status == "tool_error":
        # only the exception's type: its text may hold credentials nobody declared secret
        kind = (event.error or "").split(":", 1)[0].strip()
        notice = f"raised {kind}" if kind.isidentifier() else "failed"
        text += f": {notice}"
        metadata["notice"] = notice
    return Capture(
        text=text + ".",
        kind="action" if event.status == "executed" else "tool_outcome",
        source=f"call:{event.call_id}",
        key=f"call:{event.call_id}:{event.status}",
        metadata=metadata,
    )
