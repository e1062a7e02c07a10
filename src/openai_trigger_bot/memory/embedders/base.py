"""The ``Embedder`` protocol: text in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..records import FloatMatrix

if TYPE_CHECKING:
    from ..._run.offload import Offload

__all__ = ["Embedder", "OffloadingEmbedder"]


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


@runtime_checkable
class OffloadingEmbedder(Protocol):
    """Optional capability of an :class:`Embedder` whose work blocks (a sync client, a batch).

    Within a run the manager calls ``aembed_offloaded`` instead of ``aembed`` on an embedder
    that has it, passing the run's offload seam; an embedder without it is called with
    ``aembed`` and decides for itself how not to block the event loop.
    """

    async def aembed_offloaded(self, texts: Sequence[str], *, offload: Offload) -> FloatMatrix:
        """Like :meth:`Embedder.aembed`, running blocking work through ``offload``
        (``await offload(fn, *args)`` returns ``fn(*args)``)."""
        ...
