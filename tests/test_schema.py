"""Strict tool schemas and argument validation built from function signatures (``_schema``)."""

import dataclasses
import datetime
import decimal
import enum
import inspect
import json
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import NotRequired, TypedDict

from openai_trigger_bot import _schema
from openai_trigger_bot._api_rules import schema_problems
from openai_trigger_bot._schema import FunctionSchema, function_schema
from openai_trigger_bot.exceptions import ActionDefinitionError, ArgumentsError

try:  # tests/ may or may not be a package
    from . import _future_actions
except ImportError:
    import _future_actions  # type: ignore[no-redef]

# --------------------------------------------------------------------------- types under test


class Color(enum.Enum):
    """A colour."""

    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(BaseModel):
    """A point on the plane."""

    x: int
    y: int = 0


@dataclasses.dataclass
class Span:
    start: int
    tags: list[str] = dataclasses.field(default_factory=list)


class Contact(TypedDict):
    name: str
    phone: NotRequired[str]


class Node(BaseModel):
    value: int
    children: list["Node"] = []


class WithMap(BaseModel):
    counts: dict[str, int]
    limit: int = 5


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


class HasAny(BaseModel):
    payload: Any


# --------------------------------------------------------------------------- helpers

#: Keywords the API would accept but our converter never emits (they only cost tokens).
NEVER_EMITTED = {"title", "default", "const"}


def assert_strict(schema: dict[str, Any]) -> None:
    """Check a generated schema against the API's strict-mode rules (the shared ``_api_rules``,
    which the scripted API enforces too), plus what our converter promises beyond them."""
    problems = schema_problems(schema)
    assert not problems, "\n".join(f"{p.where or 'root'}: {p.reason}" for p in problems)

    def check(node: Any, where: str) -> None:
        if isinstance(node, dict):
            bad = NEVER_EMITTED & set(node) if "type" in node or "anyOf" in node else set()
            assert not bad, f"{where}: emitted {bad}"
            for key, value in node.items():
                if key not in ("properties", "enum"):
                    check(value, f"{where}.{key}")
            for key, value in (node.get("properties") or {}).items():
                check(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                check(value, f"{where}[{i}]")

    check(schema, "root")


def make_fn(
    params: dict[str, Any], defaults: dict[str, Any] | None = None, doc: str | None = None
) -> Callable[..., None]:
    """A function with the given annotated parameters (and defaults, and docstring)."""
    defaults = defaults or {}

    def fn(**kwargs: Any) -> None:
        del kwargs

    fn.__signature__ = inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=annotation,
                default=defaults.get(name, inspect.Parameter.empty),
            )
            for name, annotation in params.items()
        ]
    )
    fn.__doc__ = doc
    return fn


def schema_of(annotation: Any, **defaults: Any) -> FunctionSchema:
    schema = function_schema(make_fn({"x": annotation}, defaults))
    assert_strict(schema.parameters)
    return schema


def arguments_error(schema: FunctionSchema, raw: Any) -> str:
    with pytest.raises(ArgumentsError) as info:
        schema.validate(raw)
    message = str(info.value)
    assert len(message) < 400, message
    assert "http" not in message and "pydantic" not in message.lower(), message
    return message


KV_STR_INT = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"key": {"type": "string"}, "value": {"type": "integer"}},
        "required": ["key", "value"],
        "additionalProperties": False,
    },
    "description": "A mapping, sent as a list of {key, value} entries with unique keys.",
}
UTC = datetime.timezone.utc
NULL = {"type": "null"}

# --------------------------------------------------------------------------- each type

