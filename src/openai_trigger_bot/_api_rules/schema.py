"""The strict-mode JSON Schema subset the API accepts for a function tool's ``parameters``.

:func:`schema_problems` walks a schema once (the root, then each ``$defs`` entry once) and
reports every rule it breaks, each with where (the API's ``context`` tuple and a readable path)
and why (the API's own words where known, naming the limit). The rules and their sources
(keys as in :mod:`.limits`):

* ``[SO]`` Structured Outputs, "Supported schemas": the supported types and keywords; the root
  is an object and not ``anyOf``; every object has ``additionalProperties: false`` and lists
  every property in ``required``; ``anyOf`` members follow the same subset; ``$defs`` and
  ``$ref`` (to ``#`` or ``#/$defs/<name>``, recursion allowed); the limits on depth, property
  count, enum count and string lengths; ``allOf``, ``not``, ``if``/``then``/``else``,
  ``dependentRequired``, ``dependentSchemas`` (and every keyword not listed) unsupported.
* ``[ERR]`` The API's error texts: "schema must have a 'type' key" for an untyped node such as
  ``{"enum": [...]}`` (shared/NOTES.md); "In context=('properties', 'name'), 'default' is not
  permitted" (github.com/dotnet/extensions/issues/6196, so unlisted keywords are refused).
* ``[SDK]`` openai-python ``src/openai/lib/_pydantic.py``: "we can't use `$ref`s if there are
  also other properties defined, e.g. `{"$ref": "...", "description": "my description"}`".
* ``[RE]`` see :mod:`.regex` (no look-around; must compile with Python's ``re``).

Counted conservatively where the documentation is silent: the root object is nesting level 1
and every object or array below it adds a level; non-string enum values count the length of
their JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .limits import (
    SCHEMA_LARGE_ENUM_MAX_CHARS,
    SCHEMA_LARGE_ENUM_VALUES,
    SCHEMA_MAX_DEPTH,
    SCHEMA_MAX_ENUM_VALUES,
    SCHEMA_MAX_PROPERTIES,
    SCHEMA_MAX_STRING_CHARS,
    SUPPORTED_FORMATS,
)
from .regex import pattern_problem

__all__ = ["SchemaProblem", "schema_problems"]

Context = tuple[str, ...]

#: The JSON types strict mode supports [SO] (``null`` makes a type nullable).
_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
#: Every keyword strict mode supports [SO]; any other is "not permitted" [ERR].
_KEYWORDS = frozenset(
    {"type", "description", "title", "enum", "const", "anyOf", "$ref"}
    | {"properties", "required", "additionalProperties"}  # objects
    | {"items", "minItems", "maxItems"}  # arrays
    | {"pattern", "format"}  # strings
    | {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}  # numbers
)
_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


@dataclass(frozen=True)
class SchemaProblem:
    """One rule of the API's strict-schema subset that a schema breaks.

    Attributes:
        context: Keys from the schema root to the node, as the API reports them.
        where: The same place, readable: a property path (``items[*].name``), prefixed with
            ``<Name>`` inside the definition ``Name``; ``""`` for the root.
        reason: What the API refuses there, naming the rule or the limit.
    """

    context: Context
    where: str
    reason: str

    def api_message(self, function: str) -> str:
        """The message the API answers with, for the function tool named ``function``."""
        return (
            f"Invalid schema for function '{function}': In context={self.context!r}, {self.reason}."
        )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _value_type(value: Any) -> str | None:
    return _SCALARS.get(type(value))


def _matches(value: Any, types: set[str]) -> bool:
    kind = _value_type(value)
    return kind in types or (kind == "integer" and "number" in types)


class _Walk:
    """One pass over a schema, collecting problems and the running totals of the limits."""

    def __init__(self, root: dict[str, Any]) -> None:
        defs = root.get("$defs", {})
        self.defs: dict[str, Any] = defs if isinstance(defs, dict) else {}
        self.problems: list[SchemaProblem] = []
        self.properties = 0
        self.enum_values = 0
        self.chars = 0
        self._depths: dict[str, int] = {}
        self._over_enum_limit = False

    def add(self, context: Context, where: str, reason: str) -> None:
        self.problems.append(SchemaProblem(context, where, reason))

    # ------------------------------------------------------------------ depth
    def depth(self, node: Any, stack: frozenset[str] = frozenset()) -> int:
        """Levels of objects and arrays in ``node`` (itself included), recursion cut."""
        if not isinstance(node, dict):
            return 0
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix("#/$defs/")
            if ref == "#" or name in stack or name not in self.defs:
                return 0  # recursion is allowed [SO]; it adds no fixed depth
            if name not in self._depths:
                self._depths[name] = self.depth(self.defs[name], stack | {name})
            return self._depths[name]
        types = _types_of(node)
        own = 1 if types & {"object", "array"} else 0
        children = [*_dict_values(node.get("properties")), node.get("items")]
        children += list(node.get("anyOf") or ()) if isinstance(node.get("anyOf"), list) else []
        return own + max((self.depth(c, stack) for c in children), default=0)

    # ------------------------------------------------------------------ nodes
    def node(self, node: Any, context: Context, where: str, level: int | None) -> None:
        """Check one schema node and its children; ``level``: its nesting (None in $defs)."""
        if not isinstance(node, dict):
            self.add(context, where, "a schema must be a JSON object")
            return
        for key in node:
            if key not in _KEYWORDS and not (key == "$defs" and context == ()):
                self.add(context, where, f"{key!r} is not permitted")
        if "$ref" in node:
            self._ref(node, context, where, level)
            return
        if "type" not in node and "anyOf" not in node:
            self.add(context, where, "schema must have a 'type' key")
        types = self._type(node, context, where)
        if level is not None and types & {"object", "array"}:
            level += 1
            if level > SCHEMA_MAX_DEPTH:
                self.add(
                    context, where, f"nesting depth {level} exceeds the limit of {SCHEMA_MAX_DEPTH}"
                )
                level = None  # report once per branch
        self._enum(node, context, where, types)
        self._strings(node, context, where)
        if "object" in types or "properties" in node:
            self._object(node, context, where, level)
        if "array" in types or "items" in node:
            self._array(node, context, where, level)
        any_of = node.get("anyOf")
        if any_of is not None:
            if not isinstance(any_of, list) or not any_of:
                self.add(context, where, "'anyOf' must be a non-empty array of schemas")
            else:
                for i, sub in enumerate(any_of):
                    self.node(sub, (*context, "anyOf", str(i)), where, level)

    def _ref(self, node: dict[str, Any], context: Context, where: str, level: int | None) -> None:
        ref = node["$ref"]
        siblings = sorted(k for k in node if k != "$ref")
        if siblings:  # [SDK]
            self.add(context, where, f"$ref cannot have keywords {siblings!r}")
        if ref == "#":
            return
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
        if name is None or name == ref or name not in self.defs:
            self.add(context, where, f"reference {ref!r} must name an entry of $defs (or be '#')")
            return
        total = (level or 0) + self.depth(self.defs[name], frozenset({name}))
        if level is not None and total > SCHEMA_MAX_DEPTH:
            self.add(
                context,
                where,
                f"nesting depth {total} (through definition {name!r}) exceeds the limit of "
                f"{SCHEMA_MAX_DEPTH}",
            )

    def _type(self, node: dict[str, Any], context: Context, where: str) -> set[str]:
        typ = node.get("type")
        if typ is None:
            return set()
        names = typ if isinstance(typ, list) else [typ]
        bad = [t for t in names if not isinstance(t, str) or t not in _TYPES]
        if bad or not names or len(set(map(str, names))) != len(names):
            self.add(context, where, f"'type' {typ!r} is not a supported type or list of types")
        return {t for t in names if isinstance(t, str)}

    def _enum(self, node: dict[str, Any], context: Context, where: str, types: set[str]) -> None:
        values = node.get("enum")
        consts = [node["const"]] if "const" in node else []
        if values is not None and (not isinstance(values, list) or not values):
            self.add(context, where, "'enum' must be a non-empty array")
            values = []
        values = values or []
        for value in [*values, *consts]:
            if _value_type(value) is None:
                self.add(
                    context, where, f"enum value {value!r} is not a string, number, boolean or null"
                )
            elif types and not _matches(value, types):
                self.add(context, where, f"enum value {value!r} is not of type {sorted(types)}")
            self.chars += len(value) if isinstance(value, str) else len(json.dumps(value))
        if not values:
            return
        self.enum_values += len(values)
        if self.enum_values > SCHEMA_MAX_ENUM_VALUES and not self._over_enum_limit:
            self._over_enum_limit = True  # reported once, where the total first goes over
            self.add(
                context,
                where,
                f"{self.enum_values} enum values in all exceed the limit of "
                f"{SCHEMA_MAX_ENUM_VALUES}",
            )
        strings = [v for v in values if isinstance(v, str)]
        size = sum(map(len, strings))
        if len(strings) > SCHEMA_LARGE_ENUM_VALUES and size > SCHEMA_LARGE_ENUM_MAX_CHARS:
            self.add(
                context,
                where,
                f"an enum of {len(strings)} strings (over {SCHEMA_LARGE_ENUM_VALUES}) totals "
                f"{size} characters, over the limit of {SCHEMA_LARGE_ENUM_MAX_CHARS}",
            )

    def _strings(self, node: dict[str, Any], context: Context, where: str) -> None:
        fmt = node.get("format")
        if fmt is not None and fmt not in SUPPORTED_FORMATS:
            self.add(context, where, f"format {fmt!r} is not supported")
        pattern = node.get("pattern")
        if pattern is not None:
            why = pattern_problem(pattern) if isinstance(pattern, str) else "not a string"
            if why:
                self.add((*context, "pattern"), where, f"invalid 'pattern': {why}")

    def _object(
        self, node: dict[str, Any], context: Context, where: str, level: int | None
    ) -> None:
        if node.get("additionalProperties") is not False:
            self.add(
                context,
                where,
                "'additionalProperties' is required to be supplied and to be false",
            )
        props = node.get("properties", {})
        if not isinstance(props, dict):
            self.add(context, where, "'properties' must be an object")
            return
        required = node.get("required", [])
        missing = [k for k in props if not isinstance(required, list) or k not in required]
        if missing:
            self.add(
                context,
                where,
                "'required' is required to be supplied and to be an array including every "
                f"key in properties. Missing {missing[0]!r}",
            )
        for key, sub in props.items():
            self.properties += 1
            self.chars += len(key)
            if self.properties == SCHEMA_MAX_PROPERTIES + 1:
                self.add(
                    (*context, "properties", key),
                    _join(where, key),
                    f"more than {SCHEMA_MAX_PROPERTIES} object properties in all (the limit)",
                )
            self.node(sub, (*context, "properties", key), _join(where, key), level)

    def _array(self, node: dict[str, Any], context: Context, where: str, level: int | None) -> None:
        items = node.get("items")
        if items is None:
            self.add(context, where, "an array schema must have 'items'")
            return
        self.node(items, (*context, "items"), f"{where}[*]", level)


def _types_of(node: dict[str, Any]) -> set[str]:
    typ = node.get("type")
    names = typ if isinstance(typ, list) else [typ]
    return {t for t in names if isinstance(t, str)}


def _dict_values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.values()


def schema_problems(schema: Any) -> list[SchemaProblem]:
    """Every strict-mode rule ``schema`` breaks (empty if the API would accept it).

    Args:
        schema: A function tool's ``parameters`` (sent with ``strict: true``).

    Returns:
        The problems, in the order of a walk from the root, then the ``$defs`` entries.
    """
    if not isinstance(schema, dict):
        return [SchemaProblem((), "", "the schema must be a JSON object")]
    walk = _Walk(schema)
    if "anyOf" in schema:
        walk.add((), "", "the root schema must not be 'anyOf'")
    if schema.get("type") != "object":
        walk.add((), "", "the root schema must be of type 'object'")
    if "$defs" in schema and not isinstance(schema["$defs"], dict):
        walk.add(("$defs",), "", "'$defs' must be an object")
    walk.node(schema, (), "", 0)
    for name, sub in walk.defs.items():
        walk.chars += len(name)
        walk.node(sub, ("$defs", name), f"<{name}>", None)
    if walk.chars > SCHEMA_MAX_STRING_CHARS:
        walk.add(
            (),
            "",
            f"property names, definition names, enum and const values total {walk.chars} "
            f"characters, over the limit of {SCHEMA_MAX_STRING_CHARS}",
        )
    return walk.problems
