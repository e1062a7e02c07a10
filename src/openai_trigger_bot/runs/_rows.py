"""Rows of the run store's SQLite tables to records and back (JSON columns are text)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from .._json import dumps
from .errors import ApprovalNotFound
from .records import ApprovalRow, LedgerEntry, RunRecord

__all__ = [
    "APPROVAL",
    "LEDGER",
    "RUN",
    "approval",
    "filters",
    "ledger",
    "one",
    "row_approval",
    "row_ledger",
    "row_run",
    "run_values",
    "upsert_approvals",
]

RUN = (
    "run_id, bot, trigger, status, version, created_at, updated_at, state, lease_owner, lease_until"
)
APPROVAL = (
    "id, run_id, bot, call_id, action, arguments, status, approvals_required, votes, "
    "expires_at, created_at, decided_at, data"
)
LEDGER = "key, run_id, call_id, action, status, started_at, finished_at, result"


def one(conn: sqlite3.Connection, sql: str, *params: Any) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
    return row


def filters(**equal: str | None) -> tuple[str, tuple[str, ...]]:
    used = {column: value for column, value in equal.items() if value is not None}
    where = " AND ".join(f"{column} = ?" for column in used)
    return (f" WHERE {where}" if where else ""), tuple(used.values())


def run_values(record: RunRecord) -> tuple[Any, ...]:
    return (
        record.run_id,
        record.bot,
        record.trigger,
        record.status,
        record.version,
        record.created_at,
        record.updated_at,
        dumps(record.state),
        record.lease_owner,
        record.lease_until,
    )


def row_run(row: tuple[Any, ...]) -> RunRecord:
    names = [name.strip() for name in RUN.split(",")]
    values = dict(zip(names, row, strict=True))
    values["state"] = json.loads(values["state"])
    return RunRecord.model_validate(values)


def upsert_approvals(conn: sqlite3.Connection, approvals: Sequence[ApprovalRow]) -> None:
    conn.executemany(
        f"INSERT OR REPLACE INTO approvals ({APPROVAL}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                a.id,
                a.run_id,
                a.bot,
                a.call_id,
                a.action,
                dumps(a.arguments),
                a.status,
                a.approvals_required,
                dumps([v.model_dump(mode="json") for v in a.votes]),
                a.expires_at,
                a.created_at,
                a.decided_at,
                dumps(a.data),
            )
            for a in approvals
        ],
    )


def approval(conn: sqlite3.Connection, approval_id: str) -> ApprovalRow:
    row = one(conn, f"SELECT {APPROVAL} FROM approvals WHERE id = ?", approval_id)
    if row is None:
        raise ApprovalNotFound(approval_id)
    return row_approval(row)


def row_approval(row: tuple[Any, ...]) -> ApprovalRow:
    names = [name.strip() for name in APPROVAL.split(",")]
    values = dict(zip(names, row, strict=True))
    for column in ("arguments", "votes", "data"):
        values[column] = json.loads(values[column])
    return ApprovalRow.model_validate(values)


def ledger(conn: sqlite3.Connection, key: str) -> LedgerEntry | None:
    row = one(conn, f"SELECT {LEDGER} FROM ledger WHERE key = ?", key)
    return None if row is None else row_ledger(row)


def row_ledger(row: tuple[Any, ...]) -> LedgerEntry:
    names = [name.strip() for name in LEDGER.split(",")]
    values = dict(zip(names, row, strict=True))
    values["result"] = None if values["result"] is None else json.loads(values["result"])
    return LedgerEntry.model_validate(values)
