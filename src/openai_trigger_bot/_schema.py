"""Build a strict OpenAI function-tool schema and an argument validator from a function.

:func:`function_schema` reads the signature, the type hints (``from __future__ import
annotations`` is fine) and the docstring (Google, NumPy or reST), builds one pydantic
validator for the arguments, and derives the strict JSON schema from the same types, so that
what the model is told and what is validated cannot drift apart. Everything is built once;
:meth:`FunctionSchema.validate` only runs the prebuilt validator.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import typing_extensions
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from ._docstrings import parse_docstring
from ._schema_build import build_validator, check_api_rules
from ._strict import StrictSchemaError, to_strict_schema
from ._transform import ShapeError, Transform, compile_transform
from .exceptions import ActionDefinitionError, ArgumentsError

__all__ = ["FunctionSchema", "function_schema"]

_MAX_PROBLEMS = 5
_MAX_INPUT_CHARS = 40
_MAX_MESSAGE_CHARS = 160
#: Union-member labels pydantic puts in error locations (dropped from the messages).
_UNION_TAGS = frozenset(
    {"int", "str", "float", "bool", "bytes", "none", "date", "datetime", "time", "timedelta"}
    | {"uuid", "decimal", "url", "enum", "list", "dict", "set", "tuple", "frozenset"}
)
#: ``TypedDict`` called functionally with computed fields (typed ``Any`` for mypy).
_TYPED_DICT: Any = typing_extensions.TypedDict


@dataclass(frozen=True)
class FunctionSchema:
    """The strict tool schema of a function, and the validator of its arguments.

    Attributes:
        description: The docstring summary (and long description after a blank line), or the
            ``description`` given to :func:`function_schema`; ``""`` if there is none.
        parameters: The strict JSON schema of the arguments object.
        param_descriptions: Parameter name to description, for documented parameters.
    """

    description: str
    parameters: dict[str, Any]
    param_descriptions: dict[str, str]
    _adapter: TypeAdapter[Any] = field(repr=False, compare=False)
    _transform: Transform | None = field(repr=False, compare=False)
    _defaults: dict[str, Any] = field(repr=False, compare=False)
    _names: frozenset[str] = field(repr=False, compare=False)
    _tags: frozenset[str] = field(repr=False, compare=False)
    _hidden: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def validate(
        self, raw: Mapping[str, Any], *, scrub: Callable[[str], str] | None = None
    ) -> dict[str, Any]:
        """Validate the model's (JSON-decoded) arguments into the kwargs to call with.

        Key/value arrays are turned back into dicts, ``null`` for a parameter (or field) that
        has a default and does not accept ``None`` means the default, and every value is
        converted to its Python type (models, dataclasses, enums, datetimes, tuples, ...).

        Args:
            raw: The JSON object the model sent, decoded.
            scrub: Applied to each input echoed in an error message before it is shortened
                (so a secret is removed whole, never left half-visible by the cut).

        Returns:
            Keyword arguments for the function, including defaults for omitted parameters.

        Raises:
            ArgumentsError: With a short message for the model naming each bad field.
        """
        if not isinstance(raw, Mapping):
            raise ArgumentsError("arguments must be a JSON object")
        data: Any = raw if isinstance(raw, dict) else dict(raw)
        if self._transform is not None:
            try:
                data = self._transform(data)
            except ShapeError as exc:
                loc = _format_loc(exc.loc, self._names, None)
                raise ArgumentsError(f"{loc}: {exc.msg}" if loc else exc.msg) from None
        try:
            kwargs: dict[str, Any] = self._adapter.validator.validate_python(data)
        except ValidationError as exc:
            raise ArgumentsError(
                _format_errors(exc, self._names, self._tags, self._hidden, scrub)
            ) from None
        for name, default in self._defaults.items():
            if name not in kwargs:
                kwargs[name] = default
        return kwargs

    def to_jsonable(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Return validated kwargs as plain JSON data (for records and logs).

        Args:
            kwargs: Arguments as returned by :meth:`validate`.

        Returns:
            A JSON-compatible dict (dicts stay dicts; models, dates, enums become JSON values).
        """
        dumped = self._adapter.dump_python(dict(kwargs), mode="json", warnings=False)
        return dict(dumped)