# (id, annotation, expected property schema, JSON the model sends, expected Python value)
TYPE_CASES: list[tuple[str, Any, dict[str, Any], Any, Any]] = [
    ("int", int, {"type": "integer"}, 3, 3),
    ("float", float, {"type": "number"}, 1.5, 1.5),
    ("bool", bool, {"type": "boolean"}, True, True),
    ("str", str, {"type": "string"}, "hi", "hi"),
    ("optional", Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}, None, None),  # noqa: UP045
    ("pipe-none", int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}, 4, 4),
    ("union", Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "a", "a"),  # noqa: UP007
    ("literal", Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}, "b", "b"),
    ("literal-one", Literal["only"], {"type": "string", "enum": ["only"]}, "only", "only"),
    ("enum", Color, {"$ref": "#/$defs/Color"}, "green", Color.GREEN),
    ("int-enum", Level, {"$ref": "#/$defs/Level"}, 2, Level.HIGH),
    ("list", list[int], {"type": "array", "items": {"type": "integer"}}, [1, 2], [1, 2]),
    (
        "set",
        set[str],
        {"type": "array", "items": {"type": "string"}, "description": "Items must be unique."},
        ["a", "b"],
        {"a", "b"},
    ),
    (
        "tuple-mixed",
        tuple[int, str],
        {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "description": "Items in this order: integer, string.",
        },
        [1, "a"],
        (1, "a"),
    ),
    (
        "tuple-same",
        tuple[float, float],
        {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"type": "number"},
            "description": "Exactly 2 items.",
        },
        [1.0, 2.5],
        (1.0, 2.5),
    ),
    ("tuple-var", tuple[int, ...], {"type": "array", "items": {"type": "integer"}}, [1], (1,)),
    ("dict", dict[str, int], KV_STR_INT, [{"key": "a", "value": 1}], {"a": 1}),
    (
        "dict-int-keys",
        dict[int, bool],
        {
            **KV_STR_INT,
            "items": {
                **KV_STR_INT["items"],
                "properties": {"key": {"type": "integer"}, "value": {"type": "boolean"}},
            },
        },
        [{"key": 7, "value": True}],
        {7: True},
    ),
    (
        "dict-enum-keys",
        dict[Color, int],
        {
            **KV_STR_INT,
            "items": {
                **KV_STR_INT["items"],
                "properties": {"key": {"$ref": "#/$defs/Color"}, "value": {"type": "integer"}},
            },
        },
        [{"key": "red", "value": 1}],
        {Color.RED: 1},
    ),
    (
        "datetime",
        datetime.datetime,
        {"type": "string", "format": "date-time"},
        "2024-05-01T12:30:00Z",
        datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    ),
    (
        "date",
        datetime.date,
        {"type": "string", "format": "date"},
        "2024-05-01",
        datetime.date(2024, 5, 1),
    ),
    ("time", datetime.time, {"type": "string", "format": "time"}, "08:15:00", datetime.time(8, 15)),
    (
        "timedelta",
        datetime.timedelta,
        {"type": "string", "format": "duration"},
        "PT1H",
        datetime.timedelta(hours=1),
    ),
    (
        "uuid",
        uuid.UUID,
        {"type": "string", "format": "uuid"},
        "12345678-1234-5678-1234-567812345678",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    ("decimal", decimal.Decimal, {"type": "number"}, 19.99, decimal.Decimal("19.99")),
    ("bytes", bytes, {"type": "string"}, "abc", b"abc"),
    (
        "field-bounds",
        Annotated[int, Field(ge=1, le=10, description="How many.")],
        {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many."},
        10,
        10,
    ),
    (
        "field-length",
        Annotated[str, Field(min_length=2, max_length=5)],
        {"type": "string", "description": "At least 2 characters. At most 5 characters."},
        "abc",
        "abc",
    ),
    (
        "field-pattern",
        Annotated[str, Field(pattern=r"^\d+$")],
        {"type": "string", "pattern": r"^\d+$"},
        "42",
        "42",
    ),
    ("model", Point, {"$ref": "#/$defs/Point"}, {"x": 1, "y": 2}, Point(x=1, y=2)),
    ("dataclass", Span, {"$ref": "#/$defs/Span"}, {"start": 1, "tags": ["a"]}, Span(1, ["a"])),
    (
        "typeddict",
        Contact,
        {"$ref": "#/$defs/Contact"},
        {"name": "Ann", "phone": "1"},
        {"name": "Ann", "phone": "1"},
    ),
    (
        "list-of-models",
        list[Point],
        {"type": "array", "items": {"$ref": "#/$defs/Point"}},
        [{"x": 1, "y": 1}],
        [Point(x=1, y=1)],
    ),
]


@pytest.mark.parametrize(
    ("annotation", "expected", "sent", "value"),
    [case[1:] for case in TYPE_CASES],
    ids=[case[0] for case in TYPE_CASES],
)
def test_each_type_has_the_expected_schema_and_validates_to_python(
    annotation: Any, expected: dict[str, Any], sent: Any, value: Any
) -> None:
    schema = schema_of(annotation)
    assert schema.parameters["properties"]["x"] == expected
    assert schema.parameters["required"] == ["x"]
    result = schema.validate({"x": sent})
    assert result == {"x": value}
    assert type(result["x"]) is type(value)


def test_definitions_of_nested_types_are_strict_and_keep_their_docstrings() -> None:
    schema = function_schema(make_fn({"c": Color, "p": Point, "s": Span, "t": Contact}))
    defs = schema.parameters["$defs"]
    assert defs["Color"] == {"type": "string", "enum": ["red", "green"], "description": "A colour."}
    assert defs["Point"] == {
        "type": "object",
        "properties": {
            "x": {"type": "integer"},
            "y": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "description": "Defaults to 0.",
            },
        },
        "required": ["x", "y"],
        "additionalProperties": False,
        "description": "A point on the plane.",
    }
    # A default_factory has no JSON default to show, but the field is still nullable.
    assert defs["Span"]["properties"]["tags"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }
    # NotRequired TypedDict keys are required-but-nullable in strict mode.
    assert defs["Contact"]["required"] == ["name", "phone"]
    assert defs["Contact"]["properties"]["phone"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert_strict(schema.parameters)


def test_nested_null_means_the_field_default_and_absent_typeddict_key() -> None:
    schema = function_schema(make_fn({"p": Point, "s": Span, "t": Contact}))
    result = schema.validate(
        {
            "p": {"x": 1, "y": None},
            "s": {"start": 2, "tags": None},
            "t": {"name": "A", "phone": None},
        }
    )
    assert result == {"p": Point(x=1, y=0), "s": Span(2, []), "t": {"name": "A"}}


def test_dicts_inside_models_are_key_value_arrays_and_come_back_as_dicts() -> None:
    schema = schema_of(list[WithMap])
    counts = schema.parameters["$defs"]["WithMap"]["properties"]["counts"]
    assert counts == KV_STR_INT
    result = schema.validate({"x": [{"counts": [{"key": "a", "value": 2}], "limit": None}]})
    assert result == {"x": [WithMap(counts={"a": 2}, limit=5)]}


def test_recursive_models_use_refs_and_validate_deeply() -> None:
    schema = schema_of(Node)
    node = schema.parameters["$defs"]["Node"]
    assert node["properties"]["children"]["anyOf"][0] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Node"},
    }
    result = schema.validate({"x": {"value": 1, "children": [{"value": 2, "children": None}]}})
    assert result["x"] == Node(value=1, children=[Node(value=2)])


