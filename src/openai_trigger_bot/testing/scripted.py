"""A scripted Responses API for tests: an ``httpx2`` transport the official client sends through.

The OpenAI SDK 3.x sends HTTP through ``httpx2``; hand it a client built on this transport and
every ``POST /responses`` is answered from a script instead of the network::

    scripted = ScriptedResponses([
        [function_call("send_message", {"chat_id": "c1", "text": "hi"})],
        [message("Done.")],
    ])
    bot = Bot(name="b", client=scripted.client(), settings=BotSettings(model="gpt-5.2"))

``POST /embeddings`` answers too, with lexical vectors (the offline ``HashingEmbedder``'s), so
an ``OpenAIEmbedder`` on the same client works offline and recalls by shared words.

It is as strict as the real API: every request is checked as the API checks it and refused
with a 400 in the API's error shape (``{"error": {"message", "type", "param", "code"}}``)
when the API would refuse it: body keys and value types against the openai SDK's request
types; function tools' names and strict JSON schemas (``openai_trigger_bot._api_rules``);
``prompt_cache_key`` length, ``max_output_tokens`` minimum; chaining with
``previous_response_id`` only from a stored response, every function call answered by exactly
its ``function_call_output``; reasoning items sent back as a stateless client must (with their
``encrypted_content``, beside the items they pair with); the embeddings limits (inputs, tokens
per input and per request). See ``docs/testing.md`` ("As strict as the real API") for the
rules and sources.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import httpx2
import numpy as np
import openai

from ..memory.embedders import HashingEmbedder
from ..memory.records import FloatMatrix
from ._answers import ContextUsage, reasoning_as_asked
from ._builders import response_body
from ._replay_rules import IssuedItems
from ._request_rules import embeddings_request_error, responses_request_error

if TYPE_CHECKING:
    from ._server import ScriptedServer

__all__ = ["ScriptStep", "ScriptedResponses", "api_error"]

ScriptStep = (
    Sequence[Mapping[str, Any]]  # output items, wrapped in a response body
    | Mapping[str, Any]  # a complete response body
    | httpx2.Response  # sent as is (errors, malformed bodies)
    | Exception  # raised by the transport (connection failures)
    | Callable[[dict[str, Any]], Any]  # called with the request body; returns one of the above
)


def api_error(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> httpx2.Response:
    """An error answer in the API's format (``{"error": {...}}``) with the given status."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return httpx2.Response(status, json={"error": error})


