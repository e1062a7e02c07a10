"""Give every enum a JSON type, as strict mode requires.

Pydantic describes a ``Literal`` or ``Enum`` whose values are not all of one JSON type
(``Literal["low", "high", None]``, ``Literal[1.5, 2]``, an Enum mixing strings and numbers)
as ``{"enum": [...]}`` with no ``type``, which the API refuses ("schema must have a 'type'
key"). :func:`typed_enum` splits the values by JSON type: one type gives
``{"type": T, "enum": [...]}``; several give an ``anyOf`` of one such node per type (``null``
as ``{"type": "null"}``). Integers join numbers when both appear (every integer is a number).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["EnumTypeError", "json_type", "typed_enum"]

_KINDS = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


class EnumTypeError(ValueError):
    """An enum value that is not a JSON scalar (a string, number, boolean or null)."""


def json_type(value: Any) -> str | None:
    """The JSON type of a scalar enum value, or ``None`` for anything else."""
    return _KINDS.get(type(value))


def typed_enum(values: list[Any]) -> dict[str, Any]:
    """A typed schema accepting exactly ``values``.

    Args:
        values: The enum values, in order (their order is kept within each type).

    Returns:
        ``{"type": T, "enum": values}`` or ``{"anyOf": [...]}`` with one member per type.

    Raises:
        EnumTypeError: A value is not a string, number, boolean or null.
    """
    kinds: list[str] = []
    for value in values:
        kind = json_type(value)
        if kind is None:
            shown = json.dumps(value, default=repr)[:40]
            raise EnumTypeError(
                f"its allowed value {shown} is not a string, number, boolean or null, which a "
                "strict tool schema cannot express; use scalar Literal or Enum values"
            )
        kinds.append(kind)
    if "integer" in kinds and "number" in kinds:
        kinds = ["number" if k == "integer" else k for k in kinds]
    groups: dict[str, list[Any]] = {}
    for kind, value in zip(kinds, values, strict=True):
        groups.setdefault(kind, []).append(value)
    members = [
        {"type": "null"} if kind == "null" else {"type": kind, "enum": group}
        for kind, group in groups.items()
    ]
    return members[0] if len(members) == 1 and "enum" in members[0] else {"anyOf": members}