def test_discriminated_union_becomes_any_of_without_discriminator() -> None:
    pet = Annotated[Cat | Dog, Field(discriminator="kind")]
    schema = schema_of(pet)
    assert schema.parameters["properties"]["x"] == {
        "anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]
    }
    assert schema.validate({"x": {"kind": "cat", "lives": None}}) == {"x": Cat(kind="cat")}
    assert schema.validate({"x": {"kind": "dog", "good": True}}) == {
        "x": Dog(kind="dog", good=True)
    }


def test_ref_with_description_is_inlined() -> None:
    schema = schema_of(Annotated[Point, Field(description="Where.")])
    prop = schema.parameters["properties"]["x"]
    assert "$ref" not in prop
    assert prop["description"] == "Where."
    assert prop["properties"]["x"] == {"type": "integer"}
    assert "$defs" not in schema.parameters  # nothing refers to Point any more


def test_model_allowing_extra_keys_is_still_closed() -> None:
    schema = schema_of(Loose)
    assert schema.parameters["$defs"]["Loose"]["additionalProperties"] is False


def test_dict_keys_must_be_unique_and_entries_well_formed() -> None:
    schema = schema_of(dict[str, int])
    duplicate = [{"key": "a", "value": 1}, {"key": "a", "value": 2}]
    assert arguments_error(schema, {"x": duplicate}) == 'x: duplicate key "a"'
    assert arguments_error(schema, {"x": [{"key": "a"}]}) == (
        "x[0]: expected an object with exactly 'key' and 'value'"
    )
    assert arguments_error(schema, {"x": "a=1"}) == "x: expected an array of {key, value} objects"
    message = arguments_error(schema, {"x": [{"key": "a", "value": "many"}]})
    assert message.startswith("x.a: input should be a valid integer")


# --------------------------------------------------------------------------- docstrings

GOOGLE = """Send a message.

    Longer text.

    Args:
        chat_id: The chat.
        text: The body.

    Returns:
        Nothing.
    """
