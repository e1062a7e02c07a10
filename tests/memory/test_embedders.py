"""Embedders: the offline hashing default and OpenAI embeddings over a mock transport."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.memory import (
    Embedder,
    EmbeddingError,
    FileMemoryStore,
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    OpenAIEmbedder,
)

from ._helpers import EmbeddingsAPI, fake_vector


def unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.linalg.norm(v)
    return out


def test_hashing_vectors_are_normalised_float32_rows() -> None:
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder) and embedder.dimensions == 384
    vectors = embedder.embed(["Refund order 7", "", "!!!"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-6)
    assert not vectors[1].any() and not vectors[2].any()  # no words: a zero vector
    assert embedder.embed([]).shape == (0, 384)


def test_hashing_is_lexical_shared_words_and_word_pieces_score_high() -> None:
    e = HashingEmbedder()
    query, same_words, plural = e.embed(
        ["refund the order", "the order refund was late", "refunds"]
    )
    assert query @ same_words > 0.5
    assert e.embed(["refund"])[0] @ plural > e.min_relevance  # character trigrams
    # The trade-off: no shared word means no match, whatever the meaning.
    question, answer = e.embed(["How can I get my money back?", "Refunds take five days"])
    assert question @ answer < e.min_relevance


def test_hashing_is_the_same_in_another_process_with_another_hash_seed() -> None:
    code = (
        "from openai_trigger_bot.memory import HashingEmbedder;"
        "import sys; v = HashingEmbedder().embed(['Alice likes tea'])[0];"
        "sys.stdout.write(v.tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    here = HashingEmbedder().embed(["Alice likes tea"])[0]
    assert bytes.fromhex(out) == here.tobytes()


async def test_hashing_async_matches_sync_for_small_and_large_batches() -> None:
    e = HashingEmbedder(64)
    texts = [f"text number {i}" for i in range(100)]
    np.testing.assert_array_equal(await e.aembed(texts[:3]), e.embed(texts[:3]))
    np.testing.assert_array_equal(await e.aembed(texts), e.embed(texts))


def test_openai_embedder_batches_and_caches_by_content() -> None:
    api = EmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), batch_size=2, dimensions=8)
    assert embedder.name == "openai:text-embedding-3-small:8" and embedder.dimensions == 8
    texts = ["a", "b", "c", "a", "d", "e"]
    vectors = embedder.embed(texts)
    assert len(api.requests) == 3  # 5 distinct texts in batches of 2
    assert sorted(api.inputs) == ["a", "b", "c", "d", "e"]
    assert all(r["dimensions"] == 8 and r["encoding_format"] == "base64" for r in api.requests)
    assert vectors.shape == (6, 8) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[2], unit(fake_vector("c", 8)), rtol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[3])
    again = embedder.embed(["e", "c", "f"])
    assert len(api.requests) == 4 and api.requests[-1]["input"] == ["f"]
    np.testing.assert_array_equal(again[1], vectors[2])
    assert embedder.requests == 4


def test_openai_embedder_cache_is_bounded() -> None:
    api = EmbeddingsAPI()
    embedder = OpenAIEmbedder(api.client(), dimensions=8, cache_size=2)
    embedder.embed(["a", "b", "c"])
    embedder.embed(["c"])
    assert len(api.requests) == 1
    embedder.embed(["a"])  # evicted
    assert len(api.requests) == 2


async def test_openai_embedder_with_an_async_client() -> None:
    api = EmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.async_client(), model="text-embedding-3-large", batch_size=2)
    assert embedder.dimensions == 3072  # known model, no dimensions asked
    api.dimensions = 3072
    vectors = await embedder.aembed(["x", "y", "z", "x"])
    assert vectors.shape == (4, 3072) and len(api.requests) == 2
    assert "dimensions" not in api.requests[0]
    await embedder.aembed(["z"])
    assert len(api.requests) == 2  # cached
    with pytest.raises(EmbeddingError, match="await aembed"):
        embedder.embed(["inside the loop"])


def test_an_async_client_also_serves_sync_code() -> None:
    api = EmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.async_client(), dimensions=8)
    assert embedder.embed(["one"]).shape == (1, 8)
    assert embedder.embed(["two"]).shape == (1, 8)  # the same private loop, reused
    assert len(api.requests) == 2
    embedder.close()  # the embedder owns that loop: closed here, never left to the collector
    embedder.close()
    with pytest.raises(UsageError, match="OpenAIEmbedder is closed"):
        embedder.embed(["three"])


async def test_a_sync_client_serves_async_code_from_a_thread() -> None:
    api = EmbeddingsAPI(dimensions=8, as_list=True)  # and the API answers with number lists
    embedder = OpenAIEmbedder(api.client(), dimensions=8)
    vectors = await embedder.aembed(["p", "q"])
    np.testing.assert_allclose(vectors[1], unit(fake_vector("q", 8)), rtol=1e-6)


def test_api_failures_and_bad_answers_become_embedding_errors() -> None:
    failing = OpenAIEmbedder(EmbeddingsAPI(fail=500).client(), dimensions=8)
    with pytest.raises(EmbeddingError, match="request failed"):
        failing.embed(["x"])
    wrong = OpenAIEmbedder(EmbeddingsAPI(dimensions=4).client(), dimensions=8)
    wrong._requested = None  # the API ignores our length: answers 4 dimensions
    with pytest.raises(EmbeddingError, match="4 dimensions, expected 8"):
        wrong.embed(["x"])
    with pytest.raises(TypeError):
        OpenAIEmbedder(object())  # type: ignore[arg-type]


def test_the_seed_api_with_a_json_file_and_openai_embeddings(tmp_path: Path) -> None:
    api = EmbeddingsAPI(dimensions=16)
    memory = MemoryManager(
        store=FileMemoryStore(tmp_path / "bot-memory.json"),
        embedder=OpenAIEmbedder(api.client()),
    )
    api.dimensions = 1536
    stored = memory.remember("Alice prefers e-mail", scope="user:alice")
    assert memory.remember("Alice prefers e-mail", scope="user:alice") == stored
    request = MemoryRequest(scopes=("global", "user:alice"), query="Alice prefers e-mail")
    assert memory.select(request) == [stored]
    assert len(api.requests) == 1  # the repeat and the identical query came from the cache
