"""The SQLite memory schema, its identity in the file header, and the check made on open.

The file says what it is in its header: ``PRAGMA application_id`` marks it as a memory
database and ``PRAGMA user_version`` holds the schema version. Both are read before anything
is written, so a foreign database or one with an unknown version is refused untouched. A
version 1 file (the previous release) is upgraded to version 2 (ranked outcomes) in one
transaction when a store opens it; every process sharing the file must then run this version
(an older one refuses to open it, or fails its outcome writes).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ._sqlite_outcomes import MIGRATE_V1, OUTCOME_SCHEMA
from .errors import MemorySchemaError
from .records import CAPTURE_KINDS, Memory

__all__ = [
    "APPLICATION_ID",
    "CAPTURED",
    "CHUNK",
    "COLUMNS",
    "KEPT",
    "LIVE",
    "SCHEMA_VERSION",
    "ensure_schema",
    "marks",
    "row_memory",
]

APPLICATION_ID = 0x4F54424D  # "OTBM": openai-trigger-bot memory

_KINDS = ", ".join(f"'{kind}'" for kind in sorted(CAPTURE_KINDS))
CAPTURED = f"kind IN ({_KINDS})"
KEPT = f"kind NOT IN ({_KINDS})"
# One partial index per share of the recency leg: a query whose WHERE holds the same term
# walks it newest first with LIMIT (no sort), however many rows of the other share are newer.
# Added to files of this schema version when missing (older versions of the library ignore
# them; SQLite keeps them up to date).
_SHARE_INDEXES = {
    "memories_scope_captured": (
        f"CREATE INDEX IF NOT EXISTS memories_scope_captured ON memories (scope, created_at)"
        f" WHERE {CAPTURED}"
    ),
    "memories_scope_kept": (
        f"CREATE INDEX IF NOT EXISTS memories_scope_kept ON memories (scope, created_at)"
        f" WHERE {KEPT}"
    ),
}
SCHEMA_VERSION = 2  # 2: ranked outcomes (see _sqlite_outcomes); a version 1 file is upgraded

_SCHEMA = f"""
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE IF NOT EXISTS memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT,
    metadata TEXT,
    content_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    embedder TEXT,
    vector BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS memories_scope_hash ON memories (scope, content_hash);
CREATE INDEX IF NOT EXISTS memories_scope_created ON memories (scope, created_at);
CREATE INDEX IF NOT EXISTS memories_expiry ON memories (expires_at)
    WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS scopes (
    scope TEXT PRIMARY KEY,
    reset INTEGER NOT NULL DEFAULT 0,
    cursor INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""
_SCHEMA += OUTCOME_SCHEMA


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return int(app_id), int(version), int(tables)


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Check that ``conn``'s file is a memory database of our version; create it when empty.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``).
        path: The file, for messages.

    A version 1 file (the previous release) is upgraded in place, in one transaction: its
    outcomes are ranked for O(log n) window counts (see :mod:`._sqlite_outcomes`).

    Raises:
        MemorySchemaError: Not a SQLite file, another application's database, a schema
            version this library cannot use, or a version 1 file that could not be upgraded
            now. The file is not modified.
    """
    try:
        app_id, version, tables = _header(conn)
        if (app_id, version) == (APPLICATION_ID, 1):
            try:
                _upgrade_v1(conn)
            except sqlite3.OperationalError as exc:
                raise MemorySchemaError(
                    f"{path}: could not upgrade the memory schema from version 1 to "
                    f"{SCHEMA_VERSION} ({exc}); the upgrade is one transaction, so the file "
                    "is unchanged. Retry when no other process holds a long write on it."
                ) from exc
            version = SCHEMA_VERSION
        if (app_id, version) == (APPLICATION_ID, SCHEMA_VERSION):
            _ensure_share_indexes(conn)
            return
        if (app_id, version, tables) == (0, 0, 0):
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id, version, tables = _header(conn)  # another process may have won
                if (app_id, version, tables) == (0, 0, 0):
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    for statement in _SHARE_INDEXES.values():
                        conn.execute(statement)
                    app_id, version = APPLICATION_ID, SCHEMA_VERSION
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise MemorySchemaError(
            f"{path}: cannot be opened as a SQLite memory database ({exc}); it was left "
            "untouched. Point SQLiteMemoryStore at another path."
        ) from exc
    if app_id != APPLICATION_ID:
        raise MemorySchemaError(
            f"{path}: is a SQLite database of another application (application_id "
            f"{app_id:#x}, {tables} schema objects), not an openai-trigger-bot memory "
            "database; it was left untouched. Point SQLiteMemoryStore at another path."
        )
    if version != SCHEMA_VERSION:
        newer = version > SCHEMA_VERSION
        raise MemorySchemaError(
            f"{path}: memory schema version {version}, this library uses version "
            f"{SCHEMA_VERSION}; the file was left untouched. "
            + (
                "It was written by a newer openai-trigger-bot: upgrade to read it."
                if newer
                else "No migration from that version exists: move the file away to start anew."
            )
        )


def _upgrade_v1(conn: sqlite3.Connection) -> None:
    """Rank the outcomes of a version 1 file, in one transaction (another process may win)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] == 1:
            for statement in MIGRATE_V1.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _ensure_share_indexes(conn: sqlite3.Connection) -> None:
    """Add the recency shares' partial indexes to a file made before they existed."""
    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (?, ?)",
        tuple(_SHARE_INDEXES),
    ).fetchall()
    if len(found) == len(_SHARE_INDEXES):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SHARE_INDEXES.values():
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


COLUMNS = "id, scope, text, kind, created_at, source, metadata, expires_at, content_hash"
LIVE = "(expires_at IS NULL OR expires_at > ?)"
CHUNK = 500  # ids per IN (...) list


def row_memory(row: tuple[Any, ...]) -> Memory:
    meta = row[6]
    return Memory(
        id=row[0],
        scope=row[1],
        text=row[2],
        kind=row[3],
        created_at=row[4],
        source=row[5],
        metadata=json.loads(meta) if meta else {},
        expires_at=row[7],
        content_hash=row[8],
    )


def marks(n: int) -> str:
    return ",".join("?" * n)
