"""Small helpers shared by the files this library keeps (memory, outbox, report store).

- :func:`connect` opens a SQLite file after :func:`check_path` has made sure the path can hold
  it, so a bad path fails with a message that names the path and says what to do instead of
  SQLite's bare "unable to open database file".
- :func:`check_path` is the same check for stores that are not SQLite (the JSON memory file).
- :func:`refuse_foreign` refuses another application's SQLite database, untouched.

Nothing here creates a directory or a file: a path that cannot be used is reported, never
"repaired".
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from .exceptions import StorePathError

__all__ = ["check_path", "connect", "path_problem", "refuse_foreign"]

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
