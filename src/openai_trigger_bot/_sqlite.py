"""Small helpers shared by the files this library keeps (memory, outbox, report store).

- :func:`connect` opens a SQLite file after :func:`check_path` has made sure the path can hold
  it, so a bad path fails with a message that names the path and says what to do instead of
  SQLite's bare "unable to open database file".
- :func:`check_path` is the same check for stores that are not SQLite (the JSON memory file).
- :func:`migrate` checks a SQLite file's header (``application_id``, ``user_version``) before
  anything is written, refuses another application's database, a newer schema and a corrupt
  file untouched, and migrates an older schema forward one version per transaction.

Nothing here creates a directory or a file: a path that cannot be used is reported, never
"repaired".
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .exceptions import StorePathError, TriggerBotError

__all__ = [
    "StoreSchemaError",
    "check_path",
    "connect",
    "database_problem",
    "migrate",
    "path_problem",
]

_IN_MEMORY = ("", ":memory:")  # SQLite's private temporary and in-memory databases


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _read_only(directory: str) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot hold a store file this process may read and write, or ``None``.

    Only looks (``stat``, ``access``, ``statvfs``); creates nothing. The answer is a clause
    that says what is wrong and what to do, for a message such as
    ``"cannot open memory store /x/y.db: " + problem``. ``None`` does not promise that opening
    will work (the kernel may still refuse, as it does for files under ``/sys`` even to root).
    """
    name = os.fspath(path)
    if name in _IN_MEMORY:
        return None
    absolute = os.path.abspath(name)
    directory = os.path.dirname(absolute)
    try:
        mode = os.stat(absolute).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None
    except PermissionError:
        return (
            f"permission denied: this user cannot look into directory {_unsearchable(directory)}"
            "; change its permissions or choose another path"
        )
    if mode is not None:
        if stat.S_ISDIR(mode):
            return "it is a directory, not a file; name a file (inside it, or elsewhere)"
        if not stat.S_ISREG(mode):
            return f"it is {_kind(mode)}; choose the path of a regular file"
        if _read_only(directory):
            return f"the file system of {directory} is read-only; choose a writable path"
        if not os.access(absolute, os.R_OK | os.W_OK):
            return (
                "permission denied: this user cannot read and write it; change its "
                "permissions or choose another path"
            )
        return None
    if os.path.islink(absolute):  # a dangling symbolic link: its target is created on open
        return _missing_target(absolute, directory)
    return _parent_problem(directory)


def _unsearchable(directory: str) -> str:
    """The outermost ancestor of ``directory`` (itself included) this user cannot search."""
    parts = Path(directory).parts
    for i in range(1, len(parts) + 1):
        candidate = os.path.join(*parts[:i])
        if not os.access(candidate, os.X_OK):
            return candidate
    return directory


def _missing_target(link: str, directory: str) -> str | None:
    target = os.path.join(directory, os.readlink(link))
    problem = _parent_problem(os.path.dirname(os.path.abspath(target)))
    return f"it is a symbolic link to {target}, and {problem}" if problem else None


def _parent_problem(directory: str) -> str | None:
    if not os.path.isdir(directory):
        if os.path.lexists(directory):
            return f"{directory} is not a directory; choose another path"
        return f"directory {directory} does not exist; create it or choose another path"
    if _read_only(directory):
        return f"the file system of {directory} is read-only; choose a writable path"
    if not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"permission denied: this user cannot create files in directory {directory}; "
            "change its permissions or choose another path"
        )
    return None


def check_path(
    path: str | os.PathLike[str], what: str, *, error: type[StorePathError] = StorePathError
) -> None:
    """Raise ``error`` when ``path`` cannot hold ``what`` (see :func:`path_problem`).

    Args:
        path: The file the store keeps its data in.
        what: What the file is, for the message (``"memory store"``, ``"outbox"``...).
        error: The exception class to raise (a :class:`StorePathError`).

    Raises:
        StorePathError: ``cannot open <what> <path>: <what is wrong>; <what to do>``.
    """
    problem = path_problem(path)
    if problem is not None:
        raise error(f"cannot open {what} {os.fspath(path)}: {problem}")


