"""Turn pydantic's JSON schema into an OpenAI *strict* function-tool schema.

Two consumers walk the same pydantic (validation-mode) JSON schema:

* :func:`to_strict_schema` rewrites it into the subset strict mode accepts: every object
  closed (``additionalProperties: false``) with all its properties ``required``; properties
  that have a default become nullable (the default is mentioned in the description);
  free-form ``dict[K, V]`` becomes an array of ``{"key": K, "value": V}`` objects; fixed-length
  tuples (``prefixItems``, not supported) become an array of the union of their item types
  with ``minItems``/``maxItems``; ``oneOf`` becomes ``anyOf``; a single ``allOf`` is merged;
  a ``$ref`` carrying siblings is inlined; an enum without a ``type`` (mixed or ``None``
  values) gets one, or an ``anyOf`` of one typed enum per JSON type (``_strict_enum``);
  keywords strict mode does not support are dropped (``title``, ``default``, ``examples``,
  ``discriminator``, ``minLength``, ``maxLength``, ``uniqueItems``, ``propertyNames``,
  unsupported ``format`` values, a ``pattern`` the API cannot compile, ...), with a short hint
  added to the description where the model needs to know the constraint (pydantic still
  enforces all of them).
* ``_transform.compile_transform`` builds the function that maps the model's JSON back to
  what pydantic validates: key/value arrays back to dicts, and ``null`` for a property with a
  default (whose type does not accept ``None``) removed so the default applies.

Supported keywords were checked against OpenAI's "Structured Outputs → Supported schemas";
``_schema_build.check_api_rules`` then holds the result to the API's rules (``_api_rules``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, JsonSchemaWarningKind
from pydantic_core import core_schema

from ._api_rules import SUPPORTED_FORMATS, pattern_problem
from ._strict_enum import EnumTypeError, typed_enum

__all__ = [
    "SUPPORTED_FORMATS",
    "SchemaDefs",
    "SchemaGenerator",
    "StrictSchemaError",
    "merge_all_of",
    "to_strict_schema",
]

JsonDict = dict[str, Any]

#: Keywords copied unchanged (all are supported in strict mode).
_PASSTHROUGH = (
    "type",
    "enum",
    "pattern",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "minItems",
    "maxItems",
)
_NULL: JsonDict = {"type": "null"}
_UNCONSTRAINED = (
    "its type is unconstrained (typing.Any, object, or a bare list/tuple without item "
    "types), which a strict tool schema cannot express; use a concrete type such as str, "
    "list[int], a TypedDict, a dataclass or a pydantic model"
)
_FREE_FORM = (
    "it is a free-form object (bare dict or dict[str, Any]), which a strict tool schema cannot "
    "express; use dict[str, <concrete type>] (sent as a list of key/value pairs), a "
    "TypedDict, a dataclass or a pydantic model"
)


class StrictSchemaError(Exception):
    """A part of the schema cannot be expressed in strict mode.

    Attributes:
        path: Where, starting with the parameter name (``items[*].meta``).
        reason: Why, and what to use instead.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SchemaGenerator(GenerateJsonSchema):
    """Pydantic JSON schema generator tuned for strict tools.

    Dicts always carry their key schema (``propertyNames``) so the key/value encoding knows the
    key type; ``Decimal`` is a plain number (pydantic's string pattern uses a look-ahead);
    warnings about skipped defaults or choices are not raised (they are irrelevant here).
    """

    ignored_warning_kinds: set[JsonSchemaWarningKind] = {  # noqa: RUF012 - as in the base class
        "skipped-choice",
        "non-serializable-default",
        "skipped-discriminator",
    }

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        """Describe a dict with its value schema and its key schema (``propertyNames``)."""
        keys = dict(self.generate_inner(schema["keys_schema"])) if "keys_schema" in schema else {}
        values = (
            dict(self.generate_inner(schema["values_schema"])) if "values_schema" in schema else {}
        )
        keys.pop("title", None)
        values.pop("title", None)
        out: JsonDict = {
            "type": "object",
            "additionalProperties": values,
            "propertyNames": keys or {"type": "string"},
        }
        self.update_with_validations(out, schema, self.ValidationsMapping.object)
        return out

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        """Describe ``Decimal`` as a JSON number (keeping numeric bounds)."""
        out = super().decimal_schema(schema)
        if "anyOf" in out:
            return dict(out["anyOf"][0])
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def with_default_note(node: JsonDict, default: Any) -> JsonDict:
    """Return ``node`` with "Defaults to X." added to its description (unless it says so)."""
    desc = str(node.get("description") or "")
    if "default" in desc.lower():
        return node
    rendered = json.dumps(default, ensure_ascii=False, default=str)
    if len(rendered) > 60:
        rendered = rendered[:57] + "..."
    note = f"Defaults to {rendered}."
    return {**node, "description": f"{_sentence(desc)} {note}" if desc else note}


