"""The scripted API's ``/embeddings`` are lexical, so offline runs show real recall.

Before, each text got a random vector seeded by its hash: related texts scored about zero
(cosine -0.04 in the issue) and a question about a stored fact did not bring it back.
"""

from __future__ import annotations

import numpy as np
import pytest

from openai_trigger_bot.memory import HashingEmbedder, MemoryManager, MemoryRequest, OpenAIEmbedder
from openai_trigger_bot.testing import ScriptedResponses

from ._helpers import FakeClock

FACT = "Alice asked for help with her order."
UNRELATED = [
    "The office closes at six on Fridays.",
    "Bob prefers invoices as PDF files.",
    "Deploys happen on Tuesday mornings.",
    "The printer on floor two is broken.",
    "Quarterly planning starts next week.",
    "Carol moved to the Berlin team.",
]


def _embedder(dimensions: int | None = 384) -> OpenAIEmbedder:
    return OpenAIEmbedder(ScriptedResponses([]).client(), dimensions=dimensions)


def test_related_texts_are_close_and_unrelated_ones_are_not() -> None:
    vectors = _embedder().embed([FACT, "What did Alice need help with?", UNRELATED[0]])
    related = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    assert related > 0.2, related
    assert abs(unrelated) < related / 2, (related, unrelated)


@pytest.mark.parametrize("dimensions", [8, 64, 384, None])
def test_dimensions_are_honoured_and_match_the_hashing_embedder(dimensions: int | None) -> None:
    texts = [FACT, "refund order 7"]
    vectors = _embedder(dimensions).embed(texts)
    expected = HashingEmbedder(dimensions or 1536).embed(texts)
    assert vectors.shape == (2, dimensions or 1536)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_a_question_recalls_the_stored_fact_above_unrelated_memories() -> None:
    clock = FakeClock()
    memory = MemoryManager(embedder=_embedder(), clock=clock)
    memory.remember(FACT, scope="user:alice")
    for text in UNRELATED:  # newer than the fact: recency alone would not find it
        clock.advance(60)
        memory.remember(text, scope="user:alice")
    request = MemoryRequest(scopes=("user:alice",), recent_limit=0, semantic_limit=1)
    chosen = memory.select(request, query="What did Alice need help with?")
    assert [m.text for m in chosen] == [FACT]
    # the fact ranks first among all of them, not just above a threshold
    wide = MemoryRequest(scopes=("user:alice",), recent_limit=0, semantic_limit=3)
    vectors = memory.embedder.embed(["What did Alice need help with?"])
    assert FACT in [m.text for m in memory.select(wide, query="What did Alice need help with?")]
    scores = memory.embedder.embed([FACT, *UNRELATED]) @ vectors[0]
    assert int(np.argmax(scores)) == 0


def test_the_embeddings_endpoint_refuses_what_the_real_api_refuses() -> None:
    from openai import BadRequestError

    with pytest.raises(BadRequestError):
        _embedder(0).client.embeddings.create(  # type: ignore[union-attr]
            input=["x"], model="text-embedding-3-small", dimensions=0
        )
    with pytest.raises(BadRequestError):
        _embedder().client.embeddings.create(  # type: ignore[union-attr]
            input=["x"], model="text-embedding-3-small", dimensions=4096
        )


def test_short_dimensions_are_unit_vectors_of_that_length() -> None:
    vectors = _embedder(4).embed([FACT, "order help"])
    assert vectors.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 1.0], atol=1e-6)
