"""Embedding requests stay within the API's limits; over-long texts are split (issue 9).

The real API refuses a request with more than 2,048 inputs, an input over 8,192 tokens or more
than 300,000 tokens in all. Before the fix the embedder batched by count only: ~519k tokens
went out in one request (a 400 for all of them). ``StrictEmbeddingsAPI`` answers 400 as the
real API does, counting tokens as UTF-8 bytes (a bound that never undercounts); each test also
checks the exact request bodies.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_trigger_bot.memory import EmbeddingError, OpenAIEmbedder
from openai_trigger_bot.memory.embedders._limits import combine, pack, split, utf8_bytes

from ._helpers import EmbeddingsAPI, fake_vector
from ._strict_embeddings import (
    MAX_INPUT_TOKENS,
    StrictEmbeddingsAPI,
    assert_within_limits,
    nbytes,
)


def unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.linalg.norm(v)
    return out


# -- the pure part ---------------------------------------------------------------------------


def test_utf8_bytes_never_undercounts_multibyte_text() -> None:
    assert [utf8_bytes(t) for t in ["", "a", "é", "€", "𝄞"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("tokens", "max_inputs", "max_tokens", "expected"),
    [
        ([1, 1, 1, 1, 1], 2, 100, [[0, 1], [2, 3], [4]]),  # by count
        ([4, 4, 4, 4], 10, 8, [[0, 1], [2, 3]]),  # by tokens
        ([5, 3, 1, 6], 10, 8, [[0, 1], [2, 3]]),  # exactly at the token bound
        ([9, 1], 10, 8, [[0], [1]]),  # alone over the bound: a batch of its own
        ([], 10, 8, []),
    ],
)
def test_pack_respects_both_bounds_in_order(
    tokens: list[int], max_inputs: int, max_tokens: int, expected: list[list[int]]
) -> None:
    items = list(range(len(tokens)))
    assert pack(items, tokens, max_inputs=max_inputs, max_tokens=max_tokens) == expected


@settings(max_examples=80, deadline=None)
@given(text=st.text(st.sampled_from("ab é€𝄞\n"), max_size=400), limit=st.integers(4, 60))
def test_split_pieces_are_within_the_limit_and_rejoin_to_the_text(text: str, limit: int) -> None:
    pieces = split(text, limit)
    assert "".join(p for p, _ in pieces) == text
    assert all(n == utf8_bytes(p) <= limit for p, n in pieces)
    assert all(p for p, _ in pieces) or text == ""
    # no piece is needlessly short: each (but the last) could not take the next character
    for (piece, n), (after, _) in itertools.pairwise(pieces):
        assert n + utf8_bytes(after[0]) > limit or piece[-1].isspace()


def test_split_cuts_at_whitespace_near_the_limit() -> None:
    text = " ".join(f"word{i:04d}" for i in range(3000))  # 26,999 bytes
    pieces = split(text, MAX_INPUT_TOKENS)
    assert len(pieces) == 4 and "".join(p for p, _ in pieces) == text
    for piece, n in pieces[:-1]:
        assert piece.endswith(" ") and 0.9 * MAX_INPUT_TOKENS <= n <= MAX_INPUT_TOKENS


def test_split_refuses_a_character_over_the_limit() -> None:
    with pytest.raises(EmbeddingError, match="counts more than 3 tokens"):
        split("ab𝄞", 3)


def test_combine_is_the_token_weighted_mean_normalised() -> None:
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    np.testing.assert_allclose(combine(np.vstack([a, b]), [3, 1]), unit(np.array([3.0, 1.0])))


# -- the embedder ----------------------------------------------------------------------------


def test_requests_stay_within_300k_tokens() -> None:
    """The issue's case: ~519k tokens in one request is a 400 for every text in it."""
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), dimensions=8, batch_size=256)
    texts = [f"{i:04d} " + "x" * 7995 for i in range(65)]  # 8,000 bytes each: 520,000
    vectors = embedder.embed(texts)
    assert api.refused == []
    assert [r["input"] for r in api.requests] == [texts[:37], texts[37:]]  # 37 * 8000 <= 300k
    assert_within_limits(api.requests)
    np.testing.assert_allclose(vectors[40], unit(fake_vector(texts[40], 8)), rtol=1e-6)


def test_requests_stay_within_2048_inputs_and_the_token_bound_together() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), dimensions=8, batch_size=2048)
    small = [f"note {i}" for i in range(2100)]
    big = [f"{i:03d} " + "y" * 8000 for i in range(40)]  # 8,004 bytes each
    embedder.embed(small + big)
    assert api.refused == []
    sizes = [len(r["input"]) for r in api.requests]
    assert sizes == [2048, 52 + 37, 3]  # count bound, then token bound (52 * 9 + 37 * 8004)
    assert [t for r in api.requests for t in r["input"]] == small + big
    assert_within_limits(api.requests)


