"""Builders for Responses API JSON bodies, as the real API returns them.

Used by the scripted transport, the benchmark server and users' own tests. Only the fields the
API documents are produced, so the official SDK's ``Response`` model parses them too.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["function_call", "message", "response_body"]

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):012d}"


def function_call(
    name: str,
    arguments: Mapping[str, Any] | str | None = None,
    *,
    call_id: str | None = None,
) -> dict[str, Any]:
    """A ``function_call`` output item.

    Args:
        name: The tool name the model calls.
        arguments: The arguments as a mapping (serialised to JSON) or as a raw string, which is
            sent as is (use it to script malformed arguments).
        call_id: The call id; a fresh one when omitted.
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
        "status": "completed",
    }


def message(text: str) -> dict[str, Any]:
    """An assistant ``message`` output item holding one ``output_text`` part.

    Args:
        text: The text the model "says" (recorded by the runner, never acted on).
    """
    return {
        "type": "message",
        "id": _next_id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def response_body(
    output: Sequence[Mapping[str, Any]],
    *,
    model: str = "gpt-5.2",
    response_id: str | None = None,
    previous_response_id: str | None = None,
    input_tokens: int = 120,
    cached_tokens: int = 0,
    output_tokens: int = 20,
) -> dict[str, Any]:
    """A complete ``response`` object as ``POST /v1/responses`` returns it.

    Args:
        output: The output items (see :func:`function_call` and :func:`message`).
        model: The model name echoed back.
        response_id: The response id; a fresh one when omitted.
        previous_response_id: Echoed back like the real API does.
        input_tokens: Usage: input tokens.
        cached_tokens: Usage: input tokens served from the prompt cache.
        output_tokens: Usage: output tokens.
    """
    return {
        "id": response_id or _next_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
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
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }
