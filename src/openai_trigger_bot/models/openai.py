"""The OpenAI Responses adapter: one ``POST /responses`` per round through the official client.

The request goes through the client's documented low-level ``post()`` with a body we serialise
ourselves and ``cast_to=httpx2.Response``, so the SDK still does authentication, retries with
backoff, timeouts and error translation, but skips its typed request transform and response model
building, which are most of its CPU cost per call (see the README's benchmark section).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any

import httpx2
import openai

from .._json import dumps_bytes
from .base import ModelError, ModelResponse, parse_response

__all__ = ["OpenAIResponsesModel", "inline_sync_calls"]

#: Set by ``Bot.run`` on its private event loop: nothing else runs on that loop while the model
#: call is in flight, so a sync client may be called inline instead of in a worker thread.
inline_sync_calls: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "inline_sync_calls", default=False
)

_JSON_HEADERS = {"Content-Type": "application/json"}


class OpenAIResponsesModel:
    """A :class:`~openai_trigger_bot.models.ResponsesModel` over ``OpenAI`` or ``AsyncOpenAI``.

    Args:
        client: The official client. A sync client is called in a worker thread when the
            caller's event loop must not block (``Bot.arun``), inline under ``Bot.run``.
    """

    def __init__(self, client: openai.OpenAI | openai.AsyncOpenAI) -> None:
        if not isinstance(client, (openai.OpenAI, openai.AsyncOpenAI)):
            raise TypeError(f"expected an OpenAI or AsyncOpenAI client, got {type(client)!r}")
        self.client = client

    async def create(self, body: dict[str, Any], *, timeout: float | None) -> ModelResponse:
        """Send the request and parse the response (see :class:`ResponsesModel`)."""
        content = dumps_bytes(body)
        options: openai.RequestOptions = {"headers": _JSON_HEADERS}
        if timeout is not None:
            options["timeout"] = timeout
        client = self.client
        try:
            if isinstance(client, openai.AsyncOpenAI):
                http = await client.post(
                    "/responses", content=content, cast_to=httpx2.Response, options=options
                )
            elif inline_sync_calls.get():
                http = client.post(
                    "/responses", content=content, cast_to=httpx2.Response, options=options
                )
            else:
                sync_client = client
                http = await asyncio.to_thread(
                    lambda: sync_client.post(
                        "/responses", content=content, cast_to=httpx2.Response, options=options
                    )
                )
        except openai.APIStatusError as exc:
            raise ModelError(f"OpenAI API error {exc.status_code}: {_api_message(exc)}") from exc
        except openai.APITimeoutError as exc:
            raise ModelError("OpenAI API request timed out") from exc
        except openai.APIConnectionError as exc:
            raise ModelError(f"could not reach the OpenAI API: {exc}") from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"OpenAI client error: {exc}") from exc
        try:
            data = json.loads(http.content)
        except ValueError as exc:
            raise ModelError("the API answered with a body that is not JSON") from exc
        return parse_response(data, request_bytes=len(content))


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(exc.message)
