"""Shared helpers for the memory tests: a fake clock and a mock embeddings API."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import httpx2
import numpy as np
import openai

BASE_URL = "http://embeddings.invalid/v1"


class FakeClock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fake_vector(text: str, dimensions: int) -> np.ndarray:
    """A deterministic pseudo-random vector per text (not normalised: the client must do it)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32) * 3


class EmbeddingsAPI:
    """Answers ``POST /v1/embeddings`` like the real API; counts requests and inputs.

    Args:
        dimensions: The vector length when the request does not ask for one.
        fail: Answer every request with this HTTP status instead.
        as_list: Answer with JSON number lists even when base64 was asked for.
    """

    def __init__(
        self, dimensions: int = 8, *, fail: int | None = None, as_list: bool = False
    ) -> None:
        self.dimensions = dimensions
        self.fail = fail
        self.as_list = as_list
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def inputs(self) -> list[str]:
        return [text for body in self.requests for text in body["input"]]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST" and request.url.path.endswith("/embeddings")
        body = json.loads(request.content)
        with self._lock:
            self.requests.append(body)
        if self.fail is not None:
            error = {"message": "boom", "type": "server_error", "code": None}
            return httpx2.Response(self.fail, json={"error": error})
        dims = body.get("dimensions") or self.dimensions
        data = []
        for index, text in enumerate(body["input"]):
            vector = fake_vector(text, dims)
            if body.get("encoding_format") == "base64" and not self.as_list:
                embedding: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode()
            else:
                embedding = vector.tolist()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        data.reverse()  # the client must order by index
        usage = {"prompt_tokens": len(body["input"]), "total_tokens": len(body["input"])}
        answer = {"object": "list", "data": data, "model": body["model"], "usage": usage}
        return httpx2.Response(200, json=answer)

    def client(self) -> openai.OpenAI:
        transport = httpx2.MockTransport(self.handle)
        return openai.OpenAI(
            api_key="sk-test",
            base_url=BASE_URL,
            max_retries=0,
            http_client=httpx2.Client(transport=transport),
        )

    def async_client(self) -> openai.AsyncOpenAI:
        transport = httpx2.MockTransport(self.handle)
        return openai.AsyncOpenAI(
            api_key="sk-test",
            base_url=BASE_URL,
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=transport),
        )
