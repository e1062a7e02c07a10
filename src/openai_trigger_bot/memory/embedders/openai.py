"""Embeddings from the OpenAI API, batched within its limits and cached by content hash."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import openai

from ..._run.offload import Offload, to_thread
from ..._run.sync import LoopRunner
from ..errors import EmbeddingError
from ..records import FloatMatrix
from ._limits import (
    MAX_INPUT_TOKENS,
    MAX_INPUTS,
    MAX_REQUEST_TOKENS,
    Piece,
    combine,
    pack,
    split,
    utf8_bytes,
)

__all__ = ["OpenAIEmbedder"]

log = logging.getLogger(__name__)

_NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass
class _Job:
    """One call's work: its cache keys and hits, the inputs to send (a long text's pieces
    are several inputs of one owner) in batches, and the rows the API sent back so far."""

    keys: list[bytes]
    hits: dict[bytes, FloatMatrix]
    inputs: list[str] = field(default_factory=list)
    owners: list[bytes] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    batches: list[list[int]] = field(default_factory=list)
    rows: dict[int, FloatMatrix] = field(default_factory=dict)


class OpenAIEmbedder:
    """An :class:`~openai_trigger_bot.memory.Embedder` over ``client.embeddings.create``.

    Texts already embedded (same exact text) come from an in-process LRU cache keyed by
    sha256; the others are deduplicated and sent in requests within the API's limits: at most
    ``batch_size`` inputs and ``max_request_tokens`` tokens per request, ``max_input_tokens``
    per input, as counted by ``count_tokens`` (default: UTF-8 bytes, a count that never
    undercounts, so no request is refused for its size; see :mod:`._limits`). Vectors are
    requested as base64 float32 (4 bytes per dimension on the wire) and L2-normalised.

    A text over ``max_input_tokens`` is split at character boundaries (at whitespace near each
    cut when there is one) into pieces within the limit; its vector is the pieces' vectors
    averaged, weighted by their token counts, and normalised, so every part of the text counts.
    With ``long_inputs="truncate"`` only its first piece is embedded instead (cheaper; the rest
    of the text is not searchable). Either way the text is counted in :attr:`long_inputs` and
    logged once as a warning (its length and hash, never its content).

    When a request fails, the vectors of the requests that succeeded stay cached, so a retry
    (``MemoryManager.reindex()``) sends only what is missing.

    Args:
        client: An ``openai.OpenAI`` or ``openai.AsyncOpenAI``. With a sync client,
            :meth:`aembed` calls it in a worker thread; with an async client, :meth:`embed`
            runs it on a private event loop of the calling thread (not inside a running loop);
            :meth:`close` closes those loops (the client stays open: it is the caller's).
            Its own retries (``max_retries``) cover transient errors.
        model: The embedding model.
        dimensions: Shorter vectors (``text-embedding-3-*`` only); the model's own length
            when omitted.
        batch_size: Inputs per request (the API takes up to 2,048).
        cache_size: Vectors kept in the cache (0 disables it).
        count_tokens: Tokens in a text; must never count fewer than the model's tokenizer
            (``lambda t: len(encoding.encode(t))`` with tiktoken is exact).
        max_input_tokens: Tokens per input (the API's limit: 8,192).
        max_request_tokens: Tokens per request, all inputs together (the API's: 300,000).
        long_inputs: ``"split"`` (default) or ``"truncate"`` a text over ``max_input_tokens``.
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI,
        *,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        batch_size: int = 256,
        cache_size: int = 4096,
        count_tokens: Callable[[str], int] = utf8_bytes,
        max_input_tokens: int = MAX_INPUT_TOKENS,
        max_request_tokens: int = MAX_REQUEST_TOKENS,
        long_inputs: Literal["split", "truncate"] = "split",
    ) -> None:
        if not isinstance(client, (openai.OpenAI, openai.AsyncOpenAI)):
            raise TypeError(f"expected an OpenAI or AsyncOpenAI client, got {type(client)!r}")
        if not 1 <= batch_size <= MAX_INPUTS:
            raise ValueError(f"batch_size must be between 1 and {MAX_INPUTS}")
        if not 1 <= max_input_tokens <= max_request_tokens:
            raise ValueError("need 1 <= max_input_tokens <= max_request_tokens")
        if long_inputs not in ("split", "truncate"):
            raise ValueError(f"long_inputs must be 'split' or 'truncate', got {long_inputs!r}")
        if not callable(count_tokens):
            raise TypeError("count_tokens must be a callable taking a str, returning an int")
        self.client = client
        self.model = model
        self._requested = dimensions
        self._dimensions = dimensions or _NATIVE_DIMENSIONS.get(model)
        self._batch_size = batch_size
        self._cache_size = cache_size
        self._count = count_tokens
        self._max_input = max_input_tokens
        self._max_request = max_request_tokens
        self._truncate = long_inputs == "truncate"
        self._cache: OrderedDict[bytes, FloatMatrix] = OrderedDict()
        self._lock = threading.Lock()
        self._loops = LoopRunner("OpenAIEmbedder")
        self.requests = 0
        """How many API requests this embedder has sent."""
        self.long_inputs = 0
        """How many texts were over ``max_input_tokens`` (and so split or truncated)."""

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

    def _pieces(self, text: str) -> list[Piece]:
        pieces = split(text, self._max_input, self._count)
        if len(pieces) > 1:
            with self._lock:
                self.long_inputs += 1
            log.warning(
                "embeddings: a text of %d characters (sha256 %s...) is over %d tokens: %s",
                len(text),
                _key(text).hex()[:12],
                self._max_input,
                "only its first piece is embedded"
                if self._truncate
                else f"embedded as {len(pieces)} pieces, their vectors averaged",
            )
            if self._truncate:
                pieces = pieces[:1]
        return pieces

    def _plan(self, texts: Sequence[str]) -> _Job:
        """Cache keys of ``texts``, the cache hits, and the distinct texts to embed in batches
        within the API's limits."""
        job = _Job([_key(t) for t in texts], {})
        missing: dict[bytes, str] = {}
        with self._lock:
            for key, text in zip(job.keys, texts, strict=True):
                vector = self._cache.get(key)
                if vector is not None:
                    job.hits[key] = vector
                    self._cache.move_to_end(key)
                elif key not in missing:
                    missing[key] = text or " "  # the API refuses empty strings
        for key, text in missing.items():
            for piece, tokens in self._pieces(text):
                job.inputs.append(piece)
                job.owners.append(key)
                job.tokens.append(tokens)
        job.batches = pack(
            range(len(job.inputs)),
            job.tokens,
            max_inputs=self._batch_size,
            max_tokens=self._max_request,
        )
        return job

    def _request(self, job: _Job, batch: list[int]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "input": [job.inputs[i] for i in batch],
            "model": self.model,
            "encoding_format": "base64",
        }
        if self._requested is not None:
            body["dimensions"] = self._requested
        return body

    def _absorb(self, job: _Job, batch: list[int], response: Any) -> None:
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
        for i, vector in zip(batch, matrix, strict=True):
            job.rows[i] = vector

    def _finish(self, job: _Job) -> dict[bytes, FloatMatrix]:
        """The vectors of the texts whose every piece came back, now in the cache too (also
        after a failed request, so a retry sends only what is missing)."""
        parts: dict[bytes, list[int]] = {}
        for i, owner in enumerate(job.owners):
            parts.setdefault(owner, []).append(i)
        found: dict[bytes, FloatMatrix] = {}
        for key, indices in parts.items():
            if all(i in job.rows for i in indices):
                if len(indices) == 1:
                    found[key] = job.rows[indices[0]]
                else:
                    rows = np.vstack([job.rows[i] for i in indices])
                    found[key] = combine(rows, [job.tokens[i] for i in indices])
        if self._cache_size > 0 and found:
            with self._lock:
                self._cache.update(found)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return found

    def _assemble(self, job: _Job, found: dict[bytes, FloatMatrix]) -> FloatMatrix:
        if not job.keys:
            return np.empty((0, self._dimensions or 0), np.float32)
        return np.vstack([found[k] if k in found else job.hits[k] for k in job.keys])

    # -- the drivers -------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.embed`."""
        client = self.client
        if isinstance(client, openai.AsyncOpenAI):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._loops.run(self.aembed(texts))
            raise EmbeddingError(
                "embed() with an AsyncOpenAI client inside a running event loop: await aembed()"
            )
        job = self._plan(texts)
        try:
            for batch in job.batches:
                self.requests += 1
                try:
                    response = client.embeddings.create(**self._request(job, batch))
                except openai.OpenAIError as exc:
                    raise EmbeddingError(f"OpenAI embeddings request failed: {exc}") from exc
                self._absorb(job, batch, response)
        finally:
            found = self._finish(job)
        return self._assemble(job, found)

    def close(self) -> None:
        """Close the private event loops :meth:`embed` ran an async client on (idempotent)."""
        self._loops.close()

    async def aembed(self, texts: Sequence[str]) -> FloatMatrix:
        """See :meth:`Embedder.aembed` (a sync client is called in a worker thread)."""
        return await self.aembed_offloaded(texts, offload=to_thread)

    async def aembed_offloaded(self, texts: Sequence[str], *, offload: Offload) -> FloatMatrix:
        """See :class:`OffloadingEmbedder`: a sync client is called through ``offload``."""
        client = self.client
        if not isinstance(client, openai.AsyncOpenAI):
            return await offload(self.embed, texts)
        job = self._plan(texts)
        try:
            for batch in job.batches:
                self.requests += 1
                try:
                    response = await client.embeddings.create(**self._request(job, batch))
                except openai.OpenAIError as exc:
                    raise EmbeddingError(f"OpenAI embeddings request failed: {exc}") from exc
                self._absorb(job, batch, response)
        finally:
            found = self._finish(job)
        return self._assemble(job, found)