NUMPY = """Send a message.

    Longer text.

    Parameters
    ----------
    chat_id : int
        The chat.
    text : str
        The body.
    """
REST = """Send a message.

    Longer text.

    :param chat_id: The chat.
    :type chat_id: int
    :param text: The body.
    :returns: Nothing.
    """


@pytest.mark.parametrize("doc", [GOOGLE, NUMPY, REST], ids=["google", "numpy", "rest"])
def test_docstring_styles(doc: str) -> None:
    schema = function_schema(make_fn({"chat_id": int, "text": str}, doc=inspect.cleandoc(doc)))
    assert schema.description == "Send a message.\n\nLonger text."
    assert schema.param_descriptions == {"chat_id": "The chat.", "text": "The body."}
    props = schema.parameters["properties"]
    assert props["chat_id"] == {"type": "integer", "description": "The chat."}
    assert props["text"] == {"type": "string", "description": "The body."}


def test_real_function_docstring_and_description_override() -> None:
    def send(chat_id: int, text: str) -> None:
        """Send a message.

        Args:
            chat_id: The chat.
            text: The body.
        """

    assert function_schema(send).description == "Send a message."
    assert function_schema(send, description="Custom.").description == "Custom."
    assert function_schema(make_fn({"a": int})).description == ""
    assert function_schema(make_fn({"a": int})).param_descriptions == {}


def test_field_description_wins_over_docstring() -> None:
    fn = make_fn(
        {"a": Annotated[int, Field(description="From Field.")], "b": int},
        doc="Do.\n\nArgs:\n    a: From docstring.\n    b: Only docstring.",
    )
    schema = function_schema(fn)
    assert schema.param_descriptions == {"a": "From Field.", "b": "Only docstring."}
    assert schema.parameters["properties"]["a"]["description"] == "From Field."


# --------------------------------------------------------------------------- defaults


def test_defaults_are_nullable_required_described_and_applied() -> None:
    fn = make_fn(
        {"chat_id": int, "count": int, "mode": Color, "label": str | None, "note": str},
        defaults={"count": 10, "mode": Color.RED, "label": "x", "note": "n"},
        doc="Do.\n\nArgs:\n    count: How many.\n    note: A note (default 'n').",
    )
    schema = function_schema(fn)
    props = schema.parameters["properties"]
    assert schema.parameters["required"] == ["chat_id", "count", "mode", "label", "note"]
    assert props["count"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "How many. Defaults to 10.",
    }
    assert props["mode"]["anyOf"][-1] == {"type": "null"}
    assert props["mode"]["description"] == 'Defaults to "red".'
    assert props["note"]["description"] == "A note (default 'n')."  # not repeated
    sent = {"chat_id": 1, "count": None, "mode": None, "label": None, "note": None}
    # null means the default, except where None is a valid value (label accepts None)
    assert schema.validate(sent) == {
        "chat_id": 1,
        "count": 10,
        "mode": Color.RED,
        "label": None,
        "note": "n",
    }
    # omitted parameters get their defaults too
    assert schema.validate({"chat_id": 2}) == {
        "chat_id": 2,
        "count": 10,
        "mode": Color.RED,
        "label": "x",
        "note": "n",
    }
    assert schema.validate(
        {"chat_id": 3, "count": 4, "mode": "green", "label": "y", "note": ""}
    ) == {
        "chat_id": 3,
        "count": 4,
        "mode": Color.GREEN,
        "label": "y",
        "note": "",
    }


def test_optional_without_default_is_still_required() -> None:
    schema = schema_of(Optional[int])  # noqa: UP045 - the spelling under test
    assert schema.parameters["required"] == ["x"]
    assert arguments_error(schema, {}) == "x: field required"


# --------------------------------------------------------------------------- future annotations


