"""Embedders: the :class:`Embedder` protocol, the offline default and OpenAI embeddings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import Embedder, OffloadingEmbedder
    from .hashing import HashingEmbedder
    from .openai import OpenAIEmbedder

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".base": ("Embedder", "OffloadingEmbedder"),
        ".hashing": ("HashingEmbedder",),
        ".openai": ("OpenAIEmbedder",),
    },
)

__all__ = ["Embedder", "HashingEmbedder", "OffloadingEmbedder", "OpenAIEmbedder"]