def connect(
    path: str | os.PathLike[str],
    what: str,
    *,
    error: type[StorePathError] = StorePathError,
    **kwargs: Any,
) -> sqlite3.Connection:
    """``sqlite3.connect(path, **kwargs)`` with a clear error when the path is unusable.

    The path is checked first (nothing is created when it fails); if SQLite still cannot open
    the file, its error becomes ``error`` too, naming the path.

    Raises:
        StorePathError: The path cannot hold the file; the message names it and what to do.
    """
    check_path(path, what, error=error)
    try:
        conn: sqlite3.Connection = sqlite3.connect(path, **kwargs)
    except sqlite3.OperationalError as exc:
        directory = os.path.dirname(os.path.abspath(os.fspath(path)))
        raise error(
            f"cannot open {what} {os.fspath(path)}: SQLite could not open or create it "
            f"({exc}); check that this user may create and write files in {directory}, or "
            "choose another path"
        ) from exc
    return conn


class StoreSchemaError(TriggerBotError, sqlite3.DatabaseError):
    """A store's SQLite file cannot be used: corrupt, another application's, a newer schema.

    The file was left untouched; the message names it and says what to do. Also a
    :class:`sqlite3.DatabaseError`, which the outbox and the report store raised before.
    """


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return int(app_id), int(version), int(objects)


def _refusal(
    header: tuple[int, int, int], application_id: int, latest: int, path: str, what: str
) -> str | None:
    """Why the file must be left alone, or ``None`` when it is ours (or empty) and usable."""
    app_id, version, objects = header
    if header == (0, 0, 0):
        return None
    if app_id != application_id:
        return (
            f"{path} is not an openai-trigger-bot {what}: a SQLite database of another "
            f"application (application_id {app_id:#x}, schema version {version}, {objects} "
            "schema objects); it was left untouched. Pass another path"
        )
    if version > latest:
        return (
            f"{what} {path} has schema version {version}, newer than this release's {latest} "
            "(a newer openai-trigger-bot wrote it); it was left untouched. Upgrade "
            "openai-trigger-bot to use it, or pass another path"
        )
    return None


def database_problem(path: str, what: str, exc: sqlite3.DatabaseError) -> str:
    """SQLite's error on ``path`` as a sentence that names the file and says what to do."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return (
            f"{what} {path} is busy: another process held its write lock longer than the busy "
            "timeout; retry in a moment"
        )
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in text:
        return f"{what} {path} is read-only for this process; it needs write access"
    return (
        f"{path} cannot be used as an openai-trigger-bot {what} ({text}); it was left "
        "untouched. Move it away or pass another path"
    )


def migrate(
    conn: sqlite3.Connection,
    *,
    application_id: int,
    steps: Sequence[Sequence[str]],
    path: str | os.PathLike[str],
    what: str,
) -> int:
    """Create, adopt or migrate ``conn``'s file to version ``len(steps)``, or refuse it.

    Call it first on a new connection, before anything that writes (``PRAGMA journal_mode =
    WAL`` rewrites the header), and close the connection when it raises.

    The header says what the file is: ``PRAGMA application_id`` marks it as ours and ``PRAGMA
    user_version`` holds its schema version; an empty file is version 0. ``steps[n]`` takes a
    version ``n`` file to ``n + 1`` (step 0 creates the tables and sets the application id);
    each step runs in its own ``BEGIN IMMEDIATE`` transaction that re-reads the header first,
    as another process may have migrated the file meanwhile. A file with our application id,
    version 0 and tables (written before the store had a version) is adopted by running step 0
    on it: write step 0 with ``IF NOT EXISTS`` for such a store. Append a step for every
    schema change; never edit a released one.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``).
        application_id: The store's mark in the file header.
        steps: The migrations, in order.
        path: The file, for messages.
        what: What the file is, for messages (``"outbox"``, ``"report store"``).

    Returns:
        The file's schema version now (``len(steps)``).

    Raises:
        StoreSchemaError: Not a SQLite file, another application's database or a newer schema
            (the file is not modified); or a migration failed (rolled back: unchanged).
    """
    name, latest = os.fspath(path), len(steps)
    try:
        header = _header(conn)
        while header[:2] != (application_id, latest):
            refusal = _refusal(header, application_id, latest, name, what)
            if refusal:
                raise StoreSchemaError(refusal)
            conn.execute("BEGIN IMMEDIATE")
            try:
                header = _header(conn)  # another process may have moved it on
                refusal = _refusal(header, application_id, latest, name, what)
                if refusal:
                    raise StoreSchemaError(refusal)
                version = header[1]
                if version < latest:
                    if version == 0:
                        conn.execute(f"PRAGMA application_id = {int(application_id)}")
                    for statement in steps[version]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            header = _header(conn)
    except StoreSchemaError:
        raise
    except sqlite3.DatabaseError as exc:
        raise StoreSchemaError(database_problem(name, what, exc)) from exc
    return latest
