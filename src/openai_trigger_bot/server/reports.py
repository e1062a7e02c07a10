"""Outcome reports: the record clients send, and the SQLite store that keeps each one once.

A client's outbox may send the same report many times (it retries until it gets an answer, and
an answer can be lost on the way back). The store keeps the first copy of each
``idempotency_key`` and counts the others as duplicates: ``INSERT OR IGNORE`` on a unique key,
inside one ``BEGIN IMMEDIATE`` transaction per request, so concurrent requests (threads or
processes sharing the file) neither lose nor duplicate a report. The first copy wins; a later
copy with other content is still a duplicate.

The database runs in WAL mode with ``synchronous=FULL``: once the server answered "accepted",
the report survives a power cut, so the client may drop it from its outbox. Each operation
borrows a connection from a small pool; :meth:`ReportStore.close` closes the idle ones.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._sqlite import StoreSchemaError, connect, database_problem, migrate
from ..governance.decision import ExecutionEvent, ProposedAction
from ..governance.rules.history import HistoryProvider

__all__ = ["IngestResult", "OutcomeReport", "ReportStore"]

_APPLICATION_ID = 0x54425250  # "TBRP": marks a file as a trigger-bot report store

# Step 0 (version 0 -> 1) creates the tables. Files written before the store had a schema
# version have exactly these tables, our application id and user_version 0: IF NOT EXISTS
# lets the same step adopt them as version 1. Append a step per schema change; never edit one.
_V1 = (
    """CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    received_at REAL NOT NULL,
    reported_at REAL NOT NULL,
    occurred_at REAL NOT NULL,
    bot TEXT,
    run_id TEXT,
    tool TEXT NOT NULL,
    status TEXT NOT NULL,
    target TEXT,
    event TEXT NOT NULL,
    proposal TEXT
)""",
    "CREATE INDEX IF NOT EXISTS reports_received_at ON reports (received_at)",
    "CREATE INDEX IF NOT EXISTS reports_occurred_at ON reports (occurred_at)",
)
STEPS: tuple[tuple[str, ...], ...] = (_V1,)
"""``STEPS[n]`` migrates a version ``n`` report store to ``n + 1`` (see ``_sqlite.migrate``)."""
SCHEMA_VERSION = len(STEPS)

_INSERT = """
INSERT OR IGNORE INTO reports (idempotency_key, received_at, reported_at, occurred_at, bot,
    run_id, tool, status, target, event, proposal)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_COLUMNS = "seq, idempotency_key, received_at, reported_at, bot, run_id, event, proposal"


