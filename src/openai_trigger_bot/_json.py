"""JSON helpers: compact dumps matching the OpenAI SDK, and tool-output serialisation."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["UnserialisableOutput", "dumps", "dumps_bytes", "output_text", "to_jsonable"]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Serialise plain JSON data compactly (same separators as the OpenAI SDK)."""
    return _encoder.encode(value)


def dumps_bytes(value: Any) -> bytes:
    """Like :func:`dumps`, as UTF-8 bytes ready to send."""
    return _encoder.encode(value).encode()


class UnserialisableOutput(TypeError):
    """An action returned a value that cannot be turned into JSON."""


def to_jsonable(value: Any) -> Any:
    """Turn common Python values into plain JSON data.

    Handles pydantic models, dataclasses, datetimes, enums, UUIDs, decimals, sets, tuples and
    plain containers (through pydantic's serialiser).

    Raises:
        UnserialisableOutput: The value (or something inside it) has no JSON form.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        return to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError) as exc:
        raise UnserialisableOutput(
            f"a value of type {type(value).__name__} cannot be serialised to JSON"
        ) from exc


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
