"""The default persistent memory store: one SQLite file (stdlib ``sqlite3``, no extension).

- **Concurrency.** WAL mode lets readers run beside one writer, across threads and processes
  (not on network file systems). Every write is one ``BEGIN IMMEDIATE`` transaction, which
  takes the write lock up front so concurrent writers queue on ``busy_timeout`` instead of
  failing with "database is locked". ``synchronous=NORMAL``: a commit survives a crash of the
  process; a power loss may lose the last commits (pass ``synchronous="FULL"`` to pay for
  that).
- **Connections.** sqlite3 objects are bound to the thread that made them unless opened with
  ``check_same_thread=False``. This store opens two connections that way, one for writes and
  one for reads, each guarded by its own lock: threads of one process (the manager's async
  methods run store calls in worker threads) share them safely, reads never wait for a write
  of this process, and ``close()`` can close both from any thread. After ``fork`` the child
  opens its own connections (SQLite connections must not cross a fork).
- **Layout.** ``memories`` (vector as a float32 blob, plus the name of the embedder that made
  it), indexed by ``(scope, content_hash)`` (unique: exact dedup), ``(scope, created_at)``
  (recency; plus one partial index per share, automatic captures and kept memories, so each
  share is one ordered walk) and ``expires_at``; ``scopes`` holds each scope's version,
  bumped in the same transaction as every write; ``outcomes`` carries each row's rank within
  its ``(action, status)`` and ``(action, status, target)`` in time order, so a history count
  is two index seeks per status, whatever the window holds (see :mod:`._sqlite_outcomes`).
  The schema version lives in the file header (see :mod:`._sqlite_schema`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._sqlite import connect
from ._sqlite_outcomes import count_outcomes, insert_outcomes, prune_outcomes
from ._sqlite_schema import (
    CAPTURED,
    CHUNK,
    COLUMNS,
    KEPT,
    LIVE,
    ensure_schema,
    marks,
    row_memory,
)
from .errors import MemoryPathError, MemoryStoreError
from .records import FloatMatrix, Memory, NewMemory, OutcomeRecord, ScopeVersion, VectorBatch

__all__ = ["SQLiteMemoryStore"]

_F32 = np.dtype("<f4")


class SQLiteMemoryStore:
    """A :class:`~openai_trigger_bot.memory.MemoryStore` in one SQLite file.

    Args:
        path: The database file (created with the schema when missing or empty), or
            ``":memory:"`` for a private in-memory database (one connection, this process).
        busy_timeout: Seconds a write waits for another writer before failing.
        synchronous: ``"NORMAL"`` (default with WAL) or ``"FULL"``.

    Raises:
        MemoryPathError: The path cannot hold the file (its directory does not exist, a
            directory is in its place, no permission); the message names the path and what
            to do, and nothing is created.
        MemorySchemaError: The file is not a memory database or has another schema version
            (it is left untouched).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        synchronous: str = "NORMAL",
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = os.fspath(path)
        self._timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock() if self.path != ":memory:" else self._write_lock
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._pid = 0
        self._closed = False
        with self._write_lock:
            self._connect()

    # -- connections ------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = connect(
            self.path,
            "memory store",
            error=MemoryPathError,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        return conn

    def _connect(self) -> None:
        if self._closed:
            raise MemoryStoreError(f"{self.path}: the memory store is closed")
        writer = self._open()
        try:
            ensure_schema(writer, self.path)
            if self.path != ":memory:":
                writer.execute("PRAGMA journal_mode = WAL")
            writer.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            writer.close()
            raise
        reader = writer
        if self.path != ":memory:":
            reader = self._open()
            reader.execute("PRAGMA query_only = 1")
        self._writer, self._reader, self._pid = writer, reader, os.getpid()

    def _conn(self, reader: bool) -> sqlite3.Connection:
        """A connection of this process (call with the matching lock held)."""
        conn = self._reader if reader else self._writer
        if conn is None or self._pid != os.getpid():
            self._connect()  # first use, or forked: never use the parent's connections
            conn = self._reader if reader else self._writer
        assert conn is not None
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed on success."""
        with self._write_lock:
            conn = self._conn(False)
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise MemoryStoreError(f"{self.path}: cannot start a write: {exc}") from exc
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            conn = self._conn(True)
            if not snapshot:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    # -- writes -----------------------------------------------------------------------------

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.add`."""
        out: list[Memory] = []
        cursors: dict[str, int] = {}
        resets: dict[str, int] = {}
        insert = (
            "INSERT OR IGNORE INTO memories (scope, kind, text, source, metadata, content_hash,"
            " created_at, expires_at, embedder, vector) VALUES (?,?,?,?,?,?,?,?,?,?)"
        )
        with self._write() as conn:
            for item in items:
                vector = embedder = None
                if item.vector is not None and item.embedder is not None:
                    vector = np.ascontiguousarray(item.vector, _F32).tobytes()
                    embedder = item.embedder
                row = (
                    item.scope,
                    item.kind,
                    item.text,
                    item.source,
                    json.dumps(item.metadata, ensure_ascii=False) if item.metadata else None,
                    item.content_hash,
                    item.created_at,
                    item.expires_at,
                    embedder,
                    vector,
                )
                cur = conn.execute(insert, row)
                if cur.rowcount == 0:
                    found = conn.execute(
                        f"SELECT {COLUMNS} FROM memories WHERE scope = ? AND content_hash = ?",
                        (item.scope, item.content_hash),
                    ).fetchone()
                    if found is None:  # ignored for another reason than a duplicate
                        raise MemoryStoreError(f"{self.path}: could not store {item!r}")
                    existing = row_memory(found)
                    if not existing.expired(now):
                        out.append(existing)
                        continue
                    conn.execute("DELETE FROM memories WHERE id = ?", (existing.id,))
                    resets[item.scope] = 1
                    cur = conn.execute(insert, row)
                memory_id = int(cur.lastrowid or 0)
                cursors[item.scope] = memory_id
                out.append(item.stored(memory_id))
            conn.executemany(
                "INSERT INTO scopes (scope, reset, cursor) VALUES (?, ?, ?) ON CONFLICT (scope)"
                " DO UPDATE SET reset = reset + excluded.reset, cursor = excluded.cursor",
                [(scope, resets.get(scope, 0), cursor) for scope, cursor in cursors.items()],
            )
        return out

    def _bump_resets(self, conn: sqlite3.Connection, scopes: set[str]) -> None:
        conn.executemany(
            "INSERT INTO scopes (scope, reset, cursor) VALUES (?, 1, 0) ON CONFLICT (scope)"
            " DO UPDATE SET reset = reset + 1",
            [(scope,) for scope in scopes],
        )

    def _scopes_of(self, conn: sqlite3.Connection, ids: Sequence[int]) -> set[str]:
        scopes: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            chunk = [int(x) for x in ids[i : i + CHUNK]]
            rows = conn.execute(
                f"SELECT DISTINCT scope FROM memories WHERE id IN ({marks(len(chunk))})", chunk
            )
            scopes.update(r[0] for r in rows)
        return scopes

    def set_vectors(self, ids: Sequence[int], embedder: str, vectors: FloatMatrix) -> None:
        """See :meth:`MemoryStore.set_vectors`."""
        rows = [
            (embedder, np.ascontiguousarray(v, _F32).tobytes(), int(i))
            for i, v in zip(ids, vectors, strict=True)
        ]
        with self._write() as conn:
            conn.executemany("UPDATE memories SET embedder = ?, vector = ? WHERE id = ?", rows)
            self._bump_resets(conn, self._scopes_of(conn, [r[2] for r in rows]))

    def delete(self, ids: Sequence[int]) -> int:
        """See :meth:`MemoryStore.delete`."""
        deleted = 0
        with self._write() as conn:
            self._bump_resets(conn, self._scopes_of(conn, ids))
            for i in range(0, len(ids), CHUNK):
                chunk = [int(x) for x in ids[i : i + CHUNK]]
                sql = f"DELETE FROM memories WHERE id IN ({marks(len(chunk))})"
                cur = conn.execute(sql, chunk)
                deleted += cur.rowcount
        return deleted

    def clear(self, scope: str) -> int:
        """See :meth:`MemoryStore.clear`."""
        with self._write() as conn:
            self._bump_resets(conn, {scope})
            return conn.execute("DELETE FROM memories WHERE scope = ?", (scope,)).rowcount

    def purge_expired(self, *, now: float) -> int:
        """See :meth:`MemoryStore.purge_expired`."""
        where = "expires_at IS NOT NULL AND expires_at <= ?"
        with self._write() as conn:
            found = conn.execute(f"SELECT DISTINCT scope FROM memories WHERE {where}", (now,))
            scopes = {r[0] for r in found}
            if not scopes:
                return 0
            self._bump_resets(conn, scopes)
            return conn.execute(f"DELETE FROM memories WHERE {where}", (now,)).rowcount

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        """See :meth:`MemoryStore.record_outcomes`."""
        with self._write() as conn:
            insert_outcomes(conn, outcomes)

    def prune_outcomes(self, *, before: float) -> int:
        """See :meth:`MemoryStore.prune_outcomes`."""
        with self._write() as conn:
            return prune_outcomes(conn, before=before)

    # -- reads ------------------------------------------------------------------------------

    @staticmethod
    def _recent_sql(
        scopes: Sequence[str], limit: int, *, now: float, captured: bool | None
    ) -> tuple[str, list[Any]]:
        # One index walk per scope (newest first, LIMIT each): never a sort of whole scopes.
        # A share's term is spelled exactly as its partial index's WHERE, so SQLite walks it.
        share = "" if captured is None else f"{CAPTURED if captured else KEPT} AND "
        leg = (
            f"SELECT * FROM (SELECT {COLUMNS} FROM memories WHERE scope = ? AND {share}{LIVE}"
            " ORDER BY created_at DESC, id DESC LIMIT ?)"
        )
        params: list[Any] = []
        for scope in scopes:
            params += (scope, now, limit)
        return " UNION ALL ".join([leg] * len(scopes)), params

    def recent(
        self, scopes: Sequence[str], limit: int, *, now: float, captured: bool | None = None
    ) -> list[Memory]:
        """See :meth:`MemoryStore.recent`."""
        unique = list(dict.fromkeys(scopes))
        if limit <= 0 or not unique:
            return []
        sql, params = self._recent_sql(unique, limit, now=now, captured=captured)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        rows.sort(key=lambda r: (r[4], r[0]), reverse=True)
        return [row_memory(r) for r in rows[:limit]]

    def get(self, ids: Sequence[int], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.get`."""
        found: dict[int, Memory] = {}
        with self._read() as conn:
            for i in range(0, len(ids), CHUNK):
                chunk = [int(x) for x in ids[i : i + CHUNK]]
                params = marks(len(chunk))
                sql = f"SELECT {COLUMNS} FROM memories WHERE id IN ({params}) AND {LIVE}"
                for row in conn.execute(sql, [*chunk, now]):
                    found[row[0]] = row_memory(row)
        return [found[int(i)] for i in ids if int(i) in found]

    def versions(self, scopes: Sequence[str]) -> dict[str, ScopeVersion]:
        """See :meth:`MemoryStore.versions` (one primary-key lookup per scope)."""
        unique = list(dict.fromkeys(scopes))
        out = dict.fromkeys(unique, ScopeVersion())
        if not unique:
            return out
        sql = f"SELECT scope, reset, cursor FROM scopes WHERE scope IN ({marks(len(unique))})"
        with self._read() as conn:
            for scope, reset, cursor in conn.execute(sql, unique):
                out[scope] = ScopeVersion(reset, cursor)
        return out

    def load_vectors(self, scope: str, embedder: str, *, after: int = 0) -> VectorBatch:
        """See :meth:`MemoryStore.load_vectors` (the cursor is the row id)."""
        if after <= 0:
            # No ORDER BY: sorting 1.5 kB rows in a temporary B-tree costs more than the read.
            sql = "SELECT id, expires_at, vector FROM memories WHERE scope = ? AND embedder = ?"
            params: tuple[Any, ...] = (scope, embedder)
        else:  # only rows written since: walk the rowid range, not the whole scope
            sql = (
                "SELECT id, expires_at, vector FROM memories"
                " WHERE id > ? AND +scope = ? AND embedder = ?"
            )
            params = (after, scope, embedder)
        with self._read(snapshot=True) as conn:
            found = conn.execute(
                "SELECT reset, cursor FROM scopes WHERE scope = ?", (scope,)
            ).fetchone()
            rows = conn.execute(sql, params).fetchall()
        version = ScopeVersion(*found) if found else ScopeVersion()
        return VectorBatch.build(rows, version)

    def missing_vectors(self, embedder: str, *, limit: int, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.missing_vectors`."""
        sql = (
            f"SELECT {COLUMNS} FROM memories WHERE (embedder IS NULL OR embedder != ?"
            f" OR vector IS NULL) AND {LIVE} ORDER BY id LIMIT ?"
        )
        with self._read() as conn:
            return [row_memory(r) for r in conn.execute(sql, (embedder, now, limit))]

    def count(self, scopes: Sequence[str] | None = None, *, now: float | None = None) -> int:
        """See :meth:`MemoryStore.count`."""
        where: list[str] = []
        params: list[Any] = []
        if scopes is not None:
            unique = list(dict.fromkeys(scopes))
            where.append(f"scope IN ({marks(len(unique))})")
            params += unique
        if now is not None:
            where.append(LIVE)
            params.append(now)
        sql = "SELECT count(*) FROM memories" + (" WHERE " + " AND ".join(where) if where else "")
        with self._read() as conn:
            return int(conn.execute(sql, params).fetchone()[0])

    def count_outcomes(
        self, action: str, *, since: float, target: str | None = None
    ) -> dict[str, int]:
        """See :meth:`MemoryStore.count_outcomes` (index seeks only: :mod:`._sqlite_outcomes`)."""
        with self._read() as conn:
            return count_outcomes(conn, action, since=since, target=target)

    def close(self) -> None:
        """Close both connections (idempotent; any thread)."""
        with self._write_lock, contextlib.ExitStack() as stack:
            if self._read_lock is not self._write_lock:
                stack.enter_context(self._read_lock)
            self._closed = True
            for conn in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
                if self._pid == os.getpid():
                    conn.close()
            self._writer = self._reader = None

    def __enter__(self) -> SQLiteMemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
