"""Check a request body against the openai SDK's own request types, as the real API does.

The SDK's ``TypedDict`` types (``ResponseCreateParams``, ``EmbeddingCreateParams``) are
generated from the API's OpenAPI spec, so they say which keys exist and what each value may
be. A pydantic ``TypeAdapter`` over them, in strict mode (no coercion: ``"5"`` is not an
integer), checks the values; keys the types do not know are found by comparing the body with
what pydantic kept (it drops unknown ``TypedDict`` keys). ``Iterable`` fields validate lazily in
pydantic, so the result is walked and every iterator consumed.

Errors are reported like the API's (``{"message", "type", "param", "code"}``): "Unknown
parameter: 'tools[0].bogus'." (``unknown_parameter``), "Missing required parameter: ..."
(``missing_required_parameter``), "Invalid type for 'max_output_tokens': expected an integer,
but got a string instead." (``invalid_type``), "Invalid value: 'x'. Supported values are: ..."
(``invalid_value``). Of a union, the member whose ``type`` matches the body is the one
reported, as the API discriminates on ``type``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx2
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["ApiError", "sdk_shape_error"]

Loc = tuple[str | int, ...]

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a decimal number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "iterable_type": "an array",
    "tuple_type": "an array",
    "dict_type": "an object",
    "typed_dict_type": "an object",
    "model_type": "an object",
    "none_required": "null",
}


@dataclass(frozen=True)
class ApiError:
    """A refusal in the real API's error shape.

    Attributes:
        message: What is wrong, in the API's words.
        param: The parameter at fault (``tools[0].parameters``), if any.
        code: The API's error code (``invalid_value``, ...), if any.
        status: The HTTP status.
    """

    message: str
    param: str | None = None
    code: str | None = None
    status: int = 400

    def body(self) -> dict[str, Any]:
        """The JSON body the API answers with."""
        error = {"message": self.message, "type": "invalid_request_error"}
        return {"error": {**error, "param": self.param, "code": self.code}}

    def response(self) -> httpx2.Response:
        """The HTTP answer."""
        return httpx2.Response(self.status, json=self.body())


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    """The SDK's request type for ``kind``, built once (about 0.1 s for the Responses one)."""
    if kind == "embeddings":
        from openai.types.embedding_create_params import EmbeddingCreateParams

        return TypeAdapter(EmbeddingCreateParams)
    from openai.types.responses import response_create_params as params

    if kind == "responses-stream":
        return TypeAdapter(params.ResponseCreateParamsStreaming)
    return TypeAdapter(params.ResponseCreateParamsNonStreaming)


def sdk_shape_error(kind: str, body: dict[str, Any]) -> ApiError | None:
    """Why the API would refuse ``body`` by its shape, or ``None``.

    Args:
        kind: ``"responses"`` or ``"embeddings"``.
        body: The decoded JSON request body.
    """
    if kind == "responses" and body.get("stream") is True:
        kind = "responses-stream"
    try:
        validated = _adapter(kind).validate_python(body, strict=True)
    except ValidationError as exc:
        return _from_pydantic(exc.errors(), body, ())
    return _compare(body, validated, ())


def _compare(raw: Any, validated: Any, loc: Loc) -> ApiError | None:
    """Consume lazy iterators and find keys pydantic dropped (unknown to the SDK's types)."""
    if isinstance(validated, Iterator) and not isinstance(validated, (str, bytes)):
        try:
            validated = list(validated)
        except ValidationError as exc:
            return _from_pydantic(exc.errors(), raw, loc)
    if isinstance(raw, dict) and isinstance(validated, dict):
        for key, value in raw.items():
            if key not in validated:
                param = _param((*loc, key))
                return ApiError(f"Unknown parameter: '{param}'.", param, "unknown_parameter")
            problem = _compare(value, validated[key], (*loc, key))
            if problem:
                return problem
    elif isinstance(raw, list) and isinstance(validated, (list, tuple)):
        for i, (item, done) in enumerate(zip(raw, validated, strict=False)):
            problem = _compare(item, done, (*loc, i))
            if problem:
                return problem
    return None


