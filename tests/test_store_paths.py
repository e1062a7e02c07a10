"""Every store we open names its path and what to do when the path cannot hold it.

Stores: the SQLite memory store (directly and through ``MemoryManager(path)`` and its
``history``), the JSON memory file, the outcome outbox and serve's report store. Each bad path
fails with a :class:`StorePathError` (memory stores: :class:`MemoryPathError`) whose message
names the path, and nothing is created, changed or lost.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot import ConfigurationError, StorePathError
from openai_trigger_bot._sqlite import path_problem
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.memory import (
    FileMemoryStore,
    MemoryManager,
    MemoryPathError,
    MemoryStoreError,
    SQLiteMemoryStore,
)
from openai_trigger_bot.server.reports import ReportStore

Opener = Callable[[Path], Any]


def _open_outbox(path: Path) -> Any:
    return OutcomeOutbox(path, start=False)


STORES: dict[str, tuple[Opener, type[Exception], str]] = {
    "sqlite-memory": (SQLiteMemoryStore, MemoryPathError, "memory store"),
    "manager": (MemoryManager, MemoryPathError, "memory store"),
    "history": (lambda p: MemoryManager(p).history, MemoryPathError, "memory store"),
    "file-memory": (FileMemoryStore, MemoryPathError, "memory file"),
    "outbox": (_open_outbox, StorePathError, "outbox"),
    "report-store": (ReportStore, StorePathError, "report store"),
}
SQLITE_STORES = [name for name in STORES if name != "file-memory"]


def _snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under ``root`` with its type and (for files) content."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for entry in sorted(root.rglob("*")):
        mode = entry.lstat().st_mode
        content = entry.read_bytes() if stat.S_ISREG(mode) else None
        out[str(entry.relative_to(root))] = (stat.S_IFMT(mode), content)
    return out


def _refused(name: str, path: Path, root: Path) -> str:
    """Open store ``name`` at ``path``; assert the clear error and that nothing changed."""
    opener, error, what = STORES[name]
    before = _snapshot(root)
    with pytest.raises(error) as info:
        opener(path)
    message = str(info.value)
    assert message.startswith(f"cannot open {what} {path}: "), message
    assert "unable to open database file" not in message or "SQLite could not" in message
    assert isinstance(info.value, StorePathError)
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, OSError)  # code that handles file errors still does
    if error is MemoryPathError:
        assert isinstance(info.value, MemoryStoreError)
    assert _snapshot(root) == before, "nothing may be created or changed"
    return message


@pytest.mark.parametrize("name", list(STORES))
def test_missing_directory_is_named_and_not_created(name: str, tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "store.db"
    message = _refused(name, path, tmp_path)
    assert f"directory {path.parent} does not exist; create it or choose another path" in message
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("name", list(STORES))
def test_directory_in_place_of_the_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.mkdir()
    (path / "keep.txt").write_text("precious")
    message = _refused(name, path, tmp_path)
    assert "it is a directory, not a file" in message
    assert (path / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("name", list(STORES))
def test_a_file_where_the_directory_should_be(name: str, tmp_path: Path) -> None:
    parent = tmp_path / "notes.txt"
    parent.write_text("precious")
    message = _refused(name, parent / "store.db", tmp_path)
    assert f"{parent} is not a directory" in message


@pytest.mark.parametrize("name", list(STORES))
def test_a_named_pipe_in_place_of_the_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    os.mkfifo(path)
    message = _refused(name, path, tmp_path)
    assert "it is a named pipe; choose the path of a regular file" in message


@pytest.mark.parametrize("name", SQLITE_STORES)
def test_kernel_refuses_even_root(name: str) -> None:
    """sysfs refuses new files to every user (EACCES, root included): SQLite's failure itself
    is translated, naming the path and what to check."""
    path = Path("/sys/openai-trigger-bot-test.db")
    if not Path("/sys").is_dir() or path_problem(path) is not None:
        pytest.skip("needs a Linux sysfs at /sys")  # pragma: no cover - Linux CI has one
    opener, error, what = STORES[name]
    with pytest.raises(error) as info:
        opener(path)
    message = str(info.value)
    assert message.startswith(f"cannot open {what} {path}: SQLite could not open or create it")
    assert "choose another path" in message
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert not path.exists()


def _in_unprivileged_child(fn: Callable[[], str]) -> str:
    """Run ``fn`` as user ``nobody`` in a forked child (we run as root, whom chmod doesn't
    stop) and return what it returned; as another user, run it here."""
    if os.getuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            out = fn().encode()
        except BaseException as exc:
            out, code = f"child failed: {exc!r}".encode(), 1
        os.write(write, out)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, answer
    return answer


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user may enter (pytest's own tmp_path is the owner's only)."""
    path = Path(tempfile.mkdtemp(prefix="otb-paths-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in path.rglob("*"):
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(path)


@pytest.mark.parametrize("name", list(STORES))
def test_permission_denied_names_the_directory(name: str, shared_dir: Path) -> None:
    tmp_path = shared_dir
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    locked.chmod(0o555)  # not writable by anyone but root
    path = locked / "store.db"
    opener, error, what = STORES[name]

    def attempt() -> str:
        try:
            opener(path)
        except error as exc:
            return str(exc)
        return "opened"

    try:
        before = _snapshot(tmp_path)
        message = _in_unprivileged_child(attempt)
        assert message == (
            f"cannot open {what} {path}: permission denied: this user cannot create files in "
            f"directory {locked}; change its permissions or choose another path"
        )
        assert _snapshot(tmp_path) == before
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("name", list(STORES))
def test_directory_this_user_cannot_enter(name: str, shared_dir: Path) -> None:
    private = shared_dir / "private"
    private.mkdir(mode=0o700)
    path = private / "sub" / "store.db"
    opener, error, what = STORES[name]

    def attempt() -> str:
        try:
            opener(path)
        except error as exc:
            return str(exc)
        return "opened"

    message = _in_unprivileged_child(attempt)
    assert message == (
        f"cannot open {what} {path}: permission denied: this user cannot look into directory "
        f"{private}; change its permissions or choose another path"
    )
    assert list(private.iterdir()) == []


@pytest.mark.parametrize("name", list(STORES))
def test_existing_file_without_permission(name: str, shared_dir: Path) -> None:
    tmp_path = shared_dir
    path = tmp_path / "store.db"
    path.write_bytes(b"")
    path.chmod(0o600)  # root's only
    opener, error, what = STORES[name]

    def attempt() -> str:
        try:
            opener(path)
        except error as exc:
            return str(exc)
        return "opened"

    message = _in_unprivileged_child(attempt)
    assert message == (
        f"cannot open {what} {path}: permission denied: this user cannot read and write it; "
        "change its permissions or choose another path"
    )
    assert path.read_bytes() == b""


def test_dangling_symlink_into_a_missing_directory(tmp_path: Path) -> None:
    link = tmp_path / "memory.db"
    link.symlink_to(tmp_path / "gone" / "memory.db")
    message = _refused("sqlite-memory", link, tmp_path)
    assert f"directory {tmp_path / 'gone'} does not exist" in message


@pytest.mark.parametrize("name", list(STORES))
def test_good_paths_still_open(name: str, tmp_path: Path) -> None:
    opener, _, _ = STORES[name]
    store = opener(tmp_path / "store.db")
    close = getattr(store, "close", None)
    if close is not None:
        close()


def test_in_memory_sqlite_needs_no_path() -> None:
    assert path_problem(":memory:") is None
    SQLiteMemoryStore(":memory:").close()
