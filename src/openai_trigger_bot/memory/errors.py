"""What the memory layer raises.

Memory never breaks a run: an embedder failure stores the memory without a vector (recency
still finds it; :meth:`~openai_trigger_bot.memory.MemoryManager.reindex` embeds it later) and a
failed query embedding falls back to recency. Exceptions are for problems a developer must
fix, raised when the store is opened::

    TriggerBotError
    ├── MemoryStoreError        a memory store cannot be used
    │   ├── MemoryPathError     the path cannot hold the store (missing directory, a directory
    │   │                       in its place, no permission); also a StorePathError (and so a
    │   │                       ConfigurationError and an OSError). Nothing is created.
    │   ├── MemoryFileError     the JSON file is corrupt or not a memory file (left untouched)
    │   └── MemorySchemaError   the SQLite file is not a memory database, or has a schema
    │                           version this library cannot use (left untouched)
    └── EmbeddingError          the embedder failed (network, bad answer, wrong dimensions)
"""

from __future__ import annotations

from ..exceptions import StorePathError, TriggerBotError

__all__ = [
    "EmbeddingError",
    "MemoryFileError",
    "MemoryPathError",
    "MemorySchemaError",
    "MemoryStoreError",
]


class MemoryStoreError(TriggerBotError):
    """A memory store cannot be used (the message says what to do)."""


class MemoryPathError(MemoryStoreError, StorePathError):
    """A memory store cannot be opened at its path; the message names it and what to do."""


class MemoryFileError(MemoryStoreError):
    """A JSON memory file is corrupt or belongs to something else; it is never overwritten."""


class MemorySchemaError(MemoryStoreError):
    """A SQLite file is not a memory database or has an unusable schema version."""


class EmbeddingError(TriggerBotError):
    """An embedder could not embed the texts it was given."""
