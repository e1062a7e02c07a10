"""The manager's embedding calls: a failure never loses a memory, and is never silent.

Memory never breaks a run, so when the embedder fails the memories are stored without a
vector: recency still finds them, and :meth:`~openai_trigger_bot.memory.MemoryManager.reindex`
embeds them later (the store lists every memory without a vector from the manager's embedder,
so nothing needs marking beyond the missing vector). What changes here is that the loss is
recorded: each failure is logged as a warning saying how many memories now await
``reindex()``, and counted in :class:`EmbeddingStatus`
(:meth:`~openai_trigger_bot.memory.MemoryManager.embedding_status`), which also counts what
awaits ``reindex()`` in the store.

There is no immediate retry here: ``OpenAIEmbedder``'s client already retries transient
failures (connection errors, 408, 409, 429 and 5xx, honouring ``Retry-After``), so what reaches
the manager has outlasted those retries or is permanent (a 400); retrying again would only make
the run wait longer. ``reindex()`` is the retry, once the cause is gone.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._rank import normalised
from .embedders import Embedder, OffloadingEmbedder
from .records import FloatMatrix
from .store import MemoryStore

if TYPE_CHECKING:
    from .._run.offload import Offload

__all__ = ["EmbeddingGuard", "EmbeddingStatus"]

log = logging.getLogger("openai_trigger_bot.memory.manager")

_ERROR_CHARS = 500
"""``last_error`` keeps this many characters of the error."""


@dataclasses.dataclass(frozen=True)
class EmbeddingStatus:
    """How embedding has gone for one :class:`~openai_trigger_bot.memory.MemoryManager`.

    Counters run from the manager's creation. ``pending`` is read from the store when the
    status is asked for.

    Attributes:
        embedder: The manager's embedder (``Embedder.name``: its vector space).
        failures: Embedder calls that failed while storing memories (``remember``,
            captures) or in ``reindex``.
        not_embedded: Memories stored without a vector because of those failures.
        query_failures: Recalls whose query could not be embedded (they used recency only).
        last_error: The latest failure (``"ExceptionType: message"``, cut to 500
            characters), or ``None``.
        last_failure_at: When it happened (the manager's clock), or ``None``.
        pending: Unexpired memories in the store without a vector from this embedder, which
            semantic recall cannot find until :meth:`MemoryManager.reindex` embeds them
            (after failures, or after a switch of embedder). Counted up to ``pending_limit``.
        pending_limit: The most ``pending`` counts (it may be more when equal).
    """

    embedder: str
    failures: int = 0
    not_embedded: int = 0
    query_failures: int = 0
    last_error: str | None = None
    last_failure_at: float | None = None
    pending: int = 0
    pending_limit: int = 0

    @property
    def needs_reindex(self) -> bool:
        """Whether some memories await :meth:`MemoryManager.reindex`."""
        return self.pending > 0


class EmbeddingGuard:
    """Calls the manager's embedder, recording failures instead of raising them.

    Args:
        embedder: The manager's embedder.
        clock: The manager's clock (epoch seconds).
    """

    def __init__(self, embedder: Embedder, clock: Callable[[], float]) -> None:
        self.embedder = embedder
        self.space = embedder.name
        self._clock = clock
        self._lock = threading.Lock()
        self._status = EmbeddingStatus(self.space)

    def _failed(self, exc: BaseException, *, texts: int, kind: str) -> None:
        """Record a failure of ``kind`` (``"store"``, ``"query"`` or ``"reindex"``) and log
        it (a failed ``reindex`` raises to its caller instead)."""
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
        with self._lock:
            s = self._status
            self._status = dataclasses.replace(
                s,
                failures=s.failures + (kind != "query"),
                not_embedded=s.not_embedded + (texts if kind == "store" else 0),
                query_failures=s.query_failures + (kind == "query"),
                last_error=error,
                last_failure_at=self._clock(),
            )
        if kind == "query":
            log.warning(
                "memory: the query could not be embedded; recall used recency only: %s", error
            )
        elif kind == "store":
            log.warning(
                "memory: embedding failed; %d memor%s stored without a vector await"
                " MemoryManager.reindex() (see embedding_status()): %s",
                texts,
                "y" if texts == 1 else "ies",
                error,
            )

    def embed(self, texts: list[str], *, query: bool = False) -> FloatMatrix | None:
        """Unit vectors for ``texts``, or ``None`` (recorded and logged) when the embedder fails.

        Args:
            texts: Texts of memories to store, or the one query text.
            query: Whether this is a recall's query (a failure then loses no memory).
        """
        try:
            return normalised(self.embedder.embed(texts), len(texts))
        except Exception as exc:
            self._failed(exc, texts=len(texts), kind="query" if query else "store")
            return None

    async def aembed(
        self, texts: list[str], *, query: bool = False, offload: Offload | None = None
    ) -> FloatMatrix | None:
        """Async twin of :meth:`embed`; an :class:`OffloadingEmbedder` is given ``offload``."""
        try:
            embedder = self.embedder
            if offload is not None and isinstance(embedder, OffloadingEmbedder):
                found = await embedder.aembed_offloaded(texts, offload=offload)
            else:
                found = await embedder.aembed(texts)
            return normalised(found, len(texts))
        except Exception as exc:
            self._failed(exc, texts=len(texts), kind="query" if query else "store")
            return None

    def status(self, store: MemoryStore, *, now: float, limit: int) -> EmbeddingStatus:
        """The counters, with ``pending`` read from ``store`` (up to ``limit``)."""
        if limit < 0:
            raise ValueError("limit must be >= 0")
        pending = len(store.missing_vectors(self.space, limit=limit, now=now)) if limit else 0
        with self._lock:
            return dataclasses.replace(self._status, pending=pending, pending_limit=limit)

    def _embed_or_raise(self, texts: Sequence[str]) -> FloatMatrix:
        try:
            return normalised(self.embedder.embed(texts), len(texts))
        except Exception as exc:
            self._failed(exc, texts=len(texts), kind="reindex")
            raise

    async def _aembed_or_raise(self, texts: Sequence[str]) -> FloatMatrix:
        try:
            return normalised(await self.embedder.aembed(texts), len(texts))
        except Exception as exc:
            self._failed(exc, texts=len(texts), kind="reindex")
            raise

    def reindex(self, store: MemoryStore, *, batch_size: int, now: Callable[[], float]) -> int:
        """Embed every memory without a vector from this embedder; returns how many.

        Raises:
            Exception: What the embedder raised (recorded; what was done so far is kept).
        """
        done = 0
        seen: set[int] = set()
        while True:
            todo = store.missing_vectors(self.space, limit=batch_size, now=now())
            todo = [m for m in todo if m.id not in seen]
            if not todo:
                return done
            vectors = self._embed_or_raise([m.text for m in todo])
            store.set_vectors([m.id for m in todo], self.space, vectors)
            seen.update(m.id for m in todo)
            done += len(todo)

    async def areindex(
        self,
        store: MemoryStore,
        *,
        batch_size: int,
        now: Callable[[], float],
        offload: Callable[..., Awaitable[Any]],
    ) -> int:
        """Async twin of :meth:`reindex`; store calls go through ``offload``."""
        done = 0
        seen: set[int] = set()
        while True:
            todo = await offload(
                functools.partial(store.missing_vectors, self.space, limit=batch_size, now=now())
            )
            todo = [m for m in todo if m.id not in seen]
            if not todo:
                return done
            vectors = await self._aembed_or_raise([m.text for m in todo])
            await offload(store.set_vectors, [m.id for m in todo], self.space, vectors)
            seen.update(m.id for m in todo)
            done += len(todo)
