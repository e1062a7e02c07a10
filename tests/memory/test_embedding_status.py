"""No memory loses its vector silently: failures are reported, ``reindex()`` clears them (issue 9).

Before the fix a 400 from the embeddings API (~519k tokens in one request) made
``MemoryManager`` store the whole batch without vectors with only a log line: semantic recall
lost them and nothing said so. Now the embedder keeps requests within the API's limits, and
every failure that remains is counted in ``embedding_status()`` (with how many memories await
``reindex()``) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pytest

from openai_trigger_bot.memory import (
    EmbeddingError,
    EmbeddingStatus,
    HashingEmbedder,
    InMemoryMemoryStore,
    MemoryManager,
    MemoryRequest,
    OpenAIEmbedder,
)
from openai_trigger_bot.testing import ScriptedResponses

from ._helpers import FakeClock
from ._strict_embeddings import StrictEmbeddingsAPI, assert_within_limits

LONG_FACTS = [f"fact {i:04d} about order {i} " + "x" * 7980 for i in range(65)]  # ~519k bytes


class FlakyEmbedder(HashingEmbedder):
    """A hashing embedder whose service can be switched off (sync and async)."""

    def __init__(self) -> None:
        super().__init__(64)
        self.down = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.down:
            raise ConnectionError("embedding service down")
        return super().embed(texts)

    async def aembed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)


def flaky_manager() -> tuple[MemoryManager, FlakyEmbedder, FakeClock]:
    clock = FakeClock()
    embedder = FlakyEmbedder()
    return MemoryManager(InMemoryMemoryStore(), embedder, clock=clock), embedder, clock


def test_the_issues_519k_tokens_all_get_their_vectors() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    memory = MemoryManager(embedder=OpenAIEmbedder(api.client(), dimensions=8))
    stored = memory.remember_many(LONG_FACTS, scope="orders")
    assert api.refused == [] and len(api.requests) == 2
    assert_within_limits(api.requests)
    status = memory.embedding_status()
    assert (status.failures, status.pending, status.needs_reindex) == (0, 0, False)
    assert memory.store.missing_vectors(memory.embedder.name, limit=100, now=2e9) == []
    assert len(stored) == 65


def test_the_scripted_api_embeds_the_issues_batch() -> None:
    """The same against ``testing.ScriptedResponses`` (which refuses what the API refuses)."""
    embedder = OpenAIEmbedder(ScriptedResponses([]).client(), dimensions=64)
    memory = MemoryManager(embedder=embedder)
    stored = memory.remember_many([*LONG_FACTS, "Alice wants a refund for order 7"], scope="o")
    status = memory.embedding_status()
    assert (status.failures, status.not_embedded, status.pending) == (0, 0, 0)
    assert embedder.requests == 2
    request = MemoryRequest(scopes=("o",), recent_limit=0, semantic_limit=1)
    assert memory.select(request, query="refund for Alice") == [stored[-1]]  # by vector


def test_a_failure_is_reported_and_logged_and_reindex_clears_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    memory, embedder, clock = flaky_manager()
    assert memory.embedding_status() == EmbeddingStatus(embedder.name, pending_limit=10_000)
    embedder.down = True
    caplog.set_level(logging.WARNING, "openai_trigger_bot.memory")
    stored = memory.remember_many(["kubernetes upgrade failed", "node 3 drained"], scope="ops")
    query = MemoryRequest(
        scopes=("ops",), recent_limit=0, semantic_limit=1, query="kubernetes upgrade"
    )
    assert memory.select(query) == []  # the query cannot be embedded either
    status = memory.embedding_status()
    assert status.failures == 1 and status.not_embedded == 2 and status.query_failures == 1
    assert status.pending == 2 and status.needs_reindex
    assert status.last_error == "ConnectionError: embedding service down"
    assert status.last_failure_at == clock.now
    messages = [r.getMessage() for r in caplog.records]
    assert any("2 memories stored without a vector" in m and "reindex()" in m for m in messages)
    assert any("recency only" in m for m in messages)

    embedder.down = False
    assert memory.select(query) == []  # still no vectors: semantic recall misses them
    assert memory.reindex() == 2
    after = memory.embedding_status()
    assert after.pending == 0 and not after.needs_reindex
    assert after.failures == 1  # the history stays
    assert memory.select(query) == [stored[0]]


def test_a_failed_reindex_is_counted_and_raised() -> None:
    memory, embedder, _ = flaky_manager()
    embedder.down = True
    memory.remember("rotate the keys", scope="s")
    with pytest.raises(ConnectionError):
        memory.reindex()
    status = memory.embedding_status()
    assert (status.failures, status.not_embedded, status.pending) == (2, 1, 1)


def test_an_api_failure_names_the_api_error() -> None:
    api = StrictEmbeddingsAPI(dimensions=8, fail_on=0)
    memory = MemoryManager(embedder=OpenAIEmbedder(api.client(), dimensions=8))
    memory.remember("Alice prefers e-mail", scope="user:alice")
    status = memory.embedding_status()
    assert status.last_error is not None
    assert status.last_error.startswith("EmbeddingError: OpenAI embeddings request failed")
    assert status.pending == 1
    api.fail_on = len(api.requests)  # the next request fails too
    with pytest.raises(EmbeddingError):
        memory.reindex()
    assert memory.embedding_status().failures == 2
    assert memory.reindex() == 1 and memory.embedding_status().pending == 0


def test_pending_is_counted_up_to_the_limit() -> None:
    memory, embedder, _ = flaky_manager()
    embedder.down = True
    memory.remember_many([f"fact {i}" for i in range(5)], scope="s")
    assert memory.embedding_status(pending_limit=3).pending == 3
    assert memory.embedding_status(pending_limit=0).pending == 0
    assert memory.embedding_status().pending == 5
    with pytest.raises(ValueError):
        memory.embedding_status(pending_limit=-1)


async def test_async_twins_report_and_reindex() -> None:
    memory, embedder, _ = flaky_manager()
    embedder.down = True
    await memory.aremember_many(["queue backlog high", "queue drained"], scope="q")
    await memory.aselect(MemoryRequest(scopes=("q",), query="queue"))
    status = await memory.aembedding_status()
    assert (status.failures, status.not_embedded, status.query_failures) == (1, 2, 1)
    assert status.pending == 2
    embedder.down = False
    assert await memory.areindex() == 2
    assert (await memory.aembedding_status()).pending == 0


async def test_async_remember_with_an_async_client_stays_within_limits() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    memory = MemoryManager(embedder=OpenAIEmbedder(api.async_client(), dimensions=8))
    await memory.aremember_many(LONG_FACTS, scope="orders")
    assert api.refused == []
    assert_within_limits(api.requests)
    assert (await memory.aembedding_status()).pending == 0
