"""Memory: what triggers recall and what runs leave behind.

- :class:`MemoryManager`: remember, select a bounded mix of recent and relevant memories for a
  :class:`MemoryRequest`, render them as one prompt block, capture runs and governed outcomes,
  and count outcomes for ``history`` rules (:attr:`MemoryManager.history`).
- Stores (:class:`MemoryStore`): :class:`SQLiteMemoryStore` (the default for persistence),
  :class:`FileMemoryStore` (one JSON file), :class:`InMemoryMemoryStore`.
- Embedders (:class:`Embedder`): :class:`HashingEmbedder` (offline default, lexical only),
  :class:`OpenAIEmbedder`.

::

    memory = MemoryManager("bot-memory.db")                   # SQLite, offline embedder
    memory = MemoryManager(store=FileMemoryStore("bot-memory.json"),
                           embedder=OpenAIEmbedder(client))    # JSON file, OpenAI embeddings
    memory = MemoryManager()                                   # in memory only (tests)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .embedders import Embedder, HashingEmbedder, OpenAIEmbedder
    from .errors import (
        EmbeddingError,
        MemoryFileError,
        MemoryPathError,
        MemorySchemaError,
        MemoryStoreError,
    )
    from .file import FileMemoryStore
    from .history import StoreHistory
    from .inmemory import InMemoryMemoryStore
    from .manager import CAPTURE_KINDS, DEFAULT_TTLS, CacheInfo, EmbeddingStatus, MemoryManager
    from .records import Memory, NewMemory, OutcomeRecord, ScopeVersion, VectorBatch, content_hash
    from .request import MemoryRequest
    from .sqlite import SQLiteMemoryStore
    from .store import MemoryStore

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".embedders": ("Embedder", "HashingEmbedder", "OpenAIEmbedder"),
        ".errors": (
            "EmbeddingError",
            "MemoryFileError",
            "MemoryPathError",
            "MemorySchemaError",
            "MemoryStoreError",
        ),
        ".file": ("FileMemoryStore",),
        ".history": ("StoreHistory",),
        ".inmemory": ("InMemoryMemoryStore",),
        ".manager": (
            "CAPTURE_KINDS",
            "DEFAULT_TTLS",
            "CacheInfo",
            "EmbeddingStatus",
            "MemoryManager",
        ),
        ".records": (
            "Memory",
            "NewMemory",
            "OutcomeRecord",
            "ScopeVersion",
            "VectorBatch",
            "content_hash",
        ),
        ".request": ("MemoryRequest",),
        ".sqlite": ("SQLiteMemoryStore",),
        ".store": ("MemoryStore",),
    },
)

__all__ = [
    "CAPTURE_KINDS",
    "DEFAULT_TTLS",
    "CacheInfo",
    "Embedder",
    "EmbeddingError",
    "EmbeddingStatus",
    "FileMemoryStore",
    "HashingEmbedder",
    "InMemoryMemoryStore",
    "Memory",
    "MemoryFileError",
    "MemoryManager",
    "MemoryPathError",
    "MemoryRequest",
    "MemorySchemaError",
    "MemoryStore",
    "MemoryStoreError",
    "NewMemory",
    "OpenAIEmbedder",
    "OutcomeRecord",
    "SQLiteMemoryStore",
    "ScopeVersion",
    "StoreHistory",
    "VectorBatch",
    "content_hash",
]