class OutcomeReport(BaseModel):
    """One outcome of a governed call, as a client reports it.

    Unknown keys of the envelope are ignored (a newer outbox may add delivery metadata); the
    event and the proposal are validated as the library's records.

    Attributes:
        idempotency_key: Identifies the report across retries (1 to 512 characters).
        event: What happened.
        proposal: The proposal the event is about, when the client sends it.
        bot: The bot's name.
        run_id: The run's id.
        reported_at: When the client queued the report (epoch seconds; default: received).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    idempotency_key: str = Field(min_length=1, max_length=512)
    event: ExecutionEvent
    proposal: ProposedAction | None = None
    bot: str | None = None
    run_id: str | None = None
    reported_at: float | None = None

    @property
    def target(self) -> str | None:
        """The proposal's target, when there is a proposal."""
        return self.proposal.target if self.proposal is not None else None


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion did.

    Attributes:
        accepted: The reports stored now, in request order.
        duplicates: How many reports were already stored (or repeated within the request).
    """

    accepted: tuple[OutcomeReport, ...]
    duplicates: int


class ReportStore:
    """Outcome reports in one SQLite file, each ``idempotency_key`` stored once.

    Args:
        path: The database file (created with its tables when missing).
        clock: Epoch seconds, for ``received_at``.
        busy_timeout_ms: How long a writer waits for another process's transaction.
        max_idle: How many idle connections the pool keeps open.

    Raises:
        StorePathError: The path cannot hold the file (its directory does not exist, a
            directory is in its place, no permission); nothing is created.
        sqlite3.DatabaseError: A ``StoreSchemaError``: the file is not a database, another
            application's, or of a newer schema version (a newer release wrote it); it is
            left untouched.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = 5000,
        max_idle: int = 8,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._max_idle = max_idle
        try:
            conn = self._open()
        except sqlite3.DatabaseError as exc:  # its PRAGMAs already read a corrupt file
            raise StoreSchemaError(database_problem(str(self.path), "report store", exc)) from exc
        try:
            # The header first, before anything is written (switching to WAL rewrites it): a
            # foreign, corrupt or newer file is refused untouched, an older one migrated.
            migrate(
                conn,
                application_id=_APPLICATION_ID,
                steps=STEPS,
                path=self.path,
                what="report store",
            )
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        conn = connect(self.path, "report store", isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection from the pool (a new one when none is idle)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            with self._lock:
                keep = len(self._idle) < self._max_idle
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def ingest(
        self, reports: Sequence[OutcomeReport], *, history: HistoryProvider | None = None
    ) -> IngestResult:
        """Store the reports not seen before, in one transaction (blocking; run in a thread).

        Args:
            reports: The reports of one request.
            history: When given, each newly stored outcome is recorded into it (action, status,
                target, time of the call), so ``history`` conditions see reported outcomes.

        Returns:
            The reports stored now and how many were duplicates.
        """
        now = self._clock()
        accepted: list[OutcomeReport] = []
        with self._connection() as conn, _immediate(conn):
            conn.execute("BEGIN IMMEDIATE")
            for report in reports:
                cursor = conn.execute(_INSERT, _row(report, now))
                if cursor.rowcount == 1:
                    accepted.append(report)
        if history is not None:
            for report in accepted:
                history.record(
                    report.event.tool,
                    report.event.status,
                    target=report.target,
                    at=_occurred_at(report, now),
                )
        return IngestResult(tuple(accepted), len(reports) - len(accepted))

    def fetch(
        self, *, after: int = 0, since: float | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Stored reports in arrival order (blocking; run in a thread).

        Args:
            after: Only reports with a sequence number above this (a cursor: pass the last
                ``seq`` you saw).
            since: Only reports received at or after this time (epoch seconds).
            limit: At most this many.

        Returns:
            ``{"seq", "idempotency_key", "received_at", "reported_at", "bot", "run_id",
            "event", "proposal"}`` per report, ``event`` and ``proposal`` as JSON data.
        """
        sql = f"SELECT {_COLUMNS} FROM reports WHERE seq > ?"
        params: list[Any] = [after]
        if since is not None:
            sql += " AND received_at >= ?"
            params.append(since)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            {
                "seq": seq,
                "idempotency_key": key,
                "received_at": received_at,
                "reported_at": reported_at,
                "bot": bot,
                "run_id": run_id,
                "event": json.loads(event),
                "proposal": json.loads(proposal) if proposal is not None else None,
            }
            for seq, key, received_at, reported_at, bot, run_id, event, proposal in rows
        ]

    def count(self) -> int:
        """How many reports are stored."""
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM reports").fetchone()
        return int(row[0])

    def replay(self, history: HistoryProvider, *, since: float) -> int:
        """Record the outcomes of calls made at or after ``since`` into a history provider.

        The server does this at start, so rate-limit rules keep counting across restarts.

        Returns:
            How many outcomes were recorded.
        """
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT tool, status, target, occurred_at FROM reports WHERE occurred_at >= ? "
                "ORDER BY occurred_at",
                (since,),
            ).fetchall()
        for tool, status, target, at in rows:
            history.record(tool, status, target=target, at=at)
        return len(rows)

    def close(self) -> None:
        """Close the idle connections (the store opens new ones if it is used again)."""
        with self._lock:
            connections, self._idle = self._idle, []
        for conn in connections:
            conn.close()


def _occurred_at(report: OutcomeReport, received_at: float) -> float:
    if report.event.started_at > 0:
        return report.event.started_at
    return report.reported_at if report.reported_at is not None else received_at


def _row(report: OutcomeReport, received_at: float) -> tuple[Any, ...]:
    return (
        report.idempotency_key,
        received_at,
        report.reported_at if report.reported_at is not None else received_at,
        _occurred_at(report, received_at),
        report.bot,
        report.run_id,
        report.event.tool,
        report.event.status,
        report.target,
        report.event.model_dump_json(),
        report.proposal.model_dump_json() if report.proposal is not None else None,
    )


class _immediate:
    """Commit a transaction begun with ``BEGIN IMMEDIATE`` on success, roll back on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._conn.in_transaction:
            return
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
