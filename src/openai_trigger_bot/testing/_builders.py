"""Builders for Responses API JSON bodies, as the real API returns them.

Used by the scripted transport, the benchmark server and users' own tests. Only the fields the
API documents are produced, so the official SDK's ``Response`` model parses them too (checked
against the types of openai 3.57: ``Response``, ``ResponseOutputMessage`` with ``phase``,
``ResponseOutputRefusal``, ``ResponseReasoningItem``, ``ResponseError``, ``IncompleteDetails``).

Besides ``completed`` answers they build what the real API also returns: an ``incomplete``
response with cut-off function-call arguments (:func:`incomplete`), a ``failed`` one
(:func:`failed`), a background response still ``queued`` (:func:`queued`), ``refusal`` parts
(:func:`refusal`), ``reasoning`` items (:func:`reasoning`), ``phase: "commentary"`` messages
(``message(..., phase="commentary")``), and 429 / 500 answers with ``retry-after``
(:func:`rate_limited`, :func:`server_error`).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import httpx2

__all__ = [
    "failed",
    "function_call",
    "incomplete",
    "message",
    "queued",
    "rate_limited",
    "reasoning",
    "refusal",
    "response_body",
    "server_error",
]

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):012d}"


def function_call(
    name: str,
    arguments: Mapping[str, Any] | str | None = None,
    *,
    call_id: str | None = None,
    status: Literal["completed", "incomplete", "in_progress"] = "completed",
) -> dict[str, Any]:
    """A ``function_call`` output item.

    Args:
        name: The tool name the model calls.
        arguments: The arguments as a mapping (serialised to JSON) or as a raw string, which is
            sent as is (use it to script malformed arguments).
        call_id: The call id; a fresh one when omitted.
        status: The item's status (``incomplete`` when the response was cut off in it).
    """
    if arguments is None:
        raw = "{}"
    elif isinstance(arguments, str):
        raw = arguments
    else:
        raw = json.dumps(dict(arguments), separators=(",", ":"))
    return {
        "type": "function_call",
        "id": _next_id("fc"),
        "call_id": call_id or _next_id("call"),
        "name": name,
        "arguments": raw,
        "status": status,
    }


def message(
    text: str, *, phase: Literal["commentary", "final_answer"] | None = None
) -> dict[str, Any]:
    """An assistant ``message`` output item holding one ``output_text`` part.

    Args:
        text: The text the model "says" (recorded by the runner, never acted on).
        phase: ``"commentary"`` for a preamble the model writes before acting (not the
            answer), ``"final_answer"`` for the answer; omitted when ``None``.
    """
    item: dict[str, Any] = {
        "type": "message",
        "id": _next_id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    if phase is not None:
        item["phase"] = phase
    return item


def refusal(text: str = "I'm sorry, but I can't help with that.") -> dict[str, Any]:
    """An assistant ``message`` whose content is one ``refusal`` part (the model declines)."""
    return {
        "type": "message",
        "id": _next_id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "refusal", "refusal": text}],
    }


def reasoning(summary: str = "", *, encrypted_content: str | None = None) -> dict[str, Any]:
    """A ``reasoning`` output item, as a reasoning model returns it.

    The scripted API adds ``encrypted_content`` (an opaque value) when the item has none, as
    the API does by default; with ``ScriptedResponses(encrypted_reasoning="when_included")``
    only when the request's ``include`` asks for ``reasoning.encrypted_content``, and removes
    it otherwise.

    Args:
        summary: The reasoning summary text (no summary part when empty).
        encrypted_content: The opaque reasoning state to send back in stateless mode.
    """
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": _next_id("rs"),
        "summary": [{"type": "summary_text", "text": summary}] if summary else [],
        "status": "completed",
    }
    if encrypted_content is not None:
        item["encrypted_content"] = encrypted_content
    return item


def response_body(
    output: Sequence[Mapping[str, Any]],
    *,
    model: str = "gpt-5.2",
    response_id: str | None = None,
    previous_response_id: str | None = None,
    input_tokens: int = 120,
    cached_tokens: int = 0,
    output_tokens: int = 20,
    reasoning_tokens: int = 0,
    status: str = "completed",
    incomplete_reason: str | None = None,
    error: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete ``response`` object as ``POST /v1/responses`` returns it.

    Args:
        output: The output items (see :func:`function_call` and :func:`message`).
        model: The model name echoed back.
        response_id: The response id; a fresh one when omitted.
        previous_response_id: Echoed back like the real API does.
        input_tokens: Usage: input tokens.
        cached_tokens: Usage: input tokens served from the prompt cache.
        output_tokens: Usage: output tokens (reasoning tokens included).
        reasoning_tokens: Usage: reasoning tokens.
        status: ``completed``, ``incomplete``, ``failed``, ``cancelled``, ``queued`` or
            ``in_progress``.
        incomplete_reason: ``incomplete_details.reason`` (for ``incomplete``).
        error: The ``error`` object (``code``, ``message``) of a ``failed`` response.
    """
    return {
        "id": response_id or _next_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": None if error is None else dict(error),
        "incomplete_details": None if incomplete_reason is None else {"reason": incomplete_reason},
        "model": model,
        "output": [dict(item) for item in output],
        "parallel_tool_calls": True,
        "previous_response_id": previous_response_id,
        "tool_choice": "auto",
        "tools": [],
        "store": True,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def incomplete(
    output: Sequence[Mapping[str, Any]],
    *,
    reason: Literal["max_output_tokens", "content_filter"] | str = "max_output_tokens",
    truncate: bool = True,
    **body: Any,
) -> dict[str, Any]:
    """An ``incomplete`` response: the API stopped generating early.

    With ``truncate`` (the default) the last ``function_call`` item is cut off as the real API
    leaves it: its ``arguments`` end halfway (no longer valid JSON) and its status is
    ``incomplete``. A last ``message`` is cut off the same way.

    Args:
        output: The output items as they would have been.
        reason: ``incomplete_details.reason``: ``max_output_tokens`` or ``content_filter``.
        truncate: Cut off the last item.
        **body: More :func:`response_body` arguments (usage, ids...).
    """
    items = [dict(item) for item in output]
    if truncate and items:
        last = items[-1]
        if last.get("type") == "function_call":
            text = str(last.get("arguments", ""))
            last["arguments"] = text[: max(len(text) // 2, 1)]
            last["status"] = "incomplete"
        elif last.get("type") == "message":
            parts = [dict(p) for p in last.get("content", ())]
            for part in parts[-1:]:
                if part.get("type") == "output_text":
                    part["text"] = str(part.get("text", ""))[: len(str(part.get("text", ""))) // 2]
            last["content"] = parts
            last["status"] = "incomplete"
    return response_body(items, status="incomplete", incomplete_reason=reason, **body)


def failed(
    code: str = "server_error",
    message: str = "The server had an error processing your request. Sorry about that!",
    **body: Any,
) -> dict[str, Any]:
    """A ``failed`` response (HTTP 200, ``status: "failed"``) with its ``error`` object.

    Args:
        code: ``error.code`` (``server_error``, ``rate_limit_exceeded``, ``invalid_prompt``...).
        message: ``error.message``.
        **body: More :func:`response_body` arguments.
    """
    body.setdefault("output_tokens", 0)
    return response_body([], status="failed", error={"code": code, "message": message}, **body)


def queued(status: Literal["queued", "in_progress"] = "queued", **body: Any) -> dict[str, Any]:
    """A background response that is not done yet (``queued`` or ``in_progress``), no output.

    Args:
        status: ``queued`` or ``in_progress``.
        **body: More :func:`response_body` arguments.
    """
    body.setdefault("output_tokens", 0)
    return response_body([], status=status, **body)


def _retry_headers(retry_after: float | None, milliseconds: bool) -> dict[str, str]:
    if retry_after is None:
        return {}
    if milliseconds:
        return {"retry-after-ms": str(round(retry_after * 1000))}
    return {"retry-after": f"{retry_after:g}"}


def rate_limited(retry_after: float | None = 1.0, *, milliseconds: bool = False) -> httpx2.Response:
    """A 429 as the API sends it when a rate limit is reached.

    Args:
        retry_after: Seconds to wait, sent as ``retry-after`` (``None``: no header).
        milliseconds: Send ``retry-after-ms`` instead (the SDK prefers it).
    """
    message_text = (
        "Rate limit reached for requests. Please try again in "
        f"{retry_after if retry_after is not None else 1:g}s."
    )
    error = {
        "message": message_text,
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    return httpx2.Response(
        429, json={"error": error}, headers=_retry_headers(retry_after, milliseconds)
    )


def server_error(
    retry_after: float | None = None, *, status: int = 500, milliseconds: bool = False
) -> httpx2.Response:
    """A 5xx as the API sends it on a server fault (the SDK retries these).

    Args:
        retry_after: Seconds to wait, sent as ``retry-after`` (``None``: no header).
        status: The HTTP status (500, 502, 503...).
        milliseconds: Send ``retry-after-ms`` instead.
    """
    error = {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    return httpx2.Response(
        status, json={"error": error}, headers=_retry_headers(retry_after, milliseconds)
    )