def function_schema(
    fn: Callable[..., Any],
    *,
    description: str | None = None,
    secret: Collection[str] = (),
) -> FunctionSchema:
    """Build the strict tool schema and the argument validator of ``fn``.

    Args:
        fn: The action function. Every parameter must be named (no ``*args``, ``**kwargs``
            or positional-only parameters) and type-annotated with a JSON-expressible type.
        description: Overrides the description taken from the docstring.
        secret: Parameters whose input is never echoed in validation errors.

    Returns:
        The schema, descriptions and validator.

    Raises:
        ActionDefinitionError: The function cannot be a strict tool; the message says why.
    """
    where = f"@action {getattr(fn, '__qualname__', None) or repr(fn)}()"
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ActionDefinitionError(f"{where}: cannot read its signature ({exc})") from exc
    params = list(signature.parameters.values())
    for param in params:
        _check_parameter(where, param)
    hints = _resolve_hints(where, fn, params)
    doc = parse_docstring(inspect.getdoc(fn))
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    fields = {
        p.name: typing_extensions.NotRequired[hints[p.name]]
        if p.name in defaults
        else hints[p.name]
        for p in params
    }
    arguments = _TYPED_DICT(f"{getattr(fn, '__name__', 'action')}_arguments", fields)
    adapter, schema = build_validator(where, params, hints, arguments)
    param_descriptions: dict[str, str] = {}
    for param in params:
        prop = schema["properties"][param.name]
        text = prop.get("description") or doc.params.get(param.name)
        if text:
            prop["description"] = param_descriptions[param.name] = text
        if param.name in defaults and param.name not in secret:  # a secret's default is a
            try:  # secret: never published in the schema the model (and the API) sees
                prop["default"] = to_jsonable_python(defaults[param.name])
            except Exception:  # a default that is not JSON data is simply not shown
                prop.pop("default", None)
    try:
        parameters = to_strict_schema(schema)
        transform = compile_transform(schema)
    except StrictSchemaError as exc:
        param_name = exc.path.split(".")[0].split("[")[0].split("<")[0]
        at = f" (at {exc.path!r})" if exc.path != param_name else ""
        raise ActionDefinitionError(f"{where}: parameter {param_name!r}{at}: {exc.reason}") from exc
    check_api_rules(where, parameters)
    return FunctionSchema(
        description=doc.description if description is None else description,
        parameters=parameters,
        param_descriptions=param_descriptions,
        _adapter=adapter,
        _transform=transform,
        _defaults=defaults,
        _names=_property_names(schema),
        _tags=frozenset(schema.get("$defs") or ()),
        _hidden=frozenset(secret),
    )


def _check_parameter(where: str, param: inspect.Parameter) -> None:
    why = "strict tools take one JSON object of named arguments"
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        raise ActionDefinitionError(
            f"{where}: *{param.name} is not supported: {why}; replace it with a named "
            f"parameter such as `{param.name}: list[str]`"
        )
    if param.kind is inspect.Parameter.VAR_KEYWORD:
        raise ActionDefinitionError(
            f"{where}: **{param.name} is not supported: {why}; declare each argument as a "
            "named, typed parameter (or take a TypedDict or pydantic model)"
        )
    if param.kind is inspect.Parameter.POSITIONAL_ONLY:
        raise ActionDefinitionError(
            f"{where}: parameter {param.name!r} is positional-only: {why}, passed by name; "
            "remove the '/' from the signature"
        )
    if param.annotation is inspect.Parameter.empty:
        raise ActionDefinitionError(
            f"{where}: parameter {param.name!r} has no type hint: the tool schema needs a type "
            f"for every argument; annotate it, e.g. `{param.name}: str`"
        )


def _globals_of(fn: Callable[..., Any]) -> dict[str, Any]:
    target: Any = inspect.unwrap(fn)
    target = getattr(target, "__func__", target)
    if not inspect.isfunction(target) and not inspect.isclass(target):
        call = inspect.getattr_static(type(target), "__call__", None)
        target = getattr(call, "__func__", call)
    found = getattr(target, "__globals__", None)
    if isinstance(found, dict):
        return found
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return vars(module) if module is not None else {}


def _hints_of(
    annotations: dict[str, Any], globalns: dict[str, Any], localns: dict[str, Any] | None = None
) -> dict[str, Any]:
    holder = types.SimpleNamespace(__annotations__=annotations)
    return typing.get_type_hints(holder, globalns=globalns, localns=localns, include_extras=True)