def test_future_annotations_module() -> None:
    schema = function_schema(_future_actions.schedule)
    assert_strict(schema.parameters)
    props = schema.parameters["properties"]
    # a described $ref is inlined (strict mode allows no siblings next to $ref)
    assert props["priority"] == {
        "type": "string",
        "enum": ["low", "high"],
        "description": "How urgent it is.",
    }
    assert props["when"] == {"type": "string", "format": "date", "description": "The day."}
    assert props["mode"] == {
        "anyOf": [{"type": "string", "enum": ["once", "daily"]}, {"type": "null"}],
        "description": 'How often. Defaults to "once".',
    }
    assert props["note"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Free text note. Defaults to null.",
    }
    reminder = props["reminder"]
    assert reminder["description"] == "What to remind about."
    tags = reminder["properties"]["tags"]
    assert tags["anyOf"] == [{k: v for k, v in KV_STR_INT.items() if k != "description"}, NULL]
    assert tags["description"] == "Defaults to {}. " + KV_STR_INT["description"]
    result = schema.validate(
        {
            "reminder": {
                "text": "Call",
                "tags": [{"key": "p", "value": 1}],
                "window": {"start": "2024-01-02T03:04:05Z", "minutes": None},
            },
            "priority": "high",
            "when": "2024-01-02",
            "mode": None,
            "note": None,
        }
    )
    window = _future_actions.Window(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert result == {
        "reminder": _future_actions.Reminder(text="Call", tags={"p": 1}, window=window),
        "priority": _future_actions.Priority.HIGH,
        "when": datetime.date(2024, 1, 2),
        "mode": "once",
        "note": None,
    }
    assert schema.to_jsonable(result) == {
        "reminder": {
            "text": "Call",
            "tags": {"p": 1},
            "window": {"start": "2024-01-02T03:04:05Z", "minutes": 30},
        },
        "priority": "high",
        "when": "2024-01-02",
        "mode": "once",
        "note": None,
    }


def test_string_hints_naming_locals_of_the_decorating_function() -> None:
    class LocalThing(BaseModel):
        a: int

    def act(thing: "LocalThing") -> None:
        del thing

    schema = function_schema(act)
    assert schema.validate({"thing": {"a": 1}}) == {"thing": LocalThing(a=1)}


def test_methods_do_not_expose_self() -> None:
    class Tools:
        def act(self, n: int) -> None:
            del n

    schema = function_schema(Tools().act)
    assert list(schema.parameters["properties"]) == ["n"]


# --------------------------------------------------------------------------- refused signatures


def _star_args(*items: str) -> None: ...
def _star_kwargs(chat_id: int, **extra: str) -> None: ...
def _positional_only(chat_id: int, /, text: str) -> None: ...
def _no_hint(chat_id, text: str) -> None: ...
def _unresolvable(chat_id: "MissingType") -> None: ...  # noqa: F821
def _any(data: Any) -> None: ...
def _bare_dict(meta: dict) -> None: ...
def _any_dict(meta: dict[str, Any]) -> None: ...
def _bare_list(items: list) -> None: ...
def _object(thing: object) -> None: ...
def _nested_any(box: list[HasAny]) -> None: ...
def _arbitrary_class(conn: _schema.FunctionSchema) -> None: ...
def _callable(hook: Callable[[int], int]) -> None: ...


REFUSED: list[tuple[Callable[..., Any], str]] = [
    (_star_args, r"\*items is not supported: strict tools take one JSON object of named"),
    (_star_kwargs, r"\*\*extra is not supported: strict tools take one JSON object of named"),
    (_positional_only, r"parameter 'chat_id' is positional-only.*remove the '/'"),
    (_no_hint, r"parameter 'chat_id' has no type hint.*annotate it"),
    (_unresolvable, r"cannot resolve the type hint of parameter 'chat_id'.*MissingType"),
    (_future_actions.uses_type_checking_only, r"parameter 'amount'.*TYPE_CHECKING"),
    (_any, r"parameter 'data': its type is unconstrained \(typing\.Any"),
    (_bare_dict, r"parameter 'meta': it is a free-form object.*dict\[str, <concrete type>\]"),
    (_any_dict, r"parameter 'meta': it is a free-form object"),
    (_bare_list, r"parameter 'items' \(at 'items\[\*\]'\): its type is unconstrained"),
    (_object, r"parameter 'thing': its type is unconstrained"),
    (_nested_any, r"parameter 'box' \(at 'box\[\*\]\.payload'\): its type is unconstrained"),
    (_arbitrary_class, r"parameter 'conn': pydantic cannot validate or describe its type"),
    (_callable, r"parameter 'hook': pydantic cannot validate or describe its type"),
]


@pytest.mark.parametrize(
    ("fn", "pattern"), REFUSED, ids=[fn.__name__.lstrip("_") for fn, _ in REFUSED]
)
def test_refused_signatures_say_why(fn: Callable[..., Any], pattern: str) -> None:
    with pytest.raises(ActionDefinitionError, match=pattern) as info:
        function_schema(fn)
    assert str(info.value).startswith(f"@action {fn.__qualname__}(): ")
    assert "http" not in str(info.value)


# --------------------------------------------------------------------------- bad arguments


def _mixed(chat_id: int, color: Color, when: datetime.datetime, pair: tuple[int, str]) -> None:
    """Do."""


MIXED = function_schema(_mixed)
GOOD = {"chat_id": 1, "color": "red", "when": "2024-01-01T00:00:00Z", "pair": [1, "a"]}

BAD_ARGUMENTS: list[tuple[str, Any, list[str]]] = [
    ("missing", {k: v for k, v in GOOD.items() if k != "chat_id"}, ["chat_id: field required"]),
    (
        "wrong-type",
        {**GOOD, "chat_id": "abc"},
        ["chat_id: input should be a valid integer", '(got "abc")'],
    ),
    ("extra", {**GOOD, "spam": 1}, ["spam: unknown field"]),
    ("bad-enum", {**GOOD, "color": "blue"}, ["color: input should be 'red' or 'green'"]),
    ("bad-datetime", {**GOOD, "when": "yesterday"}, ["when: input should be a valid datetime"]),
    (
        "long-tuple",
        {**GOOD, "pair": [1, "a", 2]},
        ["pair: tuple should have at most 2 items after validation, not 3"],
    ),
    ("short-tuple", {**GOOD, "pair": [1]}, ["pair[1]: field required"]),
    ("tuple-item", {**GOOD, "pair": ["x", "a"]}, ["pair[0]: input should be a valid integer"]),
    ("not-an-object", ["chat_id"], ["arguments must be a JSON object"]),
    (
        "long-input-truncated",
        {**GOOD, "chat_id": "x" * 500},
        ['(got "' + "x" * 36 + "...)"],
    ),
]


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [case[1:] for case in BAD_ARGUMENTS],
    ids=[case[0] for case in BAD_ARGUMENTS],
)
def test_bad_arguments_give_short_messages_naming_the_field(raw: Any, fragments: list[str]) -> None:
    message = arguments_error(MIXED, raw)
    for fragment in fragments:
        assert fragment in message, message


