"""A memory store held in this process: for tests and bots that need no persistence.

:class:`MemoryState` is the plain data and the protocol's semantics in one place;
:class:`InMemoryMemoryStore` guards one with a lock, and
:class:`~openai_trigger_bot.memory.FileMemoryStore` loads and saves one as JSON.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Sequence

import numpy as np

from ..governance.rules._windows import OutcomeWindows
from .records import (
    CAPTURE_KINDS,
    FloatMatrix,
    Memory,
    NewMemory,
    OutcomeRecord,
    ScopeVersion,
    VectorBatch,
)

__all__ = ["InMemoryMemoryStore", "MemoryState"]


class MemoryState:
    """Memories, vectors, scope versions and outcomes as Python objects (not thread-safe).

    Every method implements the :class:`~openai_trigger_bot.memory.MemoryStore` method of the
    same name.
    """

    def __init__(self) -> None:
        self.next_id = 1
        self.memories: dict[int, Memory] = {}
        self.vectors: dict[int, tuple[str, FloatMatrix]] = {}
        self.by_hash: dict[tuple[str, str], int] = {}
        self.by_scope: dict[str, dict[int, None]] = {}  # insertion-ordered ids per scope
        self.scopes: dict[str, ScopeVersion] = {}
        self.outcome_windows = OutcomeWindows()  # counts in O(log n) (see its module)
        self.changes = 0  # bumped by every mutation (the file store saves only when it moved)

    def insert(self, memory: Memory, vector: tuple[str, FloatMatrix] | None) -> None:
        """Put a stored memory (with its id) in the indexes, as loading from a file does."""
        self.changes += 1
        self.memories[memory.id] = memory
        self.by_hash[(memory.scope, memory.content_hash)] = memory.id
        self.by_scope.setdefault(memory.scope, {})[memory.id] = None
        if vector is not None:
            self.vectors[memory.id] = vector
        self.next_id = max(self.next_id, memory.id + 1)

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        out: list[Memory] = []
        for item in items:
            existing_id = self.by_hash.get((item.scope, item.content_hash))
            if existing_id is not None:
                existing = self.memories[existing_id]
                if not existing.expired(now):
                    out.append(existing)
                    continue
                self.delete([existing_id])
            memory = item.stored(self.next_id)
            vector = None
            if item.vector is not None and item.embedder is not None:
                vector = (item.embedder, np.asarray(item.vector, np.float32))
            self.insert(memory, vector)
            reset = self.scopes.get(item.scope, ScopeVersion()).reset
            self.scopes[item.scope] = ScopeVersion(reset, memory.id)
            out.append(memory)
        return out

    def recent(
        self, scopes: Sequence[str], limit: int, *, now: float, captured: bool | None = None
    ) -> list[Memory]:
        if limit <= 0:
            return []
        live = (
            self.memories[i]
            for scope in dict.fromkeys(scopes)
            for i in self.by_scope.get(scope, ())
            if not self.memories[i].expired(now)
            and (captured is None or (self.memories[i].kind in CAPTURE_KINDS) == captured)
        )
        return heapq.nlargest(limit, live, key=lambda m: (m.created_at, m.id))

    def get(self, ids: Sequence[int], *, now: float) -> list[Memory]:
        found = (self.memories.get(i) for i in ids)
        return [m for m in found if m is not None and not m.expired(now)]

    def versions(self, scopes: Sequence[str]) -> dict[str, ScopeVersion]:
        return {scope: self.scopes.get(scope, ScopeVersion()) for scope in scopes}

    def load_vectors(self, scope: str, embedder: str, *, after: int = 0) -> VectorBatch:
        rows: list[tuple[int, float | None, bytes]] = []
        for memory_id in self.by_scope.get(scope, ()):
            entry = self.vectors.get(memory_id)
            if memory_id > after and entry is not None and entry[0] == embedder:
                rows.append((memory_id, self.memories[memory_id].expires_at, entry[1].tobytes()))
        return VectorBatch.build(rows, self.scopes.get(scope, ScopeVersion()))

    def missing_vectors(self, embedder: str, *, limit: int, now: float) -> list[Memory]:
        out: list[Memory] = []
        for memory_id, memory in self.memories.items():
            if len(out) >= limit:
                break
            entry = self.vectors.get(memory_id)
            if (entry is None or entry[0] != embedder) and not memory.expired(now):
                out.append(memory)
        return out

    def set_vectors(self, ids: Sequence[int], embedder: str, vectors: FloatMatrix) -> None:
        touched: set[str] = set()
        for memory_id, vector in zip(ids, vectors, strict=True):
            memory = self.memories.get(int(memory_id))
            if memory is not None:
                self.vectors[memory.id] = (embedder, np.array(vector, np.float32))
                touched.add(memory.scope)
                self.changes += 1
        self._bump(touched)

    def delete(self, ids: Sequence[int]) -> int:
        touched: set[str] = set()
        deleted = 0
        for memory_id in ids:
            memory = self.memories.pop(int(memory_id), None)
            if memory is None:
                continue
            deleted += 1
            self.changes += 1
            self.vectors.pop(memory.id, None)
            self.by_hash.pop((memory.scope, memory.content_hash), None)
            self.by_scope[memory.scope].pop(memory.id, None)
            touched.add(memory.scope)
        self._bump(touched)
        return deleted

    def clear(self, scope: str) -> int:
        return self.delete(list(self.by_scope.get(scope, ())))

    def purge_expired(self, *, now: float) -> int:
        return self.delete([m.id for m in self.memories.values() if m.expired(now)])

    def count(self, scopes: Sequence[str] | None = None, *, now: float | None = None) -> int:
        if scopes is None:
            pool = list(self.memories.values())
        else:
            pool = [
                self.memories[i] for s in dict.fromkeys(scopes) for i in self.by_scope.get(s, ())
            ]
        return sum(1 for m in pool if now is None or not m.expired(now))

    @property
    def outcomes(self) -> list[OutcomeRecord]:
        """Every stored outcome (grouped by action, target and status; for saving)."""
        return [OutcomeRecord(*record) for record in self.outcome_windows.records()]

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        for action, status, target, at in outcomes:
            self.outcome_windows.add(action, status, target, at)
        self.changes += len(outcomes)

    def count_outcomes(
        self, action: str, *, since: float, target: str | None = None
    ) -> dict[str, int]:
        return self.outcome_windows.counts(action, since=since, target=target)

    def prune_outcomes(self, *, before: float) -> int:
        pruned = self.outcome_windows.prune(before)
        self.changes += pruned
        return pruned

    def _bump(self, scopes: set[str]) -> None:
        for scope in scopes:
            version = self.scopes.get(scope, ScopeVersion())
            self.scopes[scope] = ScopeVersion(version.reset + 1, version.cursor)


class InMemoryMemoryStore:
    """A :class:`~openai_trigger_bot.memory.MemoryStore` in this process's memory (thread-safe).

    Nothing is persisted: everything is gone when the object is. For tests and ephemeral
    bots; ``MemoryManager()`` without a store uses one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = MemoryState()

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.add`."""
        with self._lock:
            return self._state.add(items, now=now)

    def recent(
        self, scopes: Sequence[str], limit: int, *, now: float, captured: bool | None = None
    ) -> list[Memory]:
        """See :meth:`MemoryStore.recent`."""
        with self._lock:
            return self._state.recent(scopes, limit, now=now, captured=captured)

    def get(self, ids: Sequence[int], *, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.get`."""
        with self._lock:
            return self._state.get(ids, now=now)

    def versions(self, scopes: Sequence[str]) -> dict[str, ScopeVersion]:
        """See :meth:`MemoryStore.versions`."""
        with self._lock:
            return self._state.versions(scopes)

    def load_vectors(self, scope: str, embedder: str, *, after: int = 0) -> VectorBatch:
        """See :meth:`MemoryStore.load_vectors`."""
        with self._lock:
            return self._state.load_vectors(scope, embedder, after=after)

    def missing_vectors(self, embedder: str, *, limit: int, now: float) -> list[Memory]:
        """See :meth:`MemoryStore.missing_vectors`."""
        with self._lock:
            return self._state.missing_vectors(embedder, limit=limit, now=now)

    def set_vectors(self, ids: Sequence[int], embedder: str, vectors: FloatMatrix) -> None:
        """See :meth:`MemoryStore.set_vectors`."""
        with self._lock:
            self._state.set_vectors(ids, embedder, vectors)

    def delete(self, ids: Sequence[int]) -> int:
        """See :meth:`MemoryStore.delete`."""
        with self._lock:
            return self._state.delete(ids)

    def clear(self, scope: str) -> int:
        """See :meth:`MemoryStore.clear`."""
        with self._lock:
            return self._state.clear(scope)

    def purge_expired(self, *, now: float) -> int:
        """See :meth:`MemoryStore.purge_expired`."""
        with self._lock:
            return self._state.purge_expired(now=now)

    def count(self, scopes: Sequence[str] | None = None, *, now: float | None = None) -> int:
        """See :meth:`MemoryStore.count`."""
        with self._lock:
            return self._state.count(scopes, now=now)

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        """See :meth:`MemoryStore.record_outcomes`."""
        with self._lock:
            self._state.record_outcomes(outcomes)

    def count_outcomes(
        self, action: str, *, since: float, target: str | None = None
    ) -> dict[str, int]:
        """See :meth:`MemoryStore.count_outcomes`."""
        with self._lock:
            return self._state.count_outcomes(action, since=since, target=target)

    def prune_outcomes(self, *, before: float) -> int:
        """See :meth:`MemoryStore.prune_outcomes`."""
        with self._lock:
            return self._state.prune_outcomes(before=before)

    def close(self) -> None:
        """Nothing to release."""
