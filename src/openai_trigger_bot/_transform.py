"""Map the model's strict-mode JSON back to what pydantic validates.

Compiled once from the same pydantic JSON schema that :mod:`._strict` rewrites, the transform
undoes the strict encodings: arrays of ``{"key", "value"}`` objects become dicts again, and a
``null`` sent for a property that has a default (and whose type does not accept ``None``) is
removed so that the default applies. Schemas that need none of this compile to ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ._strict import JsonDict, SchemaDefs, merge_all_of

__all__ = ["ShapeError", "Transform", "compile_transform"]

Transform = Callable[[Any], Any]


class ShapeError(Exception):
    """The model's JSON does not have the shape the transform expects.

    Attributes:
        loc: Location of the problem, innermost last (filled in while unwinding).
        msg: Short description written for the model.
    """

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.loc: list[Any] = []
        self.msg = msg


class _TransformCompiler(SchemaDefs):
    def __init__(self, root: JsonDict) -> None:
        super().__init__(root)
        self.done: dict[str, Transform | None] = {}
        self.pending: dict[str, list[Transform]] = {}

    def kind(self, node: JsonDict, seen: frozenset[str] = frozenset()) -> str:
        """Which JSON values a schema's transform applies to: "object", "list" or "any"."""
        node = merge_all_of(node, "")
        if "$ref" in node:
            name = self.name(str(node["$ref"]))
            return "any" if name in seen else self.kind(self.defs[name], seen | {name})
        if node.get("type") == "array" or (
            node.get("type") == "object" and "properties" not in node
        ):
            return "list"
        return "object" if node.get("type") == "object" else "any"

    def compile(self, node: JsonDict) -> Transform | None:
        node = merge_all_of(node, "")
        if "$ref" in node:
            return self._ref(self.name(str(node["$ref"])))
        if "anyOf" in node or "oneOf" in node:
            return self._union([*node.get("anyOf", ()), *node.get("oneOf", ())])
        if node.get("type") == "object":
            if "properties" in node:
                return self._object(node)
            values = node.get("additionalProperties")
            return _key_value(self.compile(values) if isinstance(values, dict) else None)
        if node.get("type") == "array":
            prefix = [self.compile(s) for s in node.get("prefixItems", ())]
            items = node.get("items")
            tail = self.compile(items) if isinstance(items, dict) else None
            return _array(prefix, tail) if tail is not None or any(prefix) else None
        return None

    def _ref(self, name: str) -> Transform | None:
        if name in self.done:
            return self.done[name]
        if name in self.pending:
            cell = self.pending[name]
            return lambda value: cell[0](value)
        cell = self.pending[name] = [_identity]
        fn = self.compile(self.defs[name])
        del self.pending[name]
        if fn is not None:
            cell[0] = fn
        self.done[name] = fn
        return fn

    def _object(self, node: JsonDict) -> Transform | None:
        props: JsonDict = node["properties"]
        required = set(node.get("required", ()))
        subs = {k: fn for k, s in props.items() if (fn := self.compile(s)) is not None}
        drop = frozenset(
            k for k, s in props.items() if k not in required and not self.accepts_null(s)
        )
        if not subs and not drop:
            return None

        def transform(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out: JsonDict = {}
            for key, item in value.items():
                if item is None:
                    if key not in drop:
                        out[key] = None
                    continue
                fn = subs.get(key)
                if fn is None:
                    out[key] = item
                    continue
                try:
                    out[key] = fn(item)
                except ShapeError as exc:
                    exc.loc.insert(0, key)
                    raise
            return out

        return transform

    def _union(self, variants: list[JsonDict]) -> Transform | None:
        compiled = [(fn, self.kind(v), v) for v in variants if (fn := self.compile(v)) is not None]
        if not compiled:
            return None
        objects = [(fn, self._keys(v)) for fn, kind, v in compiled if kind in ("object", "any")]
        lists = [fn for fn, kind, _ in compiled if kind in ("list", "any")]

        def transform(value: Any) -> Any:
            if isinstance(value, dict) and objects:
                keys = value.keys()
                for fn, names in objects:
                    if names is None or keys <= names:
                        return fn(value)
                return objects[0][0](value)
            if isinstance(value, list) and lists:
                return lists[0](value)
            return value

        return transform

    def _keys(self, node: JsonDict) -> frozenset[str] | None:
        node = merge_all_of(node, "")
        if "$ref" in node:
            node = self.defs[self.name(str(node["$ref"]))]
        props = node.get("properties")
        return frozenset(props) if isinstance(props, dict) else None


def _identity(value: Any) -> Any:
    return value


def _key_value(values: Transform | None) -> Transform:
    def transform(value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, dict):
            pairs = list(value.items())
        elif isinstance(value, list):
            pairs = []
            for index, entry in enumerate(value):
                if not isinstance(entry, dict) or set(entry) != {"key", "value"}:
                    exc = ShapeError("expected an object with exactly 'key' and 'value'")
                    exc.loc.append(index)
                    raise exc
                pairs.append((entry["key"], entry["value"]))
        else:
            raise ShapeError("expected an array of {key, value} objects")
        out: dict[Any, Any] = {}
        for key, item in pairs:
            if isinstance(key, dict | list):
                raise ShapeError("a key must be a string or a number")
            if key in out:
                raise ShapeError(f"duplicate key {json.dumps(key, default=str)[:40]}")
            try:
                out[key] = values(item) if values is not None and item is not None else item
            except ShapeError as exc:
                exc.loc.insert(0, key)
                raise
        return out

    return transform


def _array(prefix: list[Transform | None], tail: Transform | None) -> Transform:
    def transform(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for index, item in enumerate(value):
            fn = prefix[index] if index < len(prefix) else tail
            try:
                out.append(fn(item) if fn is not None and item is not None else item)
            except ShapeError as exc:
                exc.loc.insert(0, index)
                raise
        return out

    return transform


def compile_transform(root: JsonDict) -> Transform | None:
    """Build the JSON-to-JSON transform applied to the model's arguments before validation.

    Args:
        root: The same pydantic schema given to :func:`to_strict_schema`.

    Returns:
        The transform, or ``None`` when the arguments need no rewriting (the fast path).
    """
    return _TransformCompiler(root).compile({k: v for k, v in root.items() if k != "$defs"})