def _enclosing_locals(limit: int = 24) -> dict[str, Any]:
    """Locals of the calling functions outside this package, innermost first (a fallback)."""
    namespace: dict[str, Any] = {}
    frame = sys._getframe(1)
    for _ in range(limit):
        frame_or_none = frame.f_back
        if frame_or_none is None or frame_or_none.f_code.co_name == "<module>":
            break
        frame = frame_or_none
        if str(frame.f_globals.get("__name__", "")).startswith(f"{__package__}."):
            continue
        for key, value in frame.f_locals.items():
            namespace.setdefault(key, value)
    return namespace


def _resolve_hints(
    where: str, fn: Callable[..., Any], params: list[inspect.Parameter]
) -> dict[str, Any]:
    globalns = _globals_of(fn)
    annotations = {p.name: p.annotation for p in params}
    try:
        return _hints_of(annotations, globalns)
    except Exception:  # e.g. a class defined in the function that decorates: try its locals
        localns = _enclosing_locals()
    try:
        return _hints_of(annotations, globalns, localns)
    except Exception as exc:  # any failure: find the culprit
        for name, annotation in annotations.items():
            try:
                _hints_of({name: annotation}, globalns, localns)
            except Exception as inner:
                shown = annotation if isinstance(annotation, str) else repr(annotation)
                raise ActionDefinitionError(
                    f"{where}: cannot resolve the type hint of parameter {name!r} "
                    f"({shown}: {type(inner).__name__}: {inner}); import or define the "
                    "name at module level (not only under `if TYPE_CHECKING:`)"
                ) from inner
        raise ActionDefinitionError(f"{where}: cannot resolve its type hints ({exc})") from exc


def _property_names(schema: dict[str, Any]) -> frozenset[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(props)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return frozenset(names)


def _is_union_tag(segment: str, names: frozenset[str], tags: frozenset[str] | None) -> bool:
    if tags is None or segment in names:
        return False
    return segment in _UNION_TAGS or segment in tags or "[" in segment


def _format_loc(
    loc: typing.Sequence[Any], names: frozenset[str], tags: frozenset[str] | None
) -> str:
    """Render an error location; ``tags`` are union labels to drop (``None``: keep all)."""
    text = ""
    for segment in loc:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif segment == "[key]":
            text += "<key>"
        elif not _is_union_tag(str(segment), names, tags):
            text = _join_path(text, str(segment))
    return text


def _join_path(path: str, segment: str) -> str:
    return f"{path}.{segment}" if path else segment


def _short(value: Any, scrub: Callable[[str], str] | None = None) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if scrub is not None:
        text = scrub(text)
    return text if len(text) <= _MAX_INPUT_CHARS else text[: _MAX_INPUT_CHARS - 3] + "..."


def _format_errors(
    exc: ValidationError,
    names: frozenset[str],
    tags: frozenset[str],
    hidden: frozenset[str] = frozenset(),
    scrub: Callable[[str], str] | None = None,
) -> str:
    problems: dict[str, list[str]] = {}
    inputs: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_context=False):
        loc = _format_loc(error["loc"], names, tags)
        kind = error["type"]
        if kind == "missing":
            text = "field required"
        elif kind == "extra_forbidden":
            text = "unknown field"
        else:
            msg = str(error["msg"])
            if scrub is not None:  # before cutting: a cut secret could no longer be found
                msg = scrub(msg)
            text = msg[:1].lower() + msg[1:]
            if len(text) > _MAX_MESSAGE_CHARS:
                text = text[: _MAX_MESSAGE_CHARS - 3] + "..."
            if not (error["loc"] and error["loc"][0] in hidden):  # never echo a secret's input
                inputs.setdefault(loc, f" (got {_short(error['input'], scrub)})")
        texts = problems.setdefault(loc, [])
        if text not in texts:
            texts.append(text)
    lines = [
        f"{loc + ': ' if loc else ''}{' or '.join(texts)}{inputs.get(loc, '')}"
        for loc, texts in problems.items()
    ]
    if len(lines) > _MAX_PROBLEMS:
        extra = len(lines) - _MAX_PROBLEMS
        lines = [*lines[:_MAX_PROBLEMS], f"and {extra} more problem{'s' if extra > 1 else ''}"]
    return "; ".join(lines)
