"""``MemoryManager``: remember, select a bounded mix of recent and relevant memories, capture.

Selection, for a :class:`~openai_trigger_bot.memory.MemoryRequest`:

1. **Recency leg**: the ``recent_limit`` newest unexpired memories of the requested scopes,
   in two shares (one index walk per scope and share in the store): automatic captures
   (:data:`CAPTURE_KINDS`: runs, actions, tool outcomes) take at most
   ``request.capture_share`` slots (``recent_capture_limit``, default half) while kept
   memories (facts, every other kind) compete for them; slots one share leaves unused go to
   the other. So captures never push a fact the bot was told to keep out, and a bot without
   facts still sees its last runs.
2. **Relevance leg**: the query (``request.query``, else the ``query`` the caller passes,
   usually the trigger's data; its last ``max_query_chars`` characters) is embedded and
   scored by cosine against each scope's cached float32 matrix (exact, see :mod:`._cache`),
   skipping what the recency leg took; the best ``semantic_limit`` with a score above
   ``min_relevance`` are kept.

   No text is shown twice in one recall (see docs/memory.md, "Recall"): each leg skips
   copies of a text already taken and reads further, so copies take no other memory's slot.
3. **Mix and budget**: the legs are interleaved (newest, most relevant, 2nd newest, ...) and
   memories are taken in that order while the rendered block fits ``request.char_budget``;
   the result is ordered newest first. Only the requested scopes are ever read.

Memory never breaks a run: an embedder failure stores the memory without a vector (recency
still finds it; :meth:`MemoryManager.reindex` embeds it later), a failed query embedding falls
back to recency, and the capture hooks log and swallow store errors. Never silently: each
embedding failure is logged and counted in :meth:`MemoryManager.embedding_status`, which also
says how many memories await ``reindex()`` (see :mod:`._embedding`).

Every method has an async twin (``a``-prefixed). They embed with the embedder's async method
and run store work in a worker thread (``asyncio.to_thread``), so SQLite never blocks the event
loop. The twins a run uses (``aremember``, ``aselect``, ``arecall``, the capture hooks) take an
explicit ``offload`` seam instead: the run passes its own (inline under ``Bot.run``, whose
private loop has nothing else to run; the bot's worker pool under ``Bot.arun``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from .._run.offload import Offload, to_thread
from ._cache import CacheInfo, VectorCache
from ._embedding import EmbeddingGuard, EmbeddingStatus
from ._hooks import CaptureHooks
from ._rank import distinct, interleave, recent_shares, top_k
from ._render import fit, render
from .embedders import Embedder, HashingEmbedder
from .history import StoreHistory
from .inmemory import InMemoryMemoryStore
from .records import CAPTURE_KINDS, FloatMatrix, Memory, NewMemory
from .request import MemoryRequest
from .sqlite import SQLiteMemoryStore
from .store import MemoryStore, accepts_captured

__all__ = ["CAPTURE_KINDS", "DEFAULT_TTLS", "CacheInfo", "EmbeddingStatus", "MemoryManager"]

DAY = 86400.0
DEFAULT_TTLS: Mapping[str, float | None] = {
    "trigger_run": 30 * DAY,
    "action": 30 * DAY,
    "tool_outcome": 30 * DAY,
}
"""Default time to live per kind; kinds not listed (``fact``...) never expire."""


_MAX_FETCH = 1024
"""The most rows one leg reads while skipping copies of texts it already has."""


class MemoryManager(CaptureHooks):
    """Remembers, recalls and captures, over a :class:`MemoryStore` and an :class:`Embedder`.

    Args:
        store: A store, or a path for a :class:`SQLiteMemoryStore`. Omitted: an
            :class:`InMemoryMemoryStore` (nothing persists: pass a path to keep memories).
        embedder: Omitted: the offline :class:`HashingEmbedder` (lexical only; see its module).
        clock: Epoch seconds (inject a fake clock in tests).
        ttl_by_kind: Time to live per kind in seconds (``None``: never expires); merged over
            :data:`DEFAULT_TTLS`.
        capture_kinds: Which kinds the capture hooks store (empty: capture nothing).
        min_relevance: Cosine a memory must exceed to be picked as relevant (default: the
            embedder's ``min_relevance`` attribute if it has one, else 0).
        max_query_chars: Longer queries keep their last characters (newest chat messages).
        history_retention: Seconds outcomes are kept for :attr:`history`.
        purge_interval: Seconds between deletions of expired memories (done on a write).
    """

    def __init__(
        self,
        store: MemoryStore | str | os.PathLike[str] | None = None,
        embedder: Embedder | None = None,
        *,
        clock: Callable[[], float] = time.time,
        ttl_by_kind: Mapping[str, float | None] | None = None,
        capture_kinds: Collection[str] = CAPTURE_KINDS,
        min_relevance: float | None = None,
        max_query_chars: int = 2000,
        history_retention: float = 7 * DAY,
        purge_interval: float = 3600.0,
    ) -> None:
        if store is None:
            store = InMemoryMemoryStore()
        elif isinstance(store, (str, os.PathLike)):
            store = SQLiteMemoryStore(store)
        elif not isinstance(store, MemoryStore):
            raise TypeError(f"store must be a MemoryStore or a path, got {type(store).__name__}")
        self.store: MemoryStore = store
        self.embedder: Embedder = embedder if embedder is not None else HashingEmbedder()
        self._embedding = EmbeddingGuard(self.embedder, clock)
        self._space = self._embedding.space
        self._clock = clock
        self._ttls = {**DEFAULT_TTLS, **(ttl_by_kind or {})}
        self._capture_kinds = frozenset(capture_kinds)
        if min_relevance is None:
            min_relevance = float(getattr(self.embedder, "min_relevance", 0.0))
        self._min_relevance = min_relevance
        self._max_query = max_query_chars
        self._retention = history_retention
        self._purge_interval = purge_interval
        self._next_purge = 0.0
        self._cache = VectorCache(store, self._space)
        self._split_recent = accepts_captured(store)
        self._history: StoreHistory | None = None
        self._history_lock = threading.Lock()

    # -- remember ----------------------------------------------------------------------------

    def _draft(
        self,
        text: str,
        scope: str,
        kind: str,
        source: str | None,
        metadata: Mapping[str, Any] | None,
        ttl: float | None,
        key: str | None,
    ) -> NewMemory:
        return NewMemory.create(
            text,
            scope=scope,
            kind=kind,
            now=self._clock(),
            ttl=self._ttls.get(kind) if ttl is None else ttl,
            source=source,
            metadata=metadata,
            key=key,
        )

    def _store(self, drafts: list[NewMemory], vectors: FloatMatrix | None) -> list[Memory]:
        if vectors is not None:
            drafts = [
                dataclasses.replace(d, vector=v, embedder=self._space)
                for d, v in zip(drafts, vectors, strict=True)
            ]
        now = self._clock()
        stored = self.store.add(drafts, now=now)
        if now >= self._next_purge:
            self._next_purge = now + self._purge_interval
            self.store.purge_expired(now=now)
        return stored

    def remember(
        self,
        text: str,
        *,
        scope: str = "global",
        kind: str = "fact",
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        key: str | None = None,
    ) -> Memory:
        """Store one memory, or return the existing one with the same text (and ``key``).

        Args:
            text: What to remember (whitespace at the ends is dropped).
            scope: Where it belongs (``"global"``, ``"user:alice"``...).
            kind: ``"fact"`` (default), ``"trigger_run"``, ``"action"``, ``"tool_outcome"``...
            source: Where it came from, if known.
            metadata: Further JSON data.
            ttl: Seconds until it expires; ``None``: the kind's default; ``math.inf``: never.
            key: Dedup identity beyond the text (see :func:`content_hash`).

        Raises:
            ValueError: Empty text, scope or kind, non-JSON metadata, or a non-positive ttl.
        """
        draft = self._draft(text, scope, kind, source, metadata, ttl, key)
        return self._store([draft], self._embedding.embed([draft.text]))[0]

    async def aremember(
        self,
        text: str,
        *,
        scope: str = "global",
        kind: str = "fact",
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        key: str | None = None,
        offload: Offload | None = None,
    ) -> Memory:
        """Async twin of :meth:`remember` (``offload``: see :meth:`aselect`)."""
        draft = self._draft(text, scope, kind, source, metadata, ttl, key)
        vectors = await self._embedding.aembed([draft.text], offload=offload)
        return (await (offload or to_thread)(self._store, [draft], vectors))[0]

    def remember_many(
        self,
        texts: Sequence[str],
        *,
        scope: str = "global",
        kind: str = "fact",
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: float | None = None,
    ) -> list[Memory]:
        """Store several memories of one scope and kind: one embedding batch, one transaction."""
        drafts = [self._draft(t, scope, kind, source, metadata, ttl, None) for t in texts]
        return self._store(drafts, self._embedding.embed([d.text for d in drafts]))

    async def aremember_many(
        self,
        texts: Sequence[str],
        *,
        scope: str = "global",
        kind: str = "fact",
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: float | None = None,
    ) -> list[Memory]:
        """Async twin of :meth:`remember_many`."""
        drafts = [self._draft(t, scope, kind, source, metadata, ttl, None) for t in texts]
        vectors = await self._embedding.aembed([d.text for d in drafts])
        return await to_thread(self._store, drafts, vectors)

    # -- select -----------------------------------------------------------------------------

    def _query_text(self, request: MemoryRequest, query: str | None) -> str | None:
        if request.semantic_limit == 0 or not request.scopes:
            return None
        text = request.query if request.query is not None else query
        if not text or not text.strip():
            return None
        return text[-self._max_query :]

    def _newest(
        self, scopes: Sequence[str], need: int, now: float, captured: bool | None
    ) -> list[Memory]:
        """The ``need`` newest memories of a share, with distinct texts (reading further while
        copies of one text fill the newest rows)."""
        fetch = need * 3
        while True:
            if captured is None:
                rows = self.store.recent(scopes, fetch, now=now)
            else:
                rows = self.store.recent(scopes, fetch, now=now, captured=captured)
            found = distinct(rows)
            if len(found) >= need or len(rows) < fetch or fetch >= _MAX_FETCH:
                return found[:need]
            fetch *= 4

    def _recent(self, scopes: Sequence[str], request: MemoryRequest, now: float) -> list[Memory]:
        limit = request.recent_limit
        if limit <= 0:
            return []
        if self._split_recent:
            kept = self._newest(scopes, limit, now, False)
            captured = self._newest(scopes, limit, now, True)
        else:  # a store written before `captured=`: split one larger answer here
            both = self._newest(scopes, 2 * limit, now, None)
            kept = [m for m in both if m.kind not in CAPTURE_KINDS]
            captured = [m for m in both if m.kind in CAPTURE_KINDS]
        return recent_shares(kept, captured, limit, request.capture_share)

    def _relevant(
        self,
        scopes: Sequence[str],
        limit: int,
        vector: FloatMatrix,
        now: float,
        recent: list[Memory],
    ) -> list[Memory]:
        snapshots = self._cache.snapshots(scopes, self.store.versions(scopes))
        exclude = {m.id for m in recent}
        shown = {m.text for m in recent}
        k = 2 * limit  # copies of one text score the same: look a little further
        while True:
            hits = top_k(
                snapshots, vector, k, now=now, exclude=exclude, min_score=self._min_relevance
            )
            found = self.store.get([memory_id for _, memory_id in hits], now=now)
            relevant = distinct([m for m in found if m.scope in scopes], shown)
            if len(relevant) >= limit or len(hits) < k or k >= _MAX_FETCH:
                return relevant[:limit]
            k *= 4

    def _select(self, request: MemoryRequest, vector: FloatMatrix | None) -> list[Memory]:
        scopes = tuple(dict.fromkeys(request.scopes))
        if not scopes:
            return []
        now = self._clock()
        recent = self._recent(scopes, request, now)
        relevant: list[Memory] = []
        if vector is not None and request.semantic_limit > 0:
            relevant = self._relevant(scopes, request.semantic_limit, vector, now, recent)
        chosen = fit(interleave(recent, relevant), request.char_budget)
        chosen.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return chosen

    def select(self, request: MemoryRequest, *, query: str | None = None) -> list[Memory]:
        """The memories to show for ``request``, newest first, within its budget.

        Args:
            request: Scopes, limits, budget and (optionally) the query.
            query: The query when ``request.query`` is ``None`` (the runner passes the
                trigger's data as text).
        """
        text = self._query_text(request, query)
        vector = None if text is None else self._embedding.embed([text], query=True)
        return self._select(request, None if vector is None else vector[0])

    async def aselect(
        self, request: MemoryRequest, *, query: str | None = None, offload: Offload | None = None
    ) -> list[Memory]:
        """Async twin of :meth:`select`.

        Args:
            request: See :meth:`select`.
            query: See :meth:`select`.
            offload: Where the store's (and a sync embedder's) blocking work runs; ``None``: a
                worker thread. A run passes its own seam (inline under ``Bot.run``).
        """
        text = self._query_text(request, query)
        vector = None
        if text is not None:
            vector = await self._embedding.aembed([text], query=True, offload=offload)
        run = offload or to_thread
        return await run(self._select, request, None if vector is None else vector[0])

    @staticmethod
    def render(memories: Sequence[Memory], *, max_chars: int | None = None) -> str | None:
        """The one text block to inject into the prompt, or ``None`` when there is nothing.

        A header line, then ``- [scope] text (kind, YYYY-MM-DD HH:MM UTC)`` per memory,
        newest first. :meth:`select` already fits its result into the request's budget.
        """
        return render(memories, max_chars)

    def recall(self, request: MemoryRequest, *, query: str | None = None) -> str | None:
        """``render(select(request, query=query))``."""
        return render(self.select(request, query=query))

    async def arecall(
        self, request: MemoryRequest, *, query: str | None = None, offload: Offload | None = None
    ) -> str | None:
        """Async twin of :meth:`recall` (``offload``: see :meth:`aselect`)."""
        return render(await self.aselect(request, query=query, offload=offload))

    # -- upkeep -----------------------------------------------------------------------------

    @property
    def history(self) -> StoreHistory:
        """The persistent ``HistoryProvider`` over this manager's store (made on first use)."""
        with self._history_lock:
            if self._history is None:
                self._history = StoreHistory(
                    self.store, clock=self._clock, retention=self._retention
                )
            return self._history

    def reindex(self, *, batch_size: int = 256) -> int:
        """Embed memories that have no vector from this manager's embedder (after a switch of
        embedder, or after embedding failures). Returns how many were embedded.

        Raises:
            EmbeddingError: The embedder failed (what was done so far is kept; the failure
                is counted in :meth:`embedding_status`).
        """
        return self._embedding.reindex(self.store, batch_size=batch_size, now=self._clock)

    async def areindex(self, *, batch_size: int = 256) -> int:
        """Async twin of :meth:`reindex` (store work in a worker thread)."""
        return await self._embedding.areindex(
            self.store, batch_size=batch_size, now=self._clock, offload=to_thread
        )

    def embedding_status(self, *, pending_limit: int = 10_000) -> EmbeddingStatus:
        """Embedding failures so far and how many memories await :meth:`reindex`.

        Memories stored while the embedder failed have no vector, so semantic recall misses
        them until :meth:`reindex`; this says so (each failure is also logged as a warning).

        Args:
            pending_limit: Count memories awaiting ``reindex()`` up to this many (the store
                reads up to this many rows; 0 skips the count).
        """
        return self._embedding.status(self.store, now=self._clock(), limit=pending_limit)

    async def aembedding_status(self, *, pending_limit: int = 10_000) -> EmbeddingStatus:
        """Async twin of :meth:`embedding_status` (the store read in a worker thread)."""
        return await to_thread(
            functools.partial(self.embedding_status, pending_limit=pending_limit)
        )

    def forget(self, ids: Sequence[int]) -> int:
        """Delete memories by id; returns how many were deleted."""
        return self.store.delete(ids)

    def forget_scope(self, scope: str) -> int:
        """Delete every memory of a scope; returns how many were deleted."""
        return self.store.clear(scope)

    def purge_expired(self) -> int:
        """Delete expired memories now (also done on writes every ``purge_interval``)."""
        return self.store.purge_expired(now=self._clock())

    def count(self, scopes: Sequence[str] | None = None) -> int:
        """Unexpired memories in ``scopes`` (every scope when ``None``)."""
        return self.store.count(scopes, now=self._clock())

    def cache_info(self) -> CacheInfo:
        """The vector cache's size (for monitoring and the benchmark)."""
        rows = self._cache.rows()
        return CacheInfo(
            rows, self._cache.nbytes(), rows * self.embedder.dimensions * 4, self._cache.loads
        )

    def close(self) -> None:
        """Flush :attr:`history` and close the store."""
        if self._history is not None:
            self._history.close()
        self._cache.clear()
        self.store.close()

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        await to_thread(self.close)

    def __enter__(self) -> MemoryManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
