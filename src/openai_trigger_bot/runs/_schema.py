"""The run store's SQLite schema, its identity in the file header, and forward migrations.

The header says what the file is: ``PRAGMA application_id`` marks a run store and ``PRAGMA
user_version`` holds its schema version. An empty file is version 0. :data:`STEPS` lists the
migrations, version N to N+1, each applied in one ``BEGIN IMMEDIATE`` transaction that
re-reads the version first (another process may have applied it): a file written by any
release opens in every later one. A file of a newer version than :data:`SCHEMA_VERSION` is
refused and never written to; so are another application's database and a corrupt file.
"""

from __future__ import annotations

import sqlite3

from .errors import RunStoreError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "STEPS", "database_error", "ensure_schema"]

APPLICATION_ID = 0x5442524E  # "TBRN": marks a file as an openai-trigger-bot run store

_V1 = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        bot TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        state TEXT NOT NULL,
        lease_owner TEXT,
        lease_until REAL
    ) WITHOUT ROWID""",
    "CREATE INDEX runs_created ON runs (created_at)",
    "CREATE INDEX runs_status_updated ON runs (status, updated_at)",
    """CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        bot TEXT NOT NULL,
        call_id TEXT NOT NULL,
        action TEXT NOT NULL,
        arguments TEXT NOT NULL,
        status TEXT NOT NULL,
        approvals_required INTEGER NOT NULL,
        votes TEXT NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        decided_at REAL,
        data TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX approvals_run ON approvals (run_id)",
    "CREATE INDEX approvals_status_bot ON approvals (status, bot, expires_at)",
    "CREATE INDEX approvals_created ON approvals (created_at)",
    """CREATE TABLE ledger (
        key TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        result TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX ledger_run ON ledger (run_id, started_at)",
)

STEPS: tuple[tuple[str, ...], ...] = (_V1,)
"""``STEPS[n]`` migrates a version ``n`` file to version ``n + 1`` (step 0 creates it).

Append a step for every schema change; never edit a released one."""

SCHEMA_VERSION = len(STEPS)


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return int(app_id), int(version), int(objects)


def _refusal(path: str, app_id: int, version: int, objects: int) -> str | None:
    """Why the file must be left alone, or ``None`` when it is ours (or empty) and usable."""
    if (app_id, version, objects) == (0, 0, 0):
        return None
    if app_id != APPLICATION_ID:
        return (
            f"run store {path} is a SQLite database of another application (application_id "
            f"{app_id:#x}, {objects} schema objects), left untouched; pass another path"
        )
    if version > SCHEMA_VERSION:
        return (
            f"run store {path} has schema version {version}, newer than this release's "
            f"{SCHEMA_VERSION} (a newer openai-trigger-bot wrote it), left untouched; "
            "upgrade openai-trigger-bot to use it"
        )
    return None


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create or migrate ``conn``'s file to :data:`SCHEMA_VERSION`, or refuse it untouched.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``).
        path: The file, for messages.

    Raises:
        RunStoreError: Not a SQLite file, another application's database, or a newer schema
            (the file is not modified); or a migration failed (rolled back: unchanged).
    """
    try:
        header = _header(conn)
        refusal = _refusal(path, *header)
        if refusal:
            raise RunStoreError(refusal)
        while header[:2] != (APPLICATION_ID, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id, version, objects = _header(conn)  # another process may have moved it
                refusal = _refusal(path, app_id, version, objects)
                if refusal:
                    raise RunStoreError(refusal)
                if version < SCHEMA_VERSION:
                    for statement in STEPS[version]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                    app_id, version = APPLICATION_ID, version + 1
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            header = (app_id, version, objects)
    except sqlite3.DatabaseError as exc:
        raise database_error(path, exc) from exc


def database_error(path: str, exc: sqlite3.DatabaseError) -> RunStoreError:
    """SQLite's error on the run store ``path`` as a :class:`RunStoreError` saying what to do."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return RunStoreError(
            f"run store {path} is busy: another process held its write lock longer than the "
            "busy timeout; retry in a moment"
        )
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in text:
        return RunStoreError(
            f"run store {path} is read-only for this process; it needs write access"
        )
    return RunStoreError(
        f"run store {path} cannot be used as a SQLite run store ({text}), left untouched; "
        "move it away or pass another path"
    )
