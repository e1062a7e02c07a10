"""Keeping embedding requests within the API's limits: pure functions, no I/O.

The embeddings endpoint refuses a request with more than 2,048 inputs, an input over 8,192
tokens, or more than 300,000 tokens in all (each a 400 for the whole request). Token counts
come from a ``count_tokens`` callable; the default, :func:`utf8_bytes`, never undercounts:
every token of OpenAI's byte-level BPE encodings covers at least one UTF-8 byte, so a text of
``n`` bytes has at most ``n`` tokens. It overcounts (English averages about four bytes a
token), so requests are smaller and long texts are split earlier than an exact count would
need; pass ``tiktoken.get_encoding("cl100k_base").encode`` wrapped in ``len`` for exact counts.

- :func:`split`: a text over the per-input limit in pieces within it, cut at character
  boundaries (at the last whitespace near the cut when there is one).
- :func:`pack`: inputs in requests within both the input and the token limit, in order.
- :func:`combine`: one unit vector from the pieces' vectors, weighted by their token counts
  (the OpenAI cookbook's "embedding texts longer than the model's maximum context length").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from ..errors import EmbeddingError
from ..records import FloatMatrix

__all__ = [
    "MAX_INPUTS",
    "MAX_INPUT_TOKENS",
    "MAX_REQUEST_TOKENS",
    "Piece",
    "combine",
    "pack",
    "split",
    "utf8_bytes",
]

T = TypeVar("T")

MAX_INPUTS = 2048
"""Inputs per embeddings request (the API's limit)."""
MAX_INPUT_TOKENS = 8192
"""Tokens per input (the limit of ``text-embedding-3-*`` and ``ada-002``)."""
MAX_REQUEST_TOKENS = 300_000
"""Tokens per embeddings request, all inputs together (the API's limit)."""

Piece = tuple[str, int]
"""A text to send and its token count."""

_WHITESPACE_WINDOW = 10
"""A cut moves back to the last whitespace within the piece's last 1/10th, if any."""


def utf8_bytes(text: str) -> int:
    """A token count that never undercounts: the text's UTF-8 length in bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


def _longest(text: str, start: int, limit: int, count: Callable[[str], int]) -> int:
    """The largest ``end`` with ``count(text[start:end]) <= limit``: galloping, then
    bisection, so no count reads much more than twice a piece (never the whole long text)."""
    good, step, bad = start, max(limit, 1), len(text) + 1
    while True:
        probe = min(good + step, len(text))
        if count(text[start:probe]) > limit:
            bad = probe
            break
        good, step = probe, step * 2
        if good == len(text):
            return good
    while bad - good > 1:
        middle = (good + bad) // 2
        if count(text[start:middle]) <= limit:
            good = middle
        else:
            bad = middle
    return good


def _at_whitespace(text: str, start: int, end: int) -> int:
    """``end`` moved back just past the last whitespace in the piece's last tenth, if any."""
    low = end - max((end - start) // _WHITESPACE_WINDOW, 1)
    for i in range(end - 1, max(low, start), -1):
        if text[i].isspace():
            return i + 1
    return end


def split(text: str, limit: int, count: Callable[[str], int] = utf8_bytes) -> list[Piece]:
    """``text`` in pieces of at most ``limit`` tokens each (one piece when it fits).

    Pieces are consecutive and together are exactly ``text``.

    Raises:
        EmbeddingError: A single character counts more than ``limit`` tokens.
    """
    tokens = count(text)
    if tokens <= limit:
        return [(text, tokens)]
    pieces: list[Piece] = []
    start = 0
    while start < len(text):
        end = _longest(text, start, limit, count)
        if end == start:
            raise EmbeddingError(
                f"character {text[start]!r} counts more than {limit} tokens: raise the limit"
            )
        if end < len(text):
            moved = _at_whitespace(text, start, end)
            if moved < end and count(text[start:moved]) <= limit:
                end = moved
        piece = text[start:end]
        pieces.append((piece, count(piece)))
        start = end
    return pieces


def pack(
    items: Sequence[T], tokens: Sequence[int], *, max_inputs: int, max_tokens: int
) -> list[list[T]]:
    """``items`` in order, in consecutive batches of at most ``max_inputs`` items and
    ``max_tokens`` tokens (an item alone over ``max_tokens`` still gets a batch of its own;
    :func:`split` keeps that from happening)."""
    batches: list[list[T]] = []
    batch: list[T] = []
    total = 0
    for item, n in zip(items, tokens, strict=True):
        if batch and (len(batch) >= max_inputs or total + n > max_tokens):
            batches.append(batch)
            batch, total = [], 0
        batch.append(item)
        total += n
    if batch:
        batches.append(batch)
    return batches


def combine(vectors: FloatMatrix, weights: Sequence[int]) -> FloatMatrix:
    """One L2-normalised vector: the pieces' vectors averaged, weighted by token count."""
    w = np.asarray(weights, np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    mean = np.average(np.asarray(vectors, np.float64), axis=0, weights=w)
    norm = float(np.linalg.norm(mean))
    out: FloatMatrix = (mean / norm if norm > 0 else mean).astype(np.float32)
    return out