def test_multibyte_text_counts_its_bytes_not_its_characters() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), dimensions=8)
    euros = "€" * 3000  # 3,000 characters, 9,000 bytes: over 8,192 tokens for a byte bound
    embedder.embed([euros])
    assert api.refused == []
    assert [nbytes(t) for t in api.requests[0]["input"]] == [8190, 810]
    assert embedder.long_inputs == 1


def test_an_over_long_text_is_split_and_its_vector_is_the_weighted_mean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), dimensions=8)
    secret = "SECRET-" + " ".join(f"word{i:04d}" for i in range(2400))  # 21,606 bytes
    caplog.set_level(logging.WARNING, "openai_trigger_bot.memory.embedders.openai")
    vectors = embedder.embed(["short one", secret])
    assert api.refused == [] and len(api.requests) == 1
    inputs = api.requests[0]["input"]
    assert inputs[0] == "short one" and "".join(inputs[1:]) == secret and len(inputs) == 4
    assert_within_limits(api.requests)
    pieces = inputs[1:]
    weighted = np.sum([nbytes(p) * unit(fake_vector(p, 8)) for p in pieces], axis=0)
    np.testing.assert_allclose(vectors[1], unit(weighted), rtol=1e-5)
    assert embedder.long_inputs == 1
    [record] = caplog.records
    assert "21606 characters" in record.getMessage() and "3 pieces" in record.getMessage()
    assert "SECRET" not in caplog.text  # the text itself is never logged
    again = embedder.embed([secret])  # cached: no request, no second warning
    np.testing.assert_array_equal(again[0], vectors[1])
    assert len(api.requests) == 1 and embedder.long_inputs == 1 and len(caplog.records) == 1


def test_truncate_embeds_only_the_first_piece() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.client(), dimensions=8, long_inputs="truncate")
    text = "z" * 20_000
    vector = embedder.embed([text])[0]
    assert api.requests[0]["input"] == ["z" * MAX_INPUT_TOKENS]
    np.testing.assert_allclose(vector, unit(fake_vector("z" * MAX_INPUT_TOKENS, 8)), rtol=1e-6)
    assert embedder.long_inputs == 1


def test_an_exact_token_counter_packs_by_its_count() -> None:
    api = EmbeddingsAPI(dimensions=8)

    def quarter(text: str) -> int:  # a tokenizer of four characters a token
        return -(-len(text) // 4)

    embedder = OpenAIEmbedder(api.client(), dimensions=8, count_tokens=quarter)
    texts = [f"{i:03d}" + "q" * 20_000 for i in range(70)]  # 5,001 tokens each
    embedder.embed(texts)
    assert [len(r["input"]) for r in api.requests] == [59, 11]  # 59 * 5001 <= 300k
    assert [t for r in api.requests for t in r["input"]] == texts  # none split
    assert embedder.long_inputs == 0


def test_a_failed_request_keeps_what_earlier_requests_returned() -> None:
    api = StrictEmbeddingsAPI(dimensions=8, fail_on=1)
    embedder = OpenAIEmbedder(api.client(), dimensions=8, batch_size=2)
    with pytest.raises(EmbeddingError, match="request failed"):
        embedder.embed(["a", "b", "c", "d"])
    api.fail_on = None
    embedder.embed(["a", "b", "c", "d"])
    assert [r["input"] for r in api.requests] == [["a", "b"], ["c", "d"], ["c", "d"]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 2049}, "batch_size"),
        ({"max_input_tokens": 0}, "max_input_tokens"),
        ({"max_input_tokens": 10, "max_request_tokens": 9}, "max_input_tokens"),
        ({"long_inputs": "drop"}, "long_inputs"),
    ],
)
def test_bad_limits_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAIEmbedder(EmbeddingsAPI().client(), **kwargs)


async def test_the_async_client_batches_and_splits_the_same_way() -> None:
    api = StrictEmbeddingsAPI(dimensions=8)
    embedder = OpenAIEmbedder(api.async_client(), dimensions=8)
    texts = [f"{i:04d} " + "x" * 7995 for i in range(65)] + ["w " * 6000]
    vectors = await embedder.aembed(texts)
    assert api.refused == [] and vectors.shape == (66, 8)
    assert [len(r["input"]) for r in api.requests] == [37, 28 + 2]
    assert "".join(api.requests[1]["input"][28:]) == "w " * 6000
    assert_within_limits(api.requests)
