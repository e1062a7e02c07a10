"""The durable run store: one SQLite file (stdlib ``sqlite3``), shared by threads and processes.

- **Atomicity across processes.** Every change is one ``BEGIN IMMEDIATE`` transaction: it
  takes the file's write lock before reading what it will change, so a compare-and-swap
  (``save``, ``decide``, ``claim``) and ``ledger_start``'s insert-if-absent are atomic against
  other processes, not just other threads. Writers queue on ``busy_timeout``; a lock held
  longer becomes :class:`~openai_trigger_bot.runs.RunStoreError` ("busy; retry").
- **Connection.** One connection per process (``check_same_thread=False``) guarded by a lock,
  so worker threads share it; after ``fork`` the child opens its own. WAL lets readers in
  other processes read beside a writer. ``synchronous=FULL``: a committed approval or ledger
  entry survives a power loss (they are few and small).
- **Schema.** See :mod:`._schema`: a new file is created, an older one migrated forward, a
  newer one, a foreign one or a corrupt one refused untouched.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .._json import dumps
from .._lifecycle import Closing
from .._sqlite import connect
from ._rows import (
    APPROVAL,
    LEDGER,
    RUN,
    approval,
    filters,
    ledger,
    one,
    row_approval,
    row_ledger,
    row_run,
    run_values,
    upsert_approvals,
)
from ._rules import apply_vote, check_cancel, check_claim, check_save
from ._schema import database_error, ensure_schema
from .errors import (
    LedgerEntryNotFound,
    RunConflict,
    RunNotFound,
    RunStoreError,
    RunStorePathError,
)
from .records import ACTIVE_RUN_STATUSES, ApprovalRow, ApprovalVote, LedgerEntry, RunRecord

__all__ = ["SQLiteRunStore"]

_ACTIVE = tuple(sorted(ACTIVE_RUN_STATUSES))


class SQLiteRunStore(Closing):
    """A :class:`~openai_trigger_bot.runs.RunStore` in one SQLite file.

    Args:
        path: The file (created with the schema when missing or empty).
        busy_timeout: Seconds a change waits for another process's write lock.

    Raises:
        RunStorePathError: The path cannot hold the file; nothing was created.
        RunStoreError: The file is corrupt, another application's, or of a newer schema (it
            is left untouched).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = os.fspath(path)
        self._timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._closed = False
        with self._lock:
            self._connection()

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (call with the lock held)."""
        if self._closed:
            raise RunStoreError(f"run store {self.path} is closed; open a new one")
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        conn = connect(
            self.path,
            "run store",
            error=RunStorePathError,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            ensure_schema(conn, self.path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise database_error(self.path, exc) from exc
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.DatabaseError as exc:
                raise database_error(self.path, exc) from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed when the block ends normally.

        An exception rolls it back (errors to raise *after* a change is stored, such as
        :class:`~openai_trigger_bot.runs.ApprovalExpired`, are raised outside the block).
        """
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise database_error(self.path, exc) from exc

    # -- runs -------------------------------------------------------------------------------

    def create(self, record: RunRecord, approvals: Sequence[ApprovalRow]) -> None:
        """See :meth:`RunStore.create`."""
        for row in approvals:
            if row.run_id != record.run_id:
                raise ValueError(
                    f"approval {row.id} belongs to run {row.run_id}, not {record.run_id}"
                )
        with self._write() as conn:
            if one(conn, "SELECT 1 FROM runs WHERE run_id = ?", record.run_id):
                raise RunConflict(record.run_id, f"run {record.run_id} already exists")
            conn.execute(
                f"INSERT INTO runs ({RUN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run_values(record.model_copy(update={"version": 1})),
            )
            upsert_approvals(conn, approvals)

    def _load(self, conn: sqlite3.Connection, run_id: str) -> RunRecord:
        row = one(conn, f"SELECT {RUN} FROM runs WHERE run_id = ?", run_id)
        if row is None:
            raise RunNotFound(run_id)
        return row_run(row)

    def _bump(self, conn: sqlite3.Connection, record: RunRecord, now: float, **set_: Any) -> None:
        """Bump the run's version (and set the ``set_`` columns) within a transaction."""
        assignments = "".join(f", {column} = ?" for column in set_)
        conn.execute(
            f"UPDATE runs SET version = version + 1, updated_at = ?{assignments} WHERE run_id = ?",
            (now, *set_.values(), record.run_id),
        )

    def load(self, run_id: str) -> RunRecord:
        """See :meth:`RunStore.load`."""
        with self._read() as conn:
            return self._load(conn, run_id)

    def save(
        self,
        run_id: str,
        *,
        expected_version: int,
        status: str,
        state: dict[str, Any],
        approvals: Sequence[ApprovalRow] = (),
        now: float,
    ) -> RunRecord:
        """See :meth:`RunStore.save`."""
        text = dumps(state)
        with self._write() as conn:
            record = self._load(conn, run_id)
            check_save(record, expected_version, approvals)
            self._bump(conn, record, now, status=status, state=text)
            upsert_approvals(conn, approvals)
            return self._load(conn, run_id)

    def claim(self, run_id: str, *, owner: str, lease_s: float, now: float) -> RunRecord:
        """See :meth:`RunStore.claim`."""
        with self._write() as conn:
            record = self._load(conn, run_id)
            check_claim(record, owner, now)
            self._bump(conn, record, now, lease_owner=owner, lease_until=now + lease_s)
            return self._load(conn, run_id)

    def release(self, run_id: str, owner: str) -> None:
        """See :meth:`RunStore.release`."""
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET lease_owner = NULL, lease_until = NULL "
                "WHERE run_id = ? AND lease_owner = ?",
                (run_id, owner),
            )

    def list_runs(
        self, *, status: str | None = None, bot: str | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """See :meth:`RunStore.list_runs`."""
        where, params = filters(status=status, bot=bot)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {RUN} FROM runs{where} ORDER BY created_at DESC, run_id DESC LIMIT ?",
                (*params, max(limit, 0)),
            ).fetchall()
        return [row_run(row) for row in rows]

    def cancel(self, run_id: str, *, now: float) -> RunRecord:
        """See :meth:`RunStore.cancel`."""
        with self._write() as conn:
            record = self._load(conn, run_id)
            check_cancel(record)
            conn.execute(
                "UPDATE approvals SET status = 'cancelled', decided_at = ? "
                "WHERE run_id = ? AND status = 'pending'",
                (now, run_id),
            )
            self._bump(conn, record, now, status="cancelled")
            return self._load(conn, run_id)

    def purge(self, *, older_than: float) -> int:
        """See :meth:`RunStore.purge`."""
        with self._write() as conn:
            gone = "SELECT run_id FROM runs WHERE status NOT IN (?, ?) AND updated_at < ?"
            params = (*_ACTIVE, older_than)
            conn.execute(f"DELETE FROM approvals WHERE run_id IN ({gone})", params)
            conn.execute(f"DELETE FROM ledger WHERE run_id IN ({gone})", params)
            return conn.execute(
                "DELETE FROM runs WHERE status NOT IN (?, ?) AND updated_at < ?", params
            ).rowcount

    # -- approvals --------------------------------------------------------------------------

    def get_approval(self, approval_id: str) -> ApprovalRow:
        """See :meth:`RunStore.get_approval`."""
        with self._read() as conn:
            return approval(conn, approval_id)

    def list_approvals(
        self,
        *,
        status: str | None = "pending",
        bot: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRow]:
        """See :meth:`RunStore.list_approvals`."""
        where, params = filters(status=status, bot=bot, run_id=run_id)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {APPROVAL} FROM approvals{where} ORDER BY created_at DESC, id DESC "
                "LIMIT ?",
                (*params, max(limit, 0)),
            ).fetchall()
        return [row_approval(row) for row in rows]

    def count_pending(self, bot: str, now: float) -> int:
        """See :meth:`RunStore.count_pending`."""
        with self._read() as conn:
            row = one(
                conn,
                "SELECT count(*) FROM approvals WHERE status = 'pending' AND bot = ? "
                "AND expires_at >= ?",
                bot,
                now,
            )
        return int(row[0]) if row else 0

    def decide(self, approval_id: str, vote: ApprovalVote, *, now: float) -> ApprovalRow:
        """See :meth:`RunStore.decide`."""
        with self._write() as conn:
            row, error = apply_vote(approval(conn, approval_id), vote, now)
            upsert_approvals(conn, [row])
            conn.execute(
                "UPDATE runs SET version = version + 1, updated_at = ? WHERE run_id = ?",
                (now, row.run_id),
            )
        if error is not None:
            raise error
        return row

    # -- ledger -----------------------------------------------------------------------------

    def ledger_start(
        self, key: str, *, run_id: str, call_id: str, action: str, now: float
    ) -> LedgerEntry | None:
        """See :meth:`RunStore.ledger_start`."""
        with self._write() as conn:
            inserted = conn.execute(
                f"INSERT OR IGNORE INTO ledger ({LEDGER}) VALUES (?, ?, ?, ?, 'started', ?, "
                "NULL, NULL)",
                (key, run_id, call_id, action, now),
            ).rowcount
            if inserted:
                return None
            return ledger(conn, key)

    def ledger_finish(self, key: str, result: dict[str, Any], *, now: float) -> LedgerEntry:
        """See :meth:`RunStore.ledger_finish`."""
        text = dumps(result)
        with self._write() as conn:
            entry = ledger(conn, key)
            if entry is None:
                raise LedgerEntryNotFound(key)
            if entry.status == "finished":
                raise RunConflict(entry.run_id, f"ledger entry {key!r} is already finished")
            conn.execute(
                "UPDATE ledger SET status = 'finished', finished_at = ?, result = ? WHERE key = ?",
                (now, text, key),
            )
            finished = ledger(conn, key)
        assert finished is not None
        return finished

    def ledger_get(self, key: str) -> LedgerEntry | None:
        """See :meth:`RunStore.ledger_get`."""
        with self._read() as conn:
            return ledger(conn, key)

    def ledger_for_run(self, run_id: str) -> list[LedgerEntry]:
        """See :meth:`RunStore.ledger_for_run`."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {LEDGER} FROM ledger WHERE run_id = ? ORDER BY started_at, key",
                (run_id,),
            ).fetchall()
        return [row_ledger(row) for row in rows]

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close this process's connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
