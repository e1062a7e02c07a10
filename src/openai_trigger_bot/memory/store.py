"""The ``MemoryStore`` protocol: what :class:`~openai_trigger_bot.memory.MemoryManager` needs.

Implementations: :class:`~openai_trigger_bot.memory.SQLiteMemoryStore` (the default for
persistence), :class:`~openai_trigger_bot.memory.FileMemoryStore` (one JSON file) and
:class:`~openai_trigger_bot.memory.InMemoryMemoryStore` (tests, ephemeral bots). One contract
test suite (``tests/memory/test_store_contract.py``) runs against all of them.

The manager calls a store from worker threads (its async methods run store calls through
``asyncio.to_thread``), so a store must be thread-safe. Stores do no ranking: the manager keeps
each queried scope's vectors in one numpy matrix and scores them itself, so a store only has to
answer "the newest N of these scopes", "these ids", "what changed in this scope since cursor
C" and "how do the scopes stand" (:meth:`MemoryStore.versions`, one cheap query per select).

Writing a PostgreSQL (+ pgvector) store
---------------------------------------
A ``PostgresMemoryStore`` slots in without touching the manager:

- ``memories(id bigserial, scope text, seq bigint, kind, text, source, metadata jsonb,
  content_hash text, created_at double precision, expires_at double precision, embedder text,
  vector vector(d) or real[])`` with ``UNIQUE (scope, content_hash)``, a B-tree on
  ``(scope, created_at)`` for :meth:`~MemoryStore.recent` and on ``(scope, seq)`` for
  :meth:`~MemoryStore.load_vectors`; ``memory_scopes(scope primary key, reset, cursor)``;
  ``outcomes(action, at, status, target, rank_action, rank_target)`` ranked as in
  :mod:`._sqlite_outcomes`, so :meth:`~MemoryStore.count_outcomes` is index seeks: a decision
  asks for one count per history window, and a ``count(*)`` over the window would cost as
  much as the window holds. Writers of one key lock its ``outcome_keys`` row first
  (``INSERT ... ON CONFLICT DO UPDATE``, or ``SELECT ... FOR UPDATE``) so ranks stay
  consecutive.
- :meth:`~MemoryStore.add` runs ``INSERT ... ON CONFLICT (scope, content_hash) DO NOTHING``
  and ``UPDATE memory_scopes SET cursor = cursor + 1 ... RETURNING cursor`` in one
  transaction, storing the returned value as the row's ``seq``. The row lock on the scope row
  orders writers per scope, so ``seq`` is commit-ordered (a ``bigserial`` id is not: a
  transaction holding id 10 can commit after one holding id 11, and an incremental load by id
  would miss it). ``load_vectors(after=c)`` is ``WHERE scope = %s AND seq > c ORDER BY seq``
  together with the scope row, in one ``REPEATABLE READ`` transaction.
- Several app servers each keep their own cache; :meth:`~MemoryStore.versions` is one primary
  key lookup per select. ``LISTEN``/``NOTIFY`` can replace that poll later.
- For stores that outgrow one machine's memory, an exact per-scope search can move into the
  database (``ORDER BY vector <=> %s LIMIT k`` filtered by a B-tree on scope; pgvector's HNSW
  index followed by a scope filter returns fewer rows than asked) behind a store method the
  manager prefers when present. Use a connection pool (psycopg) so worker threads do not share
  a connection.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from .records import FloatMatrix, Memory, NewMemory, OutcomeRecord, ScopeVersion, VectorBatch

__all__ = ["MemoryStore", "accepts_captured"]


@runtime_checkable
class MemoryStore(Protocol):
    """Where memories, their vectors and the outcomes of governed calls are kept."""

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        """Store memories, deduplicated per scope by content hash, in one transaction.

        An unexpired memory with the same ``(scope, content_hash)`` is returned instead of
        storing a second one; an expired one is replaced.

        Returns:
            One memory per item, in order: the stored one or the existing duplicate.
        """
        ...

    def recent(
        self, scopes: Sequence[str], limit: int, *, now: float, captured: bool | None = None
    ) -> list[Memory]:
        """The ``limit`` newest unexpired memories of ``scopes``, newest first.

        Args:
            captured: ``True``: only automatic captures (kinds in
                :data:`~openai_trigger_bot.memory.records.CAPTURE_KINDS`); ``False``: only the
                other kinds (kept memories); ``None``: both. Each should be one ordered index
                walk per scope (SQLite: a partial index per share), never a sort of a scope.
                A store written before this argument existed still works: the manager then
                splits one larger ``recent`` answer itself.
        """
        ...

    def get(self, ids: Sequence[int], *, now: float) -> list[Memory]:
        """The unexpired memories with these ids, in the order given (missing ones skipped)."""
        ...

    def versions(self, scopes: Sequence[str]) -> Mapping[str, ScopeVersion]:
        """Each scope's version (``ScopeVersion()`` for a scope never written). Must be cheap."""
        ...

    def load_vectors(self, scope: str, embedder: str, *, after: int = 0) -> VectorBatch:
        """The vectors ``embedder`` made for ``scope``'s memories past cursor ``after``.

        Rows and version are read in one snapshot. Expired rows may be included (their
        ``expires`` says so); memories without a vector from ``embedder`` are left out.
        """
        ...

    def missing_vectors(self, embedder: str, *, limit: int, now: float) -> list[Memory]:
        """Up to ``limit`` unexpired memories without a vector from ``embedder``, oldest first."""
        ...

    def set_vectors(self, ids: Sequence[int], embedder: str, vectors: FloatMatrix) -> None:
        """Replace the vectors of these memories (bumps their scopes' ``reset``)."""
        ...

    def delete(self, ids: Sequence[int]) -> int:
        """Delete memories by id; returns how many were deleted."""
        ...

    def clear(self, scope: str) -> int:
        """Delete every memory of ``scope``; returns how many were deleted."""
        ...

    def purge_expired(self, *, now: float) -> int:
        """Delete memories expired at ``now``; returns how many were deleted."""
        ...

    def count(self, scopes: Sequence[str] | None = None, *, now: float | None = None) -> int:
        """How many memories ``scopes`` hold (all scopes when ``None``; unexpired at ``now``)."""
        ...

    def record_outcomes(self, outcomes: Sequence[OutcomeRecord]) -> None:
        """Append outcomes of governed calls, in one transaction."""
        ...

    def count_outcomes(
        self, action: str, *, since: float, target: str | None = None
    ) -> dict[str, int]:
        """Outcomes of ``action`` at or after ``since`` per status (``target``: only those).

        Called for every decision whose rules use a history window: it must cost O(log n) of
        the outcomes stored, never a walk over the window (the stores here bisect sorted times
        or seek ranked indexes).
        """
        ...

    def prune_outcomes(self, *, before: float) -> int:
        """Delete outcomes recorded before ``before``; returns how many."""
        ...

    def close(self) -> None:
        """Release connections and files (idempotent)."""
        ...


def accepts_captured(store: MemoryStore) -> bool:
    """Whether ``store.recent`` takes ``captured=`` (stores written before it did not)."""
    try:
        parameters = inspect.signature(store.recent).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return "captured" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
