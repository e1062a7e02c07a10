"""The records that cross the memory store boundary.

They are frozen dataclasses (with slots) rather than pydantic models: a store builds one per
row it returns and a bulk load builds hundreds of thousands, so construction cost matters.
Mappings inside a record (``metadata``) are plain dicts: treat them as read-only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "CAPTURE_KINDS",
    "Memory",
    "NewMemory",
    "OutcomeRecord",
    "ScopeVersion",
    "VectorBatch",
    "content_hash",
]

FloatMatrix = npt.NDArray[np.float32]

CAPTURE_KINDS: tuple[str, ...] = ("trigger_run", "action", "tool_outcome")
"""The kinds of automatic captures (runs, executed actions, other outcomes of governed calls).

Every other kind (``fact``, your own) is a *kept* memory: something the bot or its code chose
to remember. Recall gives captures their own share of the recent slots so they never crowd
kept memories out (see :class:`~openai_trigger_bot.memory.MemoryRequest`)."""
IdArray = npt.NDArray[np.int64]
TimeArray = npt.NDArray[np.float64]


def content_hash(text: str, key: str | None = None) -> str:
    """The dedup identity of a memory: sha256 over its exact text (and ``key``, when given).

    Two memories in one scope with the same hash are the same memory: the second is not
    stored. ``key`` keeps apart texts that are equal but describe different things (automatic
    captures pass the run or call id, so the same outcome twice is remembered twice).

    Returns:
        64 lowercase hex characters.
    """
    digest = hashlib.sha256(text.encode())
    if key:
        digest.update(b"\x00" + key.encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Memory:
    """One stored memory.

    Attributes:
        id: The store's id (increasing in insertion order).
        scope: The scope it belongs to (``"global"``, ``"user:alice"``...).
        text: What is remembered.
        kind: ``"fact"``, ``"trigger_run"``, ``"action"``, ``"tool_outcome"`` or your own.
        created_at: Epoch seconds when it was remembered.
        source: Where it came from (``"run:<id>"``, ``"call:<id>"``, a user id...), if known.
        metadata: Further JSON data (read-only).
        expires_at: Epoch seconds after which it is forgotten (``None``: never).
        content_hash: Its dedup identity (see :func:`content_hash`).
    """

    id: int
    scope: str
    text: str
    kind: str
    created_at: float
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)
    expires_at: float | None = None
    content_hash: str = ""

    def expired(self, now: float) -> bool:
        """Whether the memory has expired at ``now``."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True, eq=False)
class NewMemory:
    """A memory to add (the store assigns the id).

    Attributes:
        scope: See :class:`Memory`.
        text: See :class:`Memory`.
        kind: See :class:`Memory`.
        created_at: See :class:`Memory`.
        content_hash: See :func:`content_hash`.
        source: See :class:`Memory`.
        metadata: See :class:`Memory`.
        expires_at: See :class:`Memory`.
        vector: The L2-normalised float32 embedding, or ``None`` when embedding failed.
        embedder: The name of the embedder that made ``vector``.
    """

    scope: str
    text: str
    kind: str
    created_at: float
    content_hash: str
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None
    vector: FloatMatrix | None = None
    embedder: str | None = None

    @classmethod
    def create(
        cls,
        text: str,
        *,
        scope: str,
        kind: str,
        now: float,
        ttl: float | None = None,
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> NewMemory:
        """A validated memory created at ``now`` (text stripped, hash and expiry computed).

        Args:
            ttl: Seconds to live (``None`` or ``math.inf``: never expires).

        Raises:
            ValueError: Empty text, scope or kind, non-JSON metadata, or a non-positive ttl.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a memory needs non-empty text")
        if not scope or not kind:
            raise ValueError("scope and kind must be non-empty strings")
        meta = dict(metadata or {})
        try:
            json.dumps(meta)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"memory metadata must be JSON data: {exc}") from exc
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive (math.inf: never expires)")
        text = text.strip()
        return cls(
            scope=scope,
            text=text,
            kind=kind,
            created_at=now,
            content_hash=content_hash(text, key),
            source=source,
            metadata=meta,
            expires_at=None if ttl is None or math.isinf(ttl) else now + ttl,
        )

    def stored(self, memory_id: int) -> Memory:
        """The :class:`Memory` this becomes once stored under ``memory_id``."""
        return Memory(
            id=memory_id,
            scope=self.scope,
            text=self.text,
            kind=self.kind,
            created_at=self.created_at,
            source=self.source,
            metadata=self.metadata,
            expires_at=self.expires_at,
            content_hash=self.content_hash,
        )


class ScopeVersion(NamedTuple):
    """Where a scope stands, for the vector cache.

    Attributes:
        reset: Bumped when the scope's rows change other than by appending (deletes, purges,
            new vectors): a cached matrix must be reloaded.
        cursor: The position of the scope's last appended row (the SQLite store uses the row
            id): rows after a cached cursor can be appended to the cached matrix.
    """

    reset: int = 0
    cursor: int = 0


class VectorBatch(NamedTuple):
    """A scope's vectors from one embedder (rows in any order), read in one snapshot.

    Attributes:
        ids: Memory ids (int64).
        vectors: One L2-normalised float32 row per id.
        expires: Expiry per id (float64 epoch seconds; ``inf`` when the memory never expires).
        version: The scope's version in the same snapshot.
    """

    ids: IdArray
    vectors: FloatMatrix
    expires: TimeArray
    version: ScopeVersion

    @classmethod
    def empty(cls, dimensions: int, version: ScopeVersion) -> VectorBatch:
        """A batch with no rows (``dimensions`` 0 when unknown)."""
        return cls(
            np.empty(0, np.int64),
            np.empty((0, dimensions), np.float32),
            np.empty(0, np.float64),
            version,
        )

    @classmethod
    def build(
        cls,
        rows: list[tuple[int, float | None, bytes]],
        version: ScopeVersion,
    ) -> VectorBatch:
        """A batch from ``(id, expires_at, float32 vector bytes)`` rows of one dimension."""
        if not rows:
            return cls.empty(0, version)
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        expires = np.fromiter(
            (math.inf if r[1] is None else r[1] for r in rows), np.float64, len(rows)
        )
        vectors = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), -1)
        return cls(ids, vectors, expires, version)


class OutcomeRecord(NamedTuple):
    """One outcome of a governed call, for ``history`` conditions.

    Attributes:
        action: The action (tool) name.
        status: The event status (``executed``, ``tool_error``...).
        target: The affected resource, when known.
        at: Epoch seconds.
    """

    action: str
    status: str
    target: str | None
    at: float
