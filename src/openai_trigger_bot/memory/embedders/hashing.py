"""The offline default embedder: feature hashing of words and character n-grams.

It needs no network, no model file and no dependency beyond numpy, and embeds a short text
in tens of microseconds. The price is that it is **lexical only**: two texts are similar when
they share words or word pieces ("refund" and "refunds" share character trigrams), never
because they mean the same thing. A question that shares no word with a memory scores about zero
("How can I get my money back?" does not find "Refunds take five days"). Recency still brings recent
memories in.

To rank by meaning, switch to :class:`~openai_trigger_bot.memory.OpenAIEmbedder` (or any
object implementing :class:`~openai_trigger_bot.memory.Embedder`, such as a local static model
like wordllama wrapped in a few lines) and call
:meth:`~openai_trigger_bot.memory.MemoryManager.reindex` once to re-embed what is stored.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..records import FloatMatrix

if TYPE_CHECKING:
    from ..._run.offload import Offload

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"\w+")
_SEEDS = (0, 0x9E3779B9)
_HALF = 0.5**0.5
_INLINE = 32  # texts embedded on the event loop (~30 µs each) before moving to a thread


@lru_cache(maxsize=1 << 16)
def _word_features(
    word: str, dimensions: int, ngram: int, char_weight: float
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Bucket indices and signed weights of one word and its character n-grams.

    Each feature goes to two buckets at half weight (two CRC-32s with different seeds): a
    chance collision between unrelated features then moves a score half as far.
    """
    grams = [word.encode()]
    padded = f"<{word}>"
    grams += [b"#" + padded[i : i + ngram].encode() for i in range(len(padded) - ngram + 1)]
    indices: list[int] = []
    weights: list[float] = []
    for position, gram in enumerate(grams):
        weight = _HALF if position == 0 else _HALF * char_weight
        for seed in _SEEDS:
            h = zlib.crc32(gram, seed)
            indices.append(h % dimensions)
            # The top bit picks a sign, so collisions cancel out on average.
            weights.append(-weight if h & 0x80000000 else weight)
    return tuple(indices), tuple(weights)


class HashingEmbedder:
    """Feature hashing of lower-cased word unigrams and character n-grams, L2-normalised.

    Deterministic across processes and machines (CRC-32, not Python's salted ``hash``).

    Args:
        dimensions: The vector length (384 by default).
        ngram: The character n-gram length (inside ``<word>``); 0 for words only.
        char_weight: The weight of each n-gram relative to a whole word.
    """

    def __init__(self, dimensions: int = 384, *, ngram: int = 3, char_weight: float = 0.35):
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self._dimensions = dimensions
        self._ngram = ngram
        self._char_weight = char_weight

    min_relevance = 0.1
    """Cosine below which a memory is noise rather than a match (measured on short texts:
    chance collisions stay mostly under 0.1, one shared word scores 0.15-0.3)."""

    @property
    def name(self) -> str:
        """``hashing-v2-<dimensions>-<ngram>``."""
        return f"hashing-v2-{self._dimensions}-{self._ngram}-{self._char_weight:g}"

    @property
    def dimensions(self) -> int:
        """The vector length."""
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.embed`; a text without words gets a zero vector."""
        d = self._dimensions
        out = np.zeros((len(texts), d), np.float32)
        for row, text in enumerate(texts):
            indices: list[int] = []
            weights: list[float] = []
            for word in _WORD.findall(text.lower()):
                i, w = _word_features(word, d, self._ngram, self._char_weight)
                indices += i
                weights += w
            if indices:
                out[row] = np.bincount(indices, weights, minlength=d)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    async def aembed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.aembed`: a few texts inline, larger batches in a thread."""
        return await self.aembed_offloaded(texts, offload=asyncio.to_thread)

    async def aembed_offloaded(self, texts: Sequence[str], *, offload: Offload) -> FloatMatrix:
        """See :class:`OffloadingEmbedder`: a few texts inline, larger batches through
        ``offload``."""
        if len(texts) <= _INLINE:
            return self.embed(texts)
        return await offload(self.embed, texts)
