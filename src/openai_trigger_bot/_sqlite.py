"""Small SQLite helpers shared by the files this library owns (outbox, report store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["refuse_foreign"]


def refuse_foreign(conn: sqlite3.Connection, application_id: int, path: Path, what: str) -> None:
    """Refuse a database that is not ours, before anything is written to it.

    A file is ours when its ``PRAGMA application_id`` is ``application_id``; an empty database
    (id 0, no schema objects) is new and may be claimed.

    Raises:
        sqlite3.DatabaseError: Another application's database (it is left untouched).
    """
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    if app != application_id and (app != 0 or tables):
        raise sqlite3.DatabaseError(
            f"{path} is not {what} (application id {app}, tables {sorted(tables)}); "
            "refusing to change it"
        )
