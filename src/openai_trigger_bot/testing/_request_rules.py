"""The real API's rules for a request, beyond its shape: what the scripted API refuses with 400.

Each check cites its source (keys as in ``openai_trigger_bot._api_rules.limits``: ``[SO]``
Structured Outputs "Supported schemas", ``[FN]`` function tools, ``[EMB]`` embeddings, ``[ERR]``
the API's error texts, ``[SDK]`` the docstrings of the openai SDK 3.57 request types, generated
from the API's spec). The shape of the body (keys and value types) is checked first, against
the SDK's types (:mod:`._request_shape`); reasoning items sent back last
(:mod:`._replay_rules`). Messages follow the API's own where they are known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._api_rules import (
    EMBEDDING_MAX_INPUTS,
    EMBEDDING_MAX_TOKENS_PER_INPUT,
    EMBEDDING_MAX_TOKENS_PER_REQUEST,
    MAX_OUTPUT_TOKENS_MIN,
    PROMPT_CACHE_KEY_MAX_CHARS,
    schema_problems,
    token_bound,
    tool_name_problem,
)
from ._replay_rules import IssuedItems
from ._request_shape import ApiError, sdk_shape_error

__all__ = ["ApiError", "embeddings_request_error", "responses_request_error"]

#: ``metadata``: "Set of 16 key-value pairs ... Keys ... maximum length of 64 characters.
#: Values ... maximum length of 512 characters" [SDK].
_METADATA_PAIRS, _METADATA_KEY_CHARS, _METADATA_VALUE_CHARS = 16, 64, 512
#: ``safety_identifier``: "with a maximum length of 128 characters" [SDK].
_SAFETY_IDENTIFIER_CHARS = 128


def responses_request_error(
    body: dict[str, Any],
    stored: Mapping[str, Sequence[str]],
    issued: IssuedItems | None = None,
) -> ApiError | None:
    """Why the real API would refuse this ``POST /responses`` body, or ``None``.

    Args:
        body: The decoded JSON body.
        stored: Each stored response's id and the call ids of its function calls.
        issued: The output items answered so far, to check reasoning items sent back
            (:mod:`._replay_rules`).
    """
    return (
        sdk_shape_error("responses", body)
        or _values(body)
        or _tools(body)
        or _text_format(body)
        or _tool_choice(body)
        or _chaining(body, stored)
        or (issued.error(body) if issued is not None else None)
    )


def _too_long(param: str, value: str, limit: int) -> ApiError:
    return ApiError(
        f"Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {len(value)} instead.",
        param,
        "string_above_max_length",
    )


def _values(body: dict[str, Any]) -> ApiError | None:
    key = body.get("prompt_cache_key")
    if isinstance(key, str) and len(key) > PROMPT_CACHE_KEY_MAX_CHARS:  # [ERR]
        return _too_long("prompt_cache_key", key, PROMPT_CACHE_KEY_MAX_CHARS)
    tokens = body.get("max_output_tokens")
    if isinstance(tokens, int) and tokens < MAX_OUTPUT_TOKENS_MIN:  # [ERR]
        return ApiError(
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
            f"{MAX_OUTPUT_TOKENS_MIN}, but got {tokens} instead.",
            "max_output_tokens",
            "integer_below_min_value",
        )
    ident = body.get("safety_identifier")
    if isinstance(ident, str) and len(ident) > _SAFETY_IDENTIFIER_CHARS:  # [SDK]
        return _too_long("safety_identifier", ident, _SAFETY_IDENTIFIER_CHARS)
    metadata = body.get("metadata")
    if isinstance(metadata, dict):  # [SDK]
        if len(metadata) > _METADATA_PAIRS:
            return ApiError(
                f"Invalid 'metadata': too many properties. Expected an object with at most "
                f"{_METADATA_PAIRS} properties, but got {len(metadata)} instead.",
                "metadata",
                "object_above_max_properties",
            )
        for name, value in metadata.items():
            if len(name) > _METADATA_KEY_CHARS:
                return _too_long(f"metadata.{name}", name, _METADATA_KEY_CHARS)
            if isinstance(value, str) and len(value) > _METADATA_VALUE_CHARS:
                return _too_long(f"metadata.{name}", value, _METADATA_VALUE_CHARS)
    if body.get("previous_response_id") and body.get("conversation"):  # [SDK] "Cannot be used
        return ApiError(  # in conjunction with `conversation`"
            "Parameters 'previous_response_id' and 'conversation' cannot be used together.",
            "previous_response_id",
            "invalid_value",
        )
    return None


def _tools(body: dict[str, Any]) -> ApiError | None:
    for i, tool in enumerate(body.get("tools") or ()):
        if tool.get("type") != "function":
            continue
        name = tool.get("name")
        why = tool_name_problem(name)  # [FN]
        if why:
            return ApiError(
                f"Invalid 'tools[{i}].name': string does not match pattern. Expected a string "
                f"that matches the pattern '^[a-zA-Z0-9_-]+$' (at most 64 characters): {why}.",
                f"tools[{i}].name",
                "invalid_value",
            )
        parameters = tool.get("parameters")
        # strict is true unless turned off ("strict: ... Defaults to true" in Responses) [SDK]
        if tool.get("strict") is not False and parameters is not None:
            problems = schema_problems(parameters)  # [SO], [ERR], [RE]
            if problems:
                return ApiError(
                    problems[0].api_message(str(name)),
                    f"tools[{i}].parameters",
                    "invalid_function_parameters",
                )
    return None


def _text_format(body: dict[str, Any]) -> ApiError | None:
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not fmt.get("strict"):
        return None
    problems = schema_problems(fmt.get("schema"))  # [SO]: the same subset as function tools
    if problems:
        message = problems[0].api_message(str(fmt.get("name")))
        message = message.replace("for function", "for response_format", 1)
        return ApiError(message, "text.format.schema", "invalid_json_schema")
    return None


def _tool_choice(body: dict[str, Any]) -> ApiError | None:
    choice = body.get("tool_choice")
    names = {t.get("name") for t in body.get("tools") or () if t.get("type") == "function"}
    forced = choice.get("name") if isinstance(choice, dict) else None
    if isinstance(choice, dict) and choice.get("type") == "function" and forced not in names:
        return ApiError(  # a forced function must be one offered [ERR]
            f"Tool choice 'function' not found in 'tools' parameter: {forced!r} is not a "
            "function tool of this request.",
            "tool_choice",
            "invalid_value",
        )
    if choice == "required" and not body.get("tools"):
        return ApiError(
            "Tool choice 'required' must be specified with 'tools' parameter.",
            "tool_choice",
            "invalid_value",
        )
    return None


def _items(body: dict[str, Any], kind: str) -> list[str]:
    inputs = body.get("input")
    if not isinstance(inputs, list):
        return []
    return [str(i.get("call_id")) for i in inputs if isinstance(i, dict) and i.get("type") == kind]


def _chaining(body: dict[str, Any], stored: Mapping[str, Sequence[str]]) -> ApiError | None:
    """Chaining needs a stored response; every function call gets exactly its output [ERR]."""
    prev = body.get("previous_response_id")
    if prev and prev not in stored:  # shared/NOTES.md: "works only when ... stored"
        return ApiError(
            f"Previous response with id '{prev}' not found (was it created with store=true?).",
            "previous_response_id",
            "previous_response_not_found",
        )
    calls = [*(stored[prev] if prev else ()), *_items(body, "function_call")]
    outputs = _items(body, "function_call_output")
    for call_id in calls:
        if call_id not in outputs:
            return ApiError(f"No tool output found for function call {call_id}.", "input")
    for call_id in outputs:
        if call_id not in calls:
            return ApiError(
                f"No tool call found for function call output with call_id {call_id}.", "input"
            )
    return None


def embeddings_request_error(body: dict[str, Any]) -> ApiError | None:
    """Why the real API would refuse this ``POST /embeddings`` body, or ``None`` [EMB].

    Tokens are counted with an upper bound (UTF-8 bytes) that never undercounts.
    """
    inputs = body.get("input")
    problem = sdk_shape_error("embeddings", {**body, "input": "-"})
    if problem:
        return problem
    if not isinstance(inputs, (str, list)) or not inputs:
        return ApiError("'$.input' is invalid: expected a string or a non-empty array.", "input")
    texts: list[Any] = [inputs] if isinstance(inputs, str) else inputs
    if all(isinstance(t, int) and not isinstance(t, bool) for t in texts):
        texts = [texts]  # one token array
    if len(texts) > EMBEDDING_MAX_INPUTS:
        return ApiError(
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{EMBEDDING_MAX_INPUTS}, but got an array with length {len(texts)} instead.",
            "input",
            "array_above_max_length",
        )
    sizes: list[int] = []
    for i, text in enumerate(texts):
        if isinstance(text, str):
            size = token_bound(text)
        elif isinstance(text, list) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in text
        ):
            size = len(text)
        else:
            return ApiError(
                f"Invalid type for 'input[{i}]': expected a string or an array of integers.",
                f"input[{i}]",
                "invalid_type",
            )
        if size == 0:
            return ApiError(f"Invalid 'input[{i}]': the input cannot be empty.", f"input[{i}]")
        if size > EMBEDDING_MAX_TOKENS_PER_INPUT:
            return ApiError(
                f"This model's maximum context length is {EMBEDDING_MAX_TOKENS_PER_INPUT} "
                f"tokens, however you requested {size} tokens ({size} in your prompt; 0 for "
                "the completion). Please reduce your prompt; or completion length.",
                f"input[{i}]",
            )
        sizes.append(size)
    if sum(sizes) > EMBEDDING_MAX_TOKENS_PER_REQUEST:
        return ApiError(
            f"Requested {sum(sizes)} tokens, max {EMBEDDING_MAX_TOKENS_PER_REQUEST} tokens per "
            "request",
            "input",
            "max_tokens_per_request",
        )
    return None
