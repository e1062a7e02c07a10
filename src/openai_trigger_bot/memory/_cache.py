"""Each queried scope's vectors held as one float32 matrix, kept in step with the store.

Reading vectors out of the store on every query is the trap (the row fetch, not the
arithmetic, dominates), so the manager keeps, per scope, one contiguous float32 matrix with
the ids and expiry times beside it. Before each select it asks the store for the scopes'
versions (one cheap query) and, per scope:

- same version: use the matrix as it is;
- a higher cursor, same ``reset``: append the rows written since (by this process or any
  other) — an append grows the buffers by 1/8, so the buffers stay within ~1.13x of the rows
  they hold and appends cost O(1) amortised;
- a different ``reset`` (deletes, purges, re-embedding) or a lower cursor (the file was
  replaced): reload the scope.

Readers get a snapshot (views of the first ``n`` rows). Appends write past ``n`` or into new
buffers and reloads build new arrays, so a snapshot never changes under a reader and scoring
runs outside the lock.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from .records import FloatMatrix, IdArray, ScopeVersion, TimeArray, VectorBatch
from .store import MemoryStore

__all__ = ["CacheInfo", "ScopeSnapshot", "VectorCache"]

_GROWTH = 0.125


class CacheInfo(NamedTuple):
    """The vector cache's size: rows, bytes held, bytes of the vectors alone, full loads."""

    rows: int
    nbytes: int
    vector_nbytes: int
    loads: int


class ScopeSnapshot(NamedTuple):
    """A scope's cached vectors at one moment (read-only views)."""

    ids: IdArray
    vectors: FloatMatrix
    expires: TimeArray
    next_expiry: float


class _ScopeMatrix:
    __slots__ = ("expires", "ids", "next_expiry", "size", "vectors", "version")

    def __init__(self, batch: VectorBatch) -> None:
        self.ids = batch.ids
        self.vectors = batch.vectors
        self.expires = batch.expires
        self.size = len(batch.ids)
        self.version = batch.version
        self.next_expiry = float(batch.expires.min()) if self.size else math.inf

    def append(self, batch: VectorBatch) -> None:
        n, m = self.size, len(batch.ids)
        if m:
            if self.size and batch.vectors.shape[1] != self.vectors.shape[1]:
                raise ValueError("vectors of different dimensions in one scope")
            if n + m > len(self.ids) or not self.vectors.flags.writeable:
                capacity = n + m + max(16, int((n + m) * _GROWTH))
                ids = np.empty(capacity, np.int64)
                vectors = np.empty((capacity, batch.vectors.shape[1]), np.float32)
                expires = np.empty(capacity, np.float64)
                if n:  # an empty scope's matrix may have no column count yet: (0, 0)
                    ids[:n], vectors[:n] = self.ids[:n], self.vectors[:n]
                    expires[:n] = self.expires[:n]
                self.ids, self.vectors, self.expires = ids, vectors, expires
            self.ids[n : n + m] = batch.ids
            self.vectors[n : n + m] = batch.vectors
            self.expires[n : n + m] = batch.expires
            self.size = n + m
            self.next_expiry = min(self.next_expiry, float(batch.expires.min()))
        self.version = batch.version

    def snapshot(self) -> ScopeSnapshot:
        n = self.size
        return ScopeSnapshot(self.ids[:n], self.vectors[:n], self.expires[:n], self.next_expiry)

    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.vectors.nbytes + self.expires.nbytes)


class VectorCache:
    """Per-scope float32 matrices of one embedder's vectors (thread-safe).

    Args:
        store: Where the vectors come from.
        embedder: The embedder name whose vectors are cached.
        max_scopes: Scopes kept; the least recently queried is dropped beyond that.
    """

    def __init__(self, store: MemoryStore, embedder: str, *, max_scopes: int = 4096) -> None:
        self._store = store
        self._embedder = embedder
        self._max_scopes = max_scopes
        self._lock = threading.Lock()
        self._scopes: OrderedDict[str, _ScopeMatrix] = OrderedDict()
        self.loads = 0
        """Full scope loads so far (appends not counted): for tests and tuning."""

    def snapshots(
        self, scopes: Sequence[str], versions: Mapping[str, ScopeVersion]
    ) -> list[ScopeSnapshot]:
        """Bring the scopes up to ``versions`` (read just before) and snapshot them."""
        out: list[ScopeSnapshot] = []
        with self._lock:
            for scope in scopes:
                out.append(self._refresh(scope, versions.get(scope, ScopeVersion())).snapshot())
                self._scopes.move_to_end(scope)
            while len(self._scopes) > self._max_scopes:
                self._scopes.popitem(last=False)
        return out

    def _refresh(self, scope: str, version: ScopeVersion) -> _ScopeMatrix:
        entry = self._scopes.get(scope)
        if entry is not None and entry.version == version:
            return entry
        if (
            entry is not None
            and entry.version.reset == version.reset
            and entry.version.cursor < version.cursor
        ):
            batch = self._store.load_vectors(scope, self._embedder, after=entry.version.cursor)
            if batch.version.reset == entry.version.reset:
                entry.append(batch)
                return entry
        self.loads += 1
        entry = _ScopeMatrix(self._store.load_vectors(scope, self._embedder))
        self._scopes[scope] = entry
        return entry

    def clear(self) -> None:
        """Drop every cached scope."""
        with self._lock:
            self._scopes.clear()

    def nbytes(self) -> int:
        """Bytes held by the cached arrays (vectors, ids, expiry times, spare capacity)."""
        with self._lock:
            return sum(entry.nbytes() for entry in self._scopes.values())

    def rows(self) -> int:
        """Rows cached over all scopes."""
        with self._lock:
            return sum(entry.size for entry in self._scopes.values())
