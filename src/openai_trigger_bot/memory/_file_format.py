"""The JSON layout of :class:`~openai_trigger_bot.memory.FileMemoryStore` files.

::

    {"format": "openai-trigger-bot/memory", "version": 1, "next_id": 3,
     "scopes": {"user:alice": [reset, cursor]},
     "memories": [{"id": 1, "scope": "user:alice", "text": "...", "kind": "fact",
                   "created_at": 1.8e9, "source": null, "metadata": {}, "expires_at": null,
                   "hash": "<sha256>", "embedder": "hashing-384-v1", "vector": "<base64 f32>"}],
     "outcomes": [["refund", "tool_error", "order-7", 1.8e9]]}

Vectors are base64 of little-endian float32 bytes: 4 bytes per dimension instead of ~20 as
JSON numbers, and exact.

``"version"`` is the layout's version. Reading goes through :data:`MIGRATIONS`: a file of an
older version is upgraded in memory, one version at a time, and written back in the current
layout on the next write. A file of a newer version is refused and never written to.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import MemoryFileError
from .inmemory import MemoryState
from .records import Memory, OutcomeRecord, ScopeVersion

__all__ = ["FORMAT", "MIGRATIONS", "VERSION", "dump_state", "load_state"]

FORMAT = "openai-trigger-bot/memory"
VERSION = 1

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""``MIGRATIONS[n]`` turns a version ``n`` document into a version ``n + 1`` one (none yet).

When the layout changes, raise :data:`VERSION` and add the step from the previous version;
never edit a released step."""
_F32 = np.dtype("<f4")


def dump_state(state: MemoryState) -> bytes:
    """The file's bytes for ``state``."""
    memories = []
    for memory in state.memories.values():
        entry = state.vectors.get(memory.id)
        memories.append(
            {
                "id": memory.id,
                "scope": memory.scope,
                "text": memory.text,
                "kind": memory.kind,
                "created_at": memory.created_at,
                "source": memory.source,
                "metadata": memory.metadata,
                "expires_at": memory.expires_at,
                "hash": memory.content_hash,
                "embedder": entry[0] if entry else None,
                "vector": (
                    base64.b64encode(entry[1].astype(_F32).tobytes()).decode() if entry else None
                ),
            }
        )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "next_id": state.next_id,
        "scopes": {scope: list(version) for scope, version in state.scopes.items()},
        "memories": memories,
        "outcomes": [list(o) for o in state.outcomes],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def load_state(raw: bytes, path: str) -> MemoryState:
    """Parse a file's bytes.

    Raises:
        MemoryFileError: The bytes are not JSON, not a memory file, from a newer version, or
            a memory file whose content is damaged.
    """
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MemoryFileError(
            f"{path}: not valid JSON ({exc}); the file was left untouched. Repair it or move it "
            "away to start a new memory file."
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = sorted(document)[:5] if isinstance(document, dict) else type(document).__name__
        raise MemoryFileError(
            f'{path}: not an openai-trigger-bot memory file (no "format": {FORMAT!r}; found '
            f"{found}); it was left untouched. Point FileMemoryStore at another path."
        )
    try:
        return _state(_upgraded(document, path))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MemoryFileError(
            f"{path}: damaged memory file ({type(exc).__name__}: {exc}); it was left untouched."
        ) from exc


def _upgraded(document: dict[str, Any], path: str) -> dict[str, Any]:
    """``document`` in the current layout, through :data:`MIGRATIONS` (in memory only)."""
    found = document.get("version")
    version = found if isinstance(found, int) and not isinstance(found, bool) else None
    if version is not None and version > VERSION:
        raise MemoryFileError(
            f"{path}: memory file version {version}, newer than the version {VERSION} this "
            "release reads (a newer openai-trigger-bot wrote it); the file was left untouched. "
            "Upgrade openai-trigger-bot to read it."
        )
    while version != VERSION:
        step = MIGRATIONS.get(version) if version is not None else None
        if step is None or version is None:
            raise MemoryFileError(
                f"{path}: memory file version {found!r}, which this release cannot read or "
                f"upgrade to version {VERSION}; the file was left untouched. Move it away to "
                "start a new memory file."
            )
        document = step(document)
        version = document["version"] = version + 1
    return document


def _state(document: dict[str, Any]) -> MemoryState:
    state = MemoryState()
    for entry in document["memories"]:
        memory = Memory(
            id=int(entry["id"]),
            scope=str(entry["scope"]),
            text=str(entry["text"]),
            kind=str(entry["kind"]),
            created_at=float(entry["created_at"]),
            source=entry["source"],
            metadata=dict(entry["metadata"] or {}),
            expires_at=None if entry["expires_at"] is None else float(entry["expires_at"]),
            content_hash=str(entry["hash"]),
        )
        vector = None
        if entry.get("vector") is not None:
            data = np.frombuffer(base64.b64decode(entry["vector"], validate=True), _F32)
            vector = (str(entry["embedder"]), data.astype(np.float32))
        state.insert(memory, vector)
    state.next_id = max(state.next_id, int(document["next_id"]))
    for scope, (reset, cursor) in document["scopes"].items():
        state.scopes[str(scope)] = ScopeVersion(int(reset), int(cursor))
    state.record_outcomes(
        [
            OutcomeRecord(str(a), str(s), None if t is None else str(t), float(at))
            for a, s, t, at in document["outcomes"]
        ]
    )
    state.changes = 0
    return state
