"""Records and stores shared by the run-store tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openai_trigger_bot.runs import (
    ApprovalRow,
    InMemoryRunStore,
    RunRecord,
    RunStore,
    SQLiteRunStore,
)

KINDS = ("memory", "sqlite")


def make_store(kind: str, tmp_path: Path) -> RunStore:
    if kind == "memory":
        return InMemoryRunStore()
    return SQLiteRunStore(tmp_path / "runs.db")


def run(
    run_id: str = "run-1", *, status: str = "suspended", at: float = 100.0, **kw: Any
) -> RunRecord:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "bot": "helpdesk",
        "trigger": "ticket",
        "status": status,
        "created_at": at,
        "updated_at": at,
        "state": {"response_id": "resp_1", "outputs": [{"call_id": "c0", "output": "ok"}]},
    }
    return RunRecord(**{**fields, **kw})


def approval(
    approval_id: str = "ap-1", run_id: str = "run-1", *, required: int = 1, **kw: Any
) -> ApprovalRow:
    fields: dict[str, Any] = {
        "id": approval_id,
        "run_id": run_id,
        "bot": "helpdesk",
        "call_id": f"call-{approval_id}",
        "action": "grant_access",
        "arguments": {"user": "ada", "role": "operator", "token": "[redacted]"},
        "approvals_required": required,
        "expires_at": 1000.0,
        "created_at": 100.0,
        "data": {"decision": {"recommendation": "review", "risk": "high"}},
    }
    return ApprovalRow(**{**fields, **kw})
