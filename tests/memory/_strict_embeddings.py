"""A mock embeddings API as strict as the real one (tokens counted as UTF-8 bytes)."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from ._helpers import EmbeddingsAPI

MAX_INPUTS, MAX_INPUT_TOKENS, MAX_REQUEST_TOKENS = 2048, 8192, 300_000


def nbytes(text: str) -> int:
    return len(text.encode())


class StrictEmbeddingsAPI(EmbeddingsAPI):
    """:class:`EmbeddingsAPI` refusing what the real API refuses (tokens as UTF-8 bytes).

    Args:
        fail_on: Answer 500 to the request with this index (0-based) too.
    """

    def __init__(self, dimensions: int = 8, *, fail_on: int | None = None) -> None:
        super().__init__(dimensions)
        self.fail_on = fail_on
        self.refused: list[str] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        inputs = body["input"]
        sizes = [nbytes(t) for t in inputs]
        problem = None
        if len(inputs) > MAX_INPUTS:
            problem = f"'$.input' has {len(inputs)} items, max {MAX_INPUTS}"
        elif max(sizes, default=0) > MAX_INPUT_TOKENS:
            problem = f"This model's maximum context length is 8192 tokens ({max(sizes)})"
        elif sum(sizes) > MAX_REQUEST_TOKENS:
            problem = f"Requested {sum(sizes)} tokens, max 300000 tokens per request"
        index = len(self.requests)
        if problem is None and index != self.fail_on:
            return super().handle(request)
        self.requests.append(body)
        self.refused.append(problem or "boom")
        status = 400 if problem else 500
        error = {"message": problem or "boom", "type": "invalid_request_error", "code": None}
        return httpx2.Response(status, json={"error": error})


def assert_within_limits(requests: list[dict[str, Any]]) -> None:
    for body in requests:
        sizes = [nbytes(t) for t in body["input"]]
        assert len(sizes) <= MAX_INPUTS
        assert max(sizes) <= MAX_INPUT_TOKENS
        assert sum(sizes) <= MAX_REQUEST_TOKENS
