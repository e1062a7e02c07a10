"""The outcomes of a proposed tool call: the one canonical list.

Every proposed call ends in exactly one of these statuses (``ExecutionEvent.status``). The same
list is what policy ``history`` counts are keyed by, what outcome reports carry to a decision
service, what memory captures record and what the CLI shows; every one of those reads it from
here. The string values are on the wire and in stored files: they never change.

The module is a leaf (it imports nothing from the package), so anything — the run loop, the
gate, memory, the server, the CLI — can use it without loading the rest of governance.

What each status means is in :data:`STATUS_DESCRIPTIONS` (and in the table of
``docs/governance.md``, which a test keeps equal to this list).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

__all__ = ["EVENT_STATUSES", "STATUS_DESCRIPTIONS", "EventStatus"]

EventStatus = Literal[
    "executed",
    "blocked",
    "approval_required",
    "denied",
    "expired",
    "needs_context",
    "unknown",
    "tool_error",
    "invalid",
    "skipped",
]
"""The final status of one proposed tool call (see the module docstring)."""

EVENT_STATUSES: tuple[EventStatus, ...] = get_args(EventStatus)
"""Every :data:`EventStatus`, in the canonical order (derived from the type: one source)."""

STATUS_DESCRIPTIONS: Mapping[EventStatus, str] = MappingProxyType(
    {
        "executed": "the action ran and returned",
        "blocked": "the policy (or a failed check, fail closed) said no; it did not run",
        "approval_required": "waiting for a person's approval; it has not run",
        "denied": "a person said no; it did not run",
        "expired": "its approval expired before it was used; it did not run",
        "needs_context": "the policy wants more context first; it did not run",
        "unknown": "it started but whether it finished is not known (a crash in between)",
        "tool_error": "the action raised or returned an unusable value, or a failing extractor "
        "kept it from being checked",
        "invalid": "the call was malformed (unknown tool, bad arguments); it did not run",
        "skipped": "it was never run (a budget or deadline ran out, the response was cut off)",
    }
)
"""One line per status, for reports and documentation (keys in :data:`EVENT_STATUSES` order)."""
