"""Embeddings from the OpenAI API, batched and cached by content hash."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import openai

from ...models.openai import inline_sync_calls
from ..errors import EmbeddingError
from ..records import FloatMatrix

__all__ = ["OpenAIEmbedder"]

_NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class OpenAIEmbedder:
    """An :class:`~openai_trigger_bot.memory.Embedder` over ``client.embeddings.create``.

    Texts already embedded (same exact text) come from an in-process LRU cache keyed by
    sha256; the others are deduplicated and sent in batches of ``batch_size`` inputs per
    request. Vectors are requested as base64 float32 (4 bytes per dimension on the wire) and
    L2-normalised.

    Args:
        client: An ``openai.OpenAI`` or ``openai.AsyncOpenAI``. With a sync client,
            :meth:`aembed` calls it in a worker thread; with an async client, :meth:`embed`
            runs it on a private event loop of the calling thread (not inside a running loop).
        model: The embedding model.
        dimensions: Shorter vectors (``text-embedding-3-*`` only); the model's own length
            when omitted.
        batch_size: Inputs per request (the API takes up to 2048).
        cache_size: Vectors kept in the cache (0 disables it).
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI,
        *,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        batch_size: int = 256,
        cache_size: int = 4096,
    ) -> None:
        if not isinstance(client, (openai.OpenAI, openai.AsyncOpenAI)):
            raise TypeError(f"expected an OpenAI or AsyncOpenAI client, got {type(client)!r}")
        if not 1 <= batch_size <= 2048:
            raise ValueError("batch_size must be between 1 and 2048")
        self.client = client
        self.model = model
        self._requested = dimensions
        self._dimensions = dimensions or _NATIVE_DIMENSIONS.get(model)
        self._batch_size = batch_size
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, FloatMatrix] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0
        """How many API requests this embedder has sent."""

    @property
    def name(self) -> str:
        """``openai:<model>:<dimensions>``."""
        return f"openai:{self.model}:{self._dimensions or 'native'}"

    @property
    def dimensions(self) -> int:
        """The vector length (known up front for ``dimensions=`` or a known model).

        Raises:
            EmbeddingError: An unknown model without ``dimensions=``, before its first answer.
        """
        if self._dimensions is None:
            raise EmbeddingError(f"dimensions of {self.model!r} are not known: pass dimensions=")
        return self._dimensions

    # -- the pure part: cache lookups, batching, decoding ------------------------------------

    def _plan(
        self, texts: Sequence[str]
    ) -> tuple[list[bytes], dict[bytes, FloatMatrix], list[list[tuple[bytes, str]]]]:
        """Cache keys of ``texts``, the cache hits, and batches of distinct texts to embed."""
        keys = [_key(t) for t in texts]
        hits: dict[bytes, FloatMatrix] = {}
        missing: dict[bytes, str] = {}
        with self._lock:
            for key, text in zip(keys, texts, strict=True):
                vector = self._cache.get(key)
                if vector is not None:
                    hits[key] = vector
                    self._cache.move_to_end(key)
                elif key not in missing:
                    missing[key] = text or " "  # the API refuses empty strings
        todo = list(missing.items())
        size = self._batch_size
        return keys, hits, [todo[i : i + size] for i in range(0, len(todo), size)]

    def _request(self, batch: list[tuple[bytes, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "input": [text for _, text in batch],
            "model": self.model,
            "encoding_format": "base64",
        }
        if self._requested is not None:
            body["dimensions"] = self._requested
        return body

    def _absorb(
        self, batch: list[tuple[bytes, str]], response: Any, found: dict[bytes, FloatMatrix]
    ) -> None:
        data = sorted(getattr(response, "data", None) or [], key=lambda e: e.index)
        if len(data) != len(batch):
            raise EmbeddingError(f"the API returned {len(data)} embeddings for {len(batch)} texts")
        rows = []
        for entry in data:
            raw = entry.embedding
            if isinstance(raw, str):
                rows.append(np.frombuffer(base64.b64decode(raw), "<f4"))
            else:
                rows.append(np.asarray(raw, np.float32))
        if len({r.shape for r in rows}) != 1 or rows[0].size == 0:
            raise EmbeddingError("the API returned embeddings of different or zero lengths")
        matrix = np.vstack(rows).astype(np.float32)
        if self._dimensions is None:
            self._dimensions = int(matrix.shape[1])
        elif matrix.shape[1] != self._dimensions:
            raise EmbeddingError(
                f"the API returned {matrix.shape[1]} dimensions, expected {self._dimensions}"
            )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        np.divide(matrix, norms, out=matrix, where=norms > 0)
        for (key, _), vector in zip(batch, matrix, strict=True):
            found[key] = vector

    def _assemble(
        self, keys: list[bytes], hits: dict[bytes, FloatMatrix], found: dict[bytes, FloatMatrix]
    ) -> FloatMatrix:
        if self._cache_size > 0 and found:
            with self._lock:
                self._cache.update(found)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if not keys:
            return np.empty((0, self._dimensions or 0), np.float32)
        return np.vstack([found[k] if k in found else hits[k] for k in keys])

    # -- the drivers -------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.embed`."""
        client = self.client
        if isinstance(client, openai.AsyncOpenAI):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                from ..._run.sync import run_sync

                return run_sync(self.aembed(texts))
            raise EmbeddingError(
                "embed() with an AsyncOpenAI client inside a running event loop: await aembed()"
            )
        keys, hits, batches = self._plan(texts)
        found: dict[bytes, FloatMatrix] = {}
        for batch in batches:
            self.requests += 1
            try:
                response = client.embeddings.create(**self._request(batch))
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"OpenAI embeddings request failed: {exc}") from exc
            self._absorb(batch, response, found)
        return self._assemble(keys, hits, found)

    async def aembed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.aembed`."""
        client = self.client
        if not isinstance(client, openai.AsyncOpenAI):
            if inline_sync_calls.get():
                return self.embed(texts)
            return await asyncio.to_thread(self.embed, texts)
        keys, hits, batches = self._plan(texts)
        found: dict[bytes, FloatMatrix] = {}
        for batch in batches:
            self.requests += 1
            try:
                response = await client.embeddings.create(**self._request(batch))
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"OpenAI embeddings request failed: {exc}") from exc
            self._absorb(batch, response, found)
        return self._assemble(keys, hits, found)