def _nullable(schema: JsonDict) -> JsonDict:
    body = dict(schema)
    desc = body.pop("description", None)
    variants = [*body["anyOf"], _NULL] if set(body) == {"anyOf"} else [body, _NULL]
    out: JsonDict = {"anyOf": variants}
    if desc:
        out["description"] = desc
    return out


def _label(schema: JsonDict) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_label(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    typ = schema.get("type", "value")
    return "/".join(typ) if isinstance(typ, list) else str(typ)


class SchemaDefs:
    """Access to a schema's ``$defs`` (shared by the converter and the transform compiler)."""

    def __init__(self, root: JsonDict) -> None:
        self.defs: dict[str, JsonDict] = dict(root.get("$defs") or {})

    def name(self, ref: str) -> str:
        prefix = "#/$defs/"
        if not ref.startswith(prefix) or ref[len(prefix) :] not in self.defs:
            raise StrictSchemaError("$ref", f"unsupported reference {ref!r}")
        return ref[len(prefix) :]

    def accepts_null(self, node: JsonDict, seen: frozenset[str] = frozenset()) -> bool:
        """Whether ``node`` (a pydantic schema) already admits ``null``."""
        typ = node.get("type")
        if typ == "null" or (isinstance(typ, list) and "null" in typ):
            return True
        if None in node.get("enum", ()) or ("const" in node and node["const"] is None):
            return True
        variants = [*node.get("anyOf", ()), *node.get("oneOf", ()), *node.get("allOf", ())]
        if any(self.accepts_null(v, seen) for v in variants):
            return True
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = self.name(ref)
            return name not in seen and self.accepts_null(self.defs[name], seen | {name})
        return False


def merge_all_of(node: JsonDict, path: str) -> JsonDict:
    parts = node.get("allOf")
    if parts is None:
        return node
    if len(parts) != 1:
        raise StrictSchemaError(path, "allOf with several schemas is not supported in strict mode")
    rest = {k: v for k, v in node.items() if k != "allOf"}
    return {**parts[0], **rest}


class _Converter(SchemaDefs):
    def __init__(self, root: JsonDict) -> None:
        super().__init__(root)
        self.out_defs: dict[str, JsonDict] = {}
        self.in_progress: set[str] = set()

    def convert(self, node: JsonDict, path: str) -> JsonDict:
        node = merge_all_of(node, path)
        if "$ref" in node:
            return self._ref(node, path)
        if ("enum" in node or "const" in node) and "type" not in node:
            node = self._typed_enum(node, path)
        out: JsonDict = {}
        if "anyOf" in node or "oneOf" in node:
            variants = [*node.get("anyOf", ()), *node.get("oneOf", ())]
            out["anyOf"] = [self.convert(v, path) for v in variants]
            if node.get("description"):
                out["description"] = node["description"]
            return out
        for key in _PASSTHROUGH:
            if key in node:
                out[key] = node[key]
        if "const" in node:
            out["enum"] = [node["const"]]
        if node.get("format") in SUPPORTED_FORMATS:
            out["format"] = node["format"]
        hints: list[str] = []
        pattern = out.get("pattern")
        if isinstance(pattern, str) and pattern_problem(pattern):
            # The API refuses it (look-around, or not Python `re` syntax): tell the model in
            # words; our validator (pydantic) still enforces it.
            del out["pattern"]
            hints.append(f"Must match the regular expression `{pattern}`.")
        typ = node.get("type")
        if typ == "object":
            self._object(node, out, path, hints)
        elif typ == "array":
            self._array(node, out, path, hints)
        elif typ is None and "enum" not in out:
            raise StrictSchemaError(path, _UNCONSTRAINED)
        if "minLength" in node:
            hints.append(f"At least {node['minLength']} characters.")
        if "maxLength" in node:
            hints.append(f"At most {node['maxLength']} characters.")
        if node.get("uniqueItems"):
            hints.append("Items must be unique.")
        desc = [_sentence(str(node["description"]))] if node.get("description") else []
        if hints or desc:
            out["description"] = " ".join(desc + hints) if hints else str(node["description"])
        return out

    @staticmethod
    def _typed_enum(node: JsonDict, path: str) -> JsonDict:
        """``node`` with its enum typed (strict mode needs a ``type`` on every node)."""
        values = node["enum"] if "enum" in node else [node["const"]]
        try:
            typed = typed_enum(list(values))
        except EnumTypeError as exc:
            raise StrictSchemaError(path, str(exc)) from None
        rest = {k: v for k, v in node.items() if k not in ("enum", "const")}
        if "anyOf" in typed and rest.get("description"):
            return {"anyOf": typed["anyOf"], "description": rest["description"]}
        return {**rest, **typed}

    def _ref(self, node: JsonDict, path: str) -> JsonDict:
        ref = str(node["$ref"])
        name = self.name(ref)
        if name not in self.out_defs and name not in self.in_progress:
            self.in_progress.add(name)
            self.out_defs[name] = self.convert(self.defs[name], path)
            self.in_progress.discard(name)
        if not node.get("description") or name in self.in_progress:
            return {"$ref": ref}
        # A $ref may not carry siblings in strict mode: inline the definition instead.
        return {**self.out_defs[name], "description": node["description"]}

    def _object(self, node: JsonDict, out: JsonDict, path: str, hints: list[str]) -> None:
        props = node.get("properties")
        if props is None:
            self._key_value(node, out, path, hints)
            return
        required = set(node.get("required", ()))
        converted: JsonDict = {}
        for key, sub in props.items():
            if key not in required and "default" in sub:
                sub = with_default_note(sub, sub["default"])
            schema = self.convert(sub, _join(path, key))
            if key not in required and not self.accepts_null(sub):
                schema = _nullable(schema)
            converted[key] = schema
        out.update(properties=converted, required=list(converted), additionalProperties=False)

    def _key_value(self, node: JsonDict, out: JsonDict, path: str, hints: list[str]) -> None:
        values = node.get("additionalProperties")
        if not isinstance(values, dict) or not values:
            raise StrictSchemaError(path, _FREE_FORM)
        keys = node.get("propertyNames") or {"type": "string"}
        entry = {
            "type": "object",
            "properties": {
                "key": self.convert(keys, f"{path}<key>"),
                "value": self.convert(values, f"{path}[*]"),
            },
            "required": ["key", "value"],
            "additionalProperties": False,
        }
        out.update(type="array", items=entry)
        if "minProperties" in node:
            out["minItems"] = node["minProperties"]
        if "maxProperties" in node:
            out["maxItems"] = node["maxProperties"]
        hints.append("A mapping, sent as a list of {key, value} entries with unique keys.")

    def _array(self, node: JsonDict, out: JsonDict, path: str, hints: list[str]) -> None:
        prefix = node.get("prefixItems")
        items = node.get("items")
        if prefix is None:
            if not isinstance(items, dict):
                raise StrictSchemaError(f"{path}[*]", _UNCONSTRAINED)
            out["items"] = self.convert(items, f"{path}[*]")
            return
        variants = [self.convert(s, f"{path}[{i}]") for i, s in enumerate(prefix)]
        labels = [_label(v) for v in variants]
        if isinstance(items, dict):
            variants.append(self.convert(items, f"{path}[*]"))
        unique: dict[str, JsonDict] = {}
        for variant in variants:
            unique.setdefault(json.dumps(variant, sort_keys=True), variant)
        choices = list(unique.values())
        if not choices:
            raise StrictSchemaError(path, "an empty tuple cannot be expressed in strict mode")
        out["items"] = choices[0] if len(choices) == 1 else {"anyOf": choices}
        out["minItems"] = node.get("minItems", len(prefix))
        if isinstance(items, dict):
            out.pop("maxItems", None)
        else:
            out["maxItems"] = node.get("maxItems", len(prefix))
        if len(choices) > 1:
            tail = f", then any number of {_label(variants[-1])}" if isinstance(items, dict) else ""
            hints.append(f"Items in this order: {', '.join(labels)}{tail}.")
        elif not isinstance(items, dict):
            hints.append(f"Exactly {len(prefix)} items.")


def _collect_refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, found)


def to_strict_schema(root: JsonDict) -> JsonDict:
    """Convert a pydantic object schema (the arguments) into a strict-mode schema.

    Args:
        root: The validation-mode JSON schema of the arguments object, from pydantic.

    Returns:
        A new schema; ``root`` is not modified.

    Raises:
        StrictSchemaError: A part cannot be expressed in strict mode (``path`` says where).
    """
    converter = _Converter(root)
    body = {k: v for k, v in root.items() if k != "$defs"}
    out = converter.convert(body, "")
    out.pop("description", None)
    used: set[str] = set()
    _collect_refs(out, used)
    pending = list(used)
    while pending:
        name = pending.pop()
        found: set[str] = set()
        _collect_refs(converter.out_defs[name], found)
        pending.extend(found - used)
        used |= found
    if used:
        out["$defs"] = {name: converter.out_defs[name] for name in sorted(used)}
    return out
