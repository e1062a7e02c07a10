"""The ``Embedder`` protocol: text in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..records import FloatMatrix

__all__ = ["Embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; any object with these members can be a manager's embedder.

    Vectors from different embedders are not comparable, so each embedder has a ``name`` that
    identifies its vector space (model and dimensions). Stores keep that name beside every
    vector; a manager only compares vectors made by its own embedder, and
    :meth:`~openai_trigger_bot.memory.MemoryManager.reindex` re-embeds the others after a
    switch.
    """

    @property
    def name(self) -> str:
        """Identifies the vector space, e.g. ``"openai:text-embedding-3-small:384"``."""
        ...

    @property
    def dimensions(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """One row per text: a float32 array of shape ``(len(texts), dimensions)``.

        Raises:
            EmbeddingError: The texts could not be embedded.
        """
        ...

    async def aembed(self, texts: Sequence[str]) -> FloatMatrix:
        """Like :meth:`embed`, without blocking the event loop."""
        ...
