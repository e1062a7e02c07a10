"""A memory store in one JSON file: easy to read, diff and back up; for small memories.

Every write rewrites the whole file atomically: the new content goes to a temporary file in
the same folder, is flushed to disk, then renamed over the old file, so a crash leaves either
the old or the new file, never half of one. A file that is not valid JSON, is another
program's JSON, or comes from a newer version fails with
:class:`~openai_trigger_bot.memory.MemoryFileError` when the store opens (or when another
process has replaced it with one) and is never overwritten.

Several processes may share the file: each read checks the file's identity (inode, size,
modification time) and reloads it when another process wrote; writes take an exclusive
``flock`` on ``<path>.lock`` (POSIX) around read-modify-write, so none is lost. Because every
write rewrites everything, prefer :class:`~openai_trigger_bot.memory.SQLiteMemoryStore` past a
few thousand memories or for frequent captures.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .._sqlite import check_path
from ._file_format import dump_state, load_state
from .errors import MemoryPathError
from .inmemory import MemoryState
from .records import FloatMatrix, Memory, NewMemory, OutcomeRecord, ScopeVersion, VectorBatch

__all__ = ["FileMemoryStore"]

T = TypeVar("T")


class FileMemoryStore:
    """A :class:`~openai_trigger_bot.memory.MemoryStore` kept in one JSON file.

    The file is created on the first write (with owner-only permissions), not when the store
    opens.

    Args:
        path: The JSON file (for example ``"bot-memory.json"``).

    Raises:
        MemoryPathError: The path cannot hold the file (its directory does not exist, a
            directory is in its place, no permission); the message names the path and what
            to do, and nothing is created.
        MemoryFileError: The file exists and is corrupt, foreign or from a newer version.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        check_path(self.path, "memory file", error=MemoryPathError)
        self._lock = threading.RLock()
        self._state = MemoryState()
        self._stamp: tuple[int, int, int] | None = None
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        """Reload the file if another writer replaced it since we last read or wrote it."""
        if self._stamp is not None:  # the common case, one stat: nothing changed
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                pass
            else:
                if (st.st_ino, st.st_size, st.st_mtime_ns) == self._stamp:
                    return
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (closed below; fstat needs the fd)
        except FileNotFoundError:
            if self._stamp is not None:  # deleted behind our back: start empty
                self._state, self._stamp = MemoryState(), None
            return
        with handle:
            st = os.fstat(handle.fileno())
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            if stamp == self._stamp:
                return
            state = load_state(handle.read(), self.path)
        self._state, self._stamp = state, stamp

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if sys.platform == "win32":  # pragma: no cover - no flock: one writing process only
            yield
            return
        import fcntl

        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _save(self) -> None:
        data = dump_state(self._state)
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(
            prefix=os.path.basename(self.path) + ".", suffix=".tmp", dir=directory
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        st = os.stat(self.path)
        self._stamp = (st.st_ino, st.st_size, st.st_mtime_ns)

    def _read(self, read: Callable[[MemoryState], T]) -> T:
        with self._lock:
            self._refresh()
            return read(self._state)

    def _write(self, mutate: Callable[[MemoryState], T]) -> T:
        with self._lock, self._file_lock():
            self._refresh()
            before = self._state.changes
            try:
                result = mutate(self._state)
                if self._state.changes != before:
                    self._save()
            except BaseException:
                self._stamp = None  # our copy may hold unsaved changes: reload next time
                raise
            return result

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.add`."""
        return self._write(lambda s: s.add(items, now=now))

    def recent(
        self, scopes: Sequence[str], limit: int, *, now: float, captured: bool | None = None
    ) -> list[Memory]:
        """See :meth:`MemoryStore.recent`."""
        return self._read(lambda s: s.recent(scopes, limit, now=now, captured=captured))

    def get(self, ids: Sequence[int], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.get`."""
        return self._read(lambda s: s.get(ids, now=now))

    def versions(self, scopes: Sequence[str]) -> dict[str, ScopeVersion]:
        """See :meth:`MemoryStore.versions`."""
        return self._read(lambda s: s.versions(scopes))

    def load_vectors(self, scope: str, embedder: str, *, after: int = 0) -> VectorBatch:
        """See :meth:`MemoryStore.load_vectors`."""
        return self._read(lambda s: s.load_vectors(scope, embedder, after=after))

    def missing_vectors(self, embedder: str, *, limit: int, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.missing_vectors`."""
        return self._read(lambda s: s.missing_vectors(embedder, limit=limit, now=now))

    def set_vectors(self, ids: Sequence[int], embedder: str, vectors: FloatMatrix) -> None:
        """See :meth:`MemoryStore.set_vectors`."""
        self._write(lambda s: s.set_vectors(ids, embedder, vectors))

    def delete(self, ids: Sequence[int]) -> int:
        """See :meth:`MemoryStore.delete`."""
        return self._write(lambda s: s.delete(ids))

    def clear(self, scope: str) -> int:
        """See :meth:`MemoryStore.clear`."""
        return self._write(lambda s: s.clear(scope))

    def purge_expired(self, *, now: float) -> int:
        """See :meth:`MemoryStore.purge_expired`."""
        return self._write(lambda s: s.purge_expired(now=now))

    def count(self, scopes: Sequence[str] | None = None, *, now: float | None = None) -> int:
        """See :meth:`MemoryStore.count`."""
        return self._read(lambda s: s.count(scopes, now=now))

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        """See :meth:`MemoryStore.record_outcomes`."""
        self._write(lambda s: s.record_outcomes(outcomes))

    def count_outcomes(
        self, action: str, *, since: float, target: str | None = None
    ) -> dict[str, int]:
        """See :meth:`MemoryStore.count_outcomes`."""
        return self._read(lambda s: s.count_outcomes(action, since=since, target=target))

    def prune_outcomes(self, *, before: float) -> int:
        """See :meth:`MemoryStore.prune_outcomes`."""
        return self._write(lambda s: s.prune_outcomes(before=before))

    def close(self) -> None:
        """Nothing stays open between calls."""