def test_at_most_five_problems_are_listed() -> None:
    fn = make_fn({f"p{i}": int for i in range(8)})
    message = arguments_error(function_schema(fn), {})
    assert message == (
        "p0: field required; p1: field required; p2: field required; p3: field required; "
        "p4: field required; and 3 more problems"
    )


def test_union_errors_are_merged_without_pydantic_labels() -> None:
    schema = schema_of(Union[int, list[int]])  # noqa: UP007 - the spelling under test
    message = arguments_error(schema, {"x": "abc"})
    assert message.startswith("x: input should be a valid integer")
    assert " or input should be a valid list" in message
    assert "list[int]" not in message


def test_nested_errors_have_dotted_paths() -> None:
    message = arguments_error(schema_of(list[Point]), {"x": [{"x": 1, "y": 1}, {"x": "a"}]})
    assert re.fullmatch(r"x\[1\]\.x: input should be a valid integer.*\(got \"a\"\)", message)


# --------------------------------------------------------------------------- misc


def test_to_jsonable_gives_plain_json() -> None:
    fn = make_fn({"when": datetime.datetime, "pair": tuple[int, str], "m": dict[Color, Point]})
    schema = function_schema(fn)
    kwargs = schema.validate(
        {
            "when": "2024-05-01T12:30:00Z",
            "pair": [1, "a"],
            "m": [{"key": "red", "value": {"x": 1, "y": None}}],
        }
    )
    data = schema.to_jsonable(kwargs)
    assert data == {
        "when": "2024-05-01T12:30:00Z",
        "pair": [1, "a"],
        "m": {"red": {"x": 1, "y": 0}},
    }
    json.dumps(data)  # really plain JSON


def test_validate_does_not_build_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = function_schema(_mixed)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("TypeAdapter built on the hot path")

    monkeypatch.setattr(_schema, "TypeAdapter", refuse)
    assert schema.validate(GOOD)["pair"] == (1, "a")


def test_every_generated_schema_is_strict() -> None:
    functions = [_mixed, _future_actions.schedule]
    functions += [make_fn({"x": case[1]}) for case in TYPE_CASES]
    functions += [make_fn({"a": Node, "b": list[WithMap], "c": Loose, "d": dict[str, Span]})]
    for fn in functions:
        assert_strict(function_schema(fn).parameters)
