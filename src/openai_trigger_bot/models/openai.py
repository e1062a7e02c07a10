"""The OpenAI Responses adapter: one ``POST /responses`` per round through the official client.

The request goes through the client's documented low-level ``post()`` with a body we serialise
ourselves and ``cast_to=httpx2.Response``, so the SDK still does authentication, retries with
backoff, timeouts and error translation, but skips its typed request transform and response model
building, which are most of its CPU cost per call (see the README's benchmark section).

Retries are ours, not the SDK's: every request goes out with ``max_retries=0`` and
:func:`~openai_trigger_bot.models._retry.call_within_budget` retries what the SDK would retry
(as many times as the client's ``max_retries``), giving each attempt the time left and never
waiting past the call's budget. So a run's deadline holds with a sync or an async client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import openai

from .._json import dumps_bytes
from .._run.offload import Offload, to_thread
from ._retry import MAX_RETRY_AFTER_S, call_within_budget
from .base import ModelError, ModelResponse, parse_response

__all__ = ["OpenAIResponsesModel"]

_JSON_HEADERS = {"Content-Type": "application/json"}


class OpenAIResponsesModel:
    """A :class:`~openai_trigger_bot.models.ResponsesModel` over ``OpenAI`` or ``AsyncOpenAI``.

    Args:
        client: The official client. A sync client is called through the run's offload seam
            (:meth:`create_offloaded`): inline under ``Bot.run``, in the bot's worker pool
            under ``Bot.arun``; :meth:`create` alone uses a worker thread. Its
            ``max_retries`` is how often a failed call is retried (within the call's budget).
        clock: Monotonic seconds, for the call's budget (a fake one in tests).
        sleep: Waits between retries (a fake one in tests).
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not isinstance(client, (openai.OpenAI, openai.AsyncOpenAI)):
            raise TypeError(f"expected an OpenAI or AsyncOpenAI client, got {type(client)!r}")
        self.client = client
        self.clock = clock
        self.sleep = sleep

    async def create(self, body: dict[str, Any], *, timeout: float | None) -> ModelResponse:
        """Send the request and parse the response (see :class:`ResponsesModel`); a sync
        client is called in a worker thread."""
        return await self.create_offloaded(body, timeout=timeout, offload=to_thread)

    async def create_offloaded(
        self, body: dict[str, Any], *, timeout: float | None, offload: Offload
    ) -> ModelResponse:
        """Send the request and parse the response (see :class:`OffloadingModel`).

        Args:
            body: The request body as JSON data.
            timeout: Seconds for the whole call, retries and their waits included (``None``:
                the client's own timeout per attempt, and no limit on the whole).
            offload: Where a sync client's request runs (an async client ignores it).
        """
        content = dumps_bytes(body)

        async def attempt(left: float | None) -> httpx2.Response:
            return await self._post(content, left, offload)

        http, attempts = await call_within_budget(
            attempt,
            budget=timeout,
            max_retries=self.client.max_retries,
            clock=self.clock,
            sleep=self.sleep,
        )
        try:
            data = json.loads(http.content)
        except ValueError as exc:
            raise ModelError("the API answered with a body that is not JSON") from exc
        response = parse_response(data, request_bytes=len(content))
        return response if attempts == 1 else dataclasses.replace(response, attempts=attempts)

    async def _post(
        self, content: bytes, timeout: float | None, offload: Offload
    ) -> httpx2.Response:
        """One HTTP attempt (the SDK does not retry); failures as :class:`ModelError`."""
        options: openai.RequestOptions = {"headers": _JSON_HEADERS, "max_retries": 0}
        if timeout is not None:
            options["timeout"] = timeout
        client = self.client
        try:
            if isinstance(client, openai.AsyncOpenAI):
                return await client.post(
                    "/responses", content=content, cast_to=httpx2.Response, options=options
                )
            sync_client = client
            return await offload(
                lambda: sync_client.post(
                    "/responses", content=content, cast_to=httpx2.Response, options=options
                )
            )
        except openai.APIStatusError as exc:
            retry_after = _retry_after(exc.response.headers)
            raise ModelError(
                f"OpenAI API error {exc.status_code}: {_api_message(exc)}",
                retryable=_should_retry(exc.response, retry_after),
                retry_after=retry_after,
            ) from exc
        except openai.APITimeoutError as exc:
            raise ModelError("OpenAI API request timed out", retryable=True) from exc
        except openai.APIConnectionError as exc:
            raise ModelError(f"could not reach the OpenAI API: {exc}", retryable=True) from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"OpenAI client error: {exc}") from exc


def _should_retry(response: httpx2.Response, retry_after: float | None) -> bool:
    """What the SDK retries: ``x-should-retry`` first, then 408, 409, 429 and 5xx, never when
    the server asks for a wait over two minutes."""
    if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
        return False
    header = response.headers.get("x-should-retry")
    if header in ("true", "false"):
        return header == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date); ``None`` when absent or unreadable."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if math.isnan(seconds):
            return None
        return seconds if math.isfinite(seconds) else MAX_RETRY_AFTER_S + 1
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return float(email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(exc.message)
