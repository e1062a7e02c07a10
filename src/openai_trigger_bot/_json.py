"""JSON helpers: compact dumps matching the OpenAI SDK, and tool-output serialisation."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = [
    "MAX_DEPTH",
    "UnserialisableOutput",
    "deeper_than",
    "dumps",
    "dumps_bytes",
    "output_text",
    "to_jsonable",
]

MAX_DEPTH = 64
"""How deep the JSON data we record may nest (arguments from the model, action outputs).

Deeper data is refused where it enters (an ``invalid`` call, a ``tool_error``): records must
stay serialisable and walkable by recursive code (pydantic's serialiser, the secret scrub).
Strict schemas nest at most 10 levels; recursive models may go deeper, rarely past a few dozen.
"""

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Serialise plain JSON data compactly (same separators as the OpenAI SDK)."""
    return _encoder.encode(value)


def dumps_bytes(value: Any) -> bytes:
    """Like :func:`dumps`, as UTF-8 bytes ready to send."""
    return _encoder.encode(value).encode()


def deeper_than(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON data (dicts and lists) nests deeper than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, (dict, list, tuple))
        )
    return False


class UnserialisableOutput(TypeError):
    """An action returned a value that cannot be turned into JSON."""


def to_jsonable(value: Any) -> Any:
    """Turn common Python values into plain JSON data.

    Handles pydantic models, dataclasses, datetimes, enums, UUIDs, decimals, sets, tuples and
    plain containers (through pydantic's serialiser).

    Raises:
        UnserialisableOutput: The value (or something inside it) has no JSON form, or it nests
            deeper than :data:`MAX_DEPTH` levels.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        data = to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError, RecursionError) as exc:
        raise UnserialisableOutput(
            f"a value of type {type(value).__name__} cannot be serialised to JSON"
        ) from exc
    if deeper_than(data):
        raise UnserialisableOutput(
            f"a value of type {type(value).__name__} nests deeper than {MAX_DEPTH} levels"
        )
    return data


def output_text(value: Any) -> str:
    """The text sent to the model as a tool's output: strings as is, anything else as JSON.

    Raises:
        UnserialisableOutput: The value has no JSON form.
    """
    if isinstance(value, str):
        return value
    data = to_jsonable(value)
    try:
        return dumps(data)
    except ValueError as exc:  # NaN / infinity
        raise UnserialisableOutput(f"the value cannot be serialised to JSON: {exc}") from exc