class ScriptedResponses:
    """Answers ``POST /responses`` from a script; records every request.

    Args:
        script: The answers, one per request, in order. Each step is a list of output items,
            a complete response body, an ``httpx2.Response``, an exception to raise, or a
            callable taking the request body and returning one of those. A callable ``script``
            (instead of a list) answers every request.
        model: The model name echoed in generated responses.
        cached_tokens: Cached input tokens to report when a request repeats an earlier
            ``prompt_cache_key`` (simulates prompt caching).
        encrypted_reasoning: ``"always"`` (default): every ``reasoning`` item answered carries
            ``encrypted_content``, as the openai SDK 3.57 documents the API does by default;
            ``"when_included"``: only when the request's ``include`` lists
            ``reasoning.encrypted_content`` (the API's earlier documented behaviour).

    Attributes:
        requests: The decoded JSON body of every request, in order.
        request_bytes: The size of every request body, in order.
    """

    base_url = "http://scripted-responses.invalid/v1"

    def __init__(
        self,
        script: Iterable[ScriptStep] | Callable[[dict[str, Any]], Any],
        *,
        model: str = "gpt-5.2",
        cached_tokens: int = 96,
        encrypted_reasoning: Literal["always", "when_included"] = "always",
    ) -> None:
        if encrypted_reasoning not in ("always", "when_included"):
            raise ValueError(
                f"encrypted_reasoning {encrypted_reasoning!r}: always or when_included"
            )
        self._callable = script if callable(script) else None
        self._steps: list[ScriptStep] = [] if callable(script) else list(script)
        self._model = model
        self._cached_tokens = cached_tokens
        self._encrypted_always = encrypted_reasoning == "always"
        self._issued = IssuedItems()  # every output item answered, to check what comes back
        self._lock = threading.Lock()
        self._stored: dict[str, tuple[str, ...]] = {}  # response id -> its function call ids
        self._cache_keys: set[str] = set()
        self._usage = ContextUsage()  # usage that grows with the chained context
        self.requests: list[dict[str, Any]] = []
        self.request_bytes: list[int] = []

    @property
    def remaining(self) -> int:
        """Script steps not yet used."""
        return len(self._steps)

    def transport(self) -> httpx2.MockTransport:
        """An ``httpx2`` transport serving sync and async clients."""
        return httpx2.MockTransport(self.handle)

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """A sync ``OpenAI`` client wired to this script (no retries unless given)."""
        kwargs.setdefault("max_retries", 0)
        return openai.OpenAI(
            api_key="sk-scripted",
            base_url=self.base_url,
            http_client=httpx2.Client(transport=self.transport()),
            **kwargs,
        )

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """An ``AsyncOpenAI`` client wired to this script (no retries unless given)."""
        kwargs.setdefault("max_retries", 0)
        return openai.AsyncOpenAI(
            api_key="sk-scripted",
            base_url=self.base_url,
            http_client=httpx2.AsyncClient(transport=self.transport()),
            **kwargs,
        )

    def serve(self, *, port: int = 0) -> ScriptedServer:
        """Serve this script over real HTTP on 127.0.0.1, for clients in other processes.

        Use it as a context manager (``with scripted.serve() as server:``) and point each
        process's ``openai.OpenAI(base_url=server.base_url, ...)`` at it; every request is
        answered by :meth:`handle`, as strictly as through :meth:`client`.

        Args:
            port: The port to listen on (0: any free port).
        """
        from ._server import ScriptedServer

        return ScriptedServer(self, port=port)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """The transport handler (public so it can be wrapped)."""
        path = request.url.path
        if request.method == "POST" and path.endswith("/embeddings"):
            return _embeddings(request)
        if request.method != "POST" or not path.endswith("/responses"):
            return api_error(404, f"scripted API has no route {request.method} {path}")
        raw = request.content
        try:
            body = json.loads(raw)
        except ValueError:
            return api_error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return api_error(400, "The request body must be a JSON object.")
        with self._lock:
            self.requests.append(body)
            self.request_bytes.append(len(raw))
            refusal = responses_request_error(body, self._stored, self._issued)
            if refusal is not None:
                return refusal.response()
            if self._callable is not None:
                step: Any = self._callable
            elif self._steps:
                step = self._steps.pop(0)
            else:
                return api_error(
                    500, "scripted API: the script has no answer left for this request"
                )
        return self._answer(step, body)

    def _answer(self, step: Any, body: dict[str, Any]) -> httpx2.Response:
        if callable(step) and not isinstance(step, (httpx2.Response, Exception)):
            step = step(body)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx2.Response):
            return step
        if isinstance(step, Mapping):
            data = dict(step)
        else:
            key = body.get("prompt_cache_key")
            with self._lock:
                hit = key is not None and key in self._cache_keys
                if key is not None:
                    self._cache_keys.add(key)
            items = reasoning_as_asked(step, body.get("include"), always=self._encrypted_always)
            input_tokens, output_tokens = self._usage.usage(body, items)
            data = response_body(
                items,
                model=str(body.get("model") or self._model),
                previous_response_id=body.get("previous_response_id"),
                input_tokens=input_tokens,
                cached_tokens=min(self._cached_tokens, input_tokens) if hit else 0,
                output_tokens=output_tokens,
            )
            data["store"] = bool(body.get("store", True))
        stored = bool(body.get("store", True))
        with self._lock:
            self._issued.add(data.get("output"), stored=stored)
        if stored:
            output = data.get("output")
            calls = tuple(
                str(i.get("call_id"))
                for i in (output if isinstance(output, list) else ())
                if isinstance(i, dict) and i.get("type") == "function_call"
            )
            with self._lock:
                self._stored[str(data.get("id"))] = calls
            self._usage.remember(str(data.get("id")), body, data)
        return httpx2.Response(200, json=data)


_NATIVE_DIMENSIONS = {"text-embedding-3-large": 3072}  # others: 1536


@lru_cache(maxsize=8)
def _hashing(dimensions: int) -> HashingEmbedder:
    return HashingEmbedder(dimensions)


def _lexical_vectors(texts: list[str], dimensions: int) -> FloatMatrix:
    """The offline :class:`HashingEmbedder`'s vectors at ``dimensions`` (its minimum is 8:
    shorter vectors are its first components, re-normalised)."""
    vectors = _hashing(max(dimensions, 8)).embed(texts)[:, :dimensions]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: FloatMatrix = np.zeros_like(vectors)
    np.divide(vectors, norms, out=out, where=norms > 0)
    return out


def _embeddings(request: httpx2.Request) -> httpx2.Response:
    """``POST /embeddings``: lexical unit vectors (the offline ``HashingEmbedder``'s).

    Texts that share words (or word pieces) get close vectors and unrelated texts nearly
    orthogonal ones, so an ``OpenAIEmbedder`` on a scripted client recalls a stored fact for a
    question that shares its words, as a real model would, without the network. Nothing
    beyond shared words counts: paraphrases without a common word score about zero (the real
    API would find them). ``dimensions`` is honoured (1 up to the model's native length,
    else a 400 as from the real API).
    """
    try:
        body = json.loads(request.content)
        texts = body["input"]
    except (ValueError, KeyError, TypeError):
        return api_error(400, "embeddings request needs an 'input'")
    refusal = embeddings_request_error(body)
    if refusal is not None:
        return refusal.response()
    texts = [texts] if isinstance(texts, str) else list(texts)
    native = _NATIVE_DIMENSIONS.get(str(body.get("model")), 1536)
    dims = body.get("dimensions")
    dims = native if dims is None else dims
    if not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= native:
        return api_error(
            400,
            f"Invalid 'dimensions': {dims!r}. Expected an integer from 1 to {native}.",
            code="invalid_value",
        )
    vectors = _lexical_vectors([str(t) for t in texts], dims)
    data = []
    for i, vector in enumerate(vectors):
        if body.get("encoding_format") == "base64":
            embedding: Any = base64.b64encode(vector.tobytes()).decode()
        else:
            embedding = vector.tolist()
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    return httpx2.Response(
        200,
        json={"object": "list", "data": data, "model": body.get("model"), "usage": usage},
    )