def _param(loc: Sequence[str | int]) -> str:
    text = ""
    for segment in loc:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else segment)
    return text


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


@dataclass(frozen=True)
class _Error:
    keys: Loc  # the path in the body (union member tags removed)
    members: tuple[Loc, ...]  # each union member on the way: its loc up to and with its tag
    detail: ErrorDetails
    value: Any  # the body's value at ``keys`` (if present)


def _split(detail: ErrorDetails, root: Any, prefix: Loc) -> _Error:
    """Separate a pydantic error location into body keys and union member tags."""
    keys: list[str | int] = list(prefix)
    members: list[Loc] = []
    node, loc = root, tuple(detail["loc"])
    for i, segment in enumerate(loc):
        last = i == len(loc) - 1
        is_key = isinstance(node, dict) and segment in node
        is_index = isinstance(node, list) and isinstance(segment, int) and segment < len(node)
        if is_key or is_index:
            keys.append(segment)
            node = node[segment]
        elif last and detail["type"] == "missing":
            keys.append(segment)
            node = None
        else:
            members.append((*prefix, *loc[: i + 1]))
    return _Error(tuple(keys), tuple(members), detail, node)


def _from_pydantic(details: list[ErrorDetails], root: Any, prefix: Loc) -> ApiError:
    errors = [_split(d, root, ()) for d in details]
    errors = [
        _Error((*prefix, *e.keys), tuple((*prefix, *m) for m in e.members), e.detail, e.value)
        for e in errors
    ]
    # A union member whose `type` did not match the body is not the one the API would use.
    wrong = {
        m
        for e in errors
        for m in e.members
        if e.detail["type"] in ("literal_error", "missing")
        and e.detail["loc"][-1] == "type"
        and tuple((*prefix, *e.detail["loc"])) == (*m, "type")
    }
    kept = [e for e in errors if not wrong.intersection(e.members)]
    if not kept:
        return _no_member(errors)
    # Of the members left, the one that got deepest into the body, then with fewest errors.
    depth: dict[tuple[Loc, ...], int] = {}
    count: dict[tuple[Loc, ...], int] = {}
    for e in kept:
        depth[e.members] = max(depth.get(e.members, 0), len(e.keys))
        count[e.members] = count.get(e.members, 0) + 1
    best = min(kept, key=lambda e: (-depth[e.members], count[e.members]))
    return _message(best)


def _no_member(errors: list[_Error]) -> ApiError:
    """No union member has the body's ``type``: report the ``type`` itself."""
    first = errors[0]
    types = [e for e in errors if e.keys[-1:] == ("type",)]
    if not types or types[0].detail["type"] == "missing":
        return _message(types[0] if types else first)
    expected = ", ".join(
        str(e.detail.get("ctx", {}).get("expected", "")) for e in types if "ctx" in e.detail
    )
    param = _param(types[0].keys)
    return ApiError(
        f"Invalid value: {types[0].value!r}. Supported values are: {expected}.",
        param,
        "invalid_value",
    )


def _message(error: _Error) -> ApiError:
    kind = error.detail["type"]
    param = _param(error.keys)
    if kind == "missing":
        return ApiError(
            f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
        )
    if kind in _EXPECTED:
        got = _json_kind(error.detail.get("input"))
        return ApiError(
            f"Invalid type for '{param}': expected {_EXPECTED[kind]}, but got {got} instead.",
            param,
            "invalid_type",
        )
    if kind in ("literal_error", "enum"):
        expected = error.detail.get("ctx", {}).get("expected", "")
        shown = error.detail.get("input")
        return ApiError(
            f"Invalid value: {shown!r}. Supported values are: {expected}.", param, "invalid_value"
        )
    return ApiError(f"Invalid value for '{param}': {error.detail['msg']}.", param, "invalid_value")
