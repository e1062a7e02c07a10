"""The real API's rules for tools and strict schemas (``_api_rules``), one test per rule."""

from __future__ import annotations

from typing import Any

import pytest

from openai_trigger_bot._api_rules import (
    SCHEMA_MAX_DEPTH,
    SCHEMA_MAX_ENUM_VALUES,
    SCHEMA_MAX_PROPERTIES,
    has_lookaround,
    pattern_problem,
    schema_problems,
    token_bound,
    tool_name_problem,
)


def obj(**props: Any) -> dict[str, Any]:
    """A strict object schema with these properties."""
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


STR = {"type": "string"}


def reasons(schema: Any) -> list[str]:
    return [p.reason for p in schema_problems(schema)]


def only_problem(schema: Any) -> tuple[tuple[str, ...], str, str]:
    problems = schema_problems(schema)
    assert len(problems) == 1, problems
    return problems[0].context, problems[0].where, problems[0].reason


def test_a_strict_schema_passes() -> None:
    schema = obj(
        name=STR,
        when={"type": "string", "format": "date-time"},
        code={"type": "string", "pattern": "^[A-Z]{3}$"},
        count={"type": "integer", "minimum": 0, "maximum": 9, "multipleOf": 1},
        tags={"type": "array", "items": STR, "minItems": 1, "maxItems": 3},
        level={"anyOf": [{"type": "string", "enum": ["low", "high"]}, {"type": "null"}]},
        unit={"type": ["string", "null"], "enum": ["F", "C", None], "description": "unit"},
        node={"$ref": "#/$defs/Node"},
        fixed={"type": "string", "const": "x", "title": "Fixed"},
    )
    schema["$defs"] = {"Node": obj(value=STR, children={"type": "array", "items": {"$ref": "#"}})}
    assert schema_problems(schema) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"enum": ["a", None]}, "schema must have a 'type' key"),
        ({"type": "string", "default": "x"}, "'default' is not permitted"),
        ({"type": "string", "minLength": 1}, "'minLength' is not permitted"),
        ({"type": "array", "items": STR, "uniqueItems": True}, "'uniqueItems' is not permitted"),
        ({"type": "string", "allOf": [STR]}, "'allOf' is not permitted"),
        ({"type": "string", "format": "uri"}, "format 'uri' is not supported"),
        ({"type": "text"}, "'type' 'text' is not a supported type or list of types"),
        ({"type": "string", "enum": ["a", 1]}, "enum value 1 is not of type ['string']"),
        ({"type": "array"}, "an array schema must have 'items'"),
        ({"anyOf": []}, "'anyOf' must be a non-empty array of schemas"),
    ],
)
def test_node_rules(schema: dict[str, Any], expected: str) -> None:
    context, where, reason = only_problem(obj(x=schema))
    assert reason == expected
    assert where == "x"
    assert context == ("properties", "x")


def test_objects_are_closed_with_every_property_required() -> None:
    open_object = {"type": "object", "properties": {"a": STR}, "required": ["a"]}
    assert reasons(obj(x=open_object)) == [
        "'additionalProperties' is required to be supplied and to be false"
    ]
    optional = {**obj(a=STR, b=STR), "required": ["a"]}
    (reason,) = reasons(obj(x=optional))
    assert reason.endswith("Missing 'b'")


def test_root_must_be_an_object_not_any_of() -> None:
    assert "the root schema must be of type 'object'" in reasons({"type": "string"})
    assert "the root schema must not be 'anyOf'" in reasons({"anyOf": [obj(a=STR)]})


def test_refs_name_defs_and_carry_no_siblings() -> None:
    schema = obj(a={"$ref": "#/$defs/Missing"}, b={"$ref": "#/$defs/D", "description": "d"})
    schema["$defs"] = {"D": obj(v=STR)}
    assert reasons(schema) == [
        "reference '#/$defs/Missing' must name an entry of $defs (or be '#')",
        "$ref cannot have keywords ['description']",
    ]


@pytest.mark.parametrize(
    ("pattern", "bad"),
    [
        (r"^(?!admin).*$", True),
        (r"(?<=@)\w+", True),
        (r"(?<!x)y", True),
        (r"a(?=b)", True),
        (r"\(?=literal", False),  # escaped parenthesis
        (r"[(?=]", False),  # inside a character class
        (r"[]](?=x)", True),  # "]" first in a class is a member, the class ends after
        (r"(?:a|b)(?P<name>c)", False),  # groups that are not look-around
        (r"^\d{3}-\d{4}$", False),
    ],
)
def test_lookaround_detection(pattern: str, bad: bool) -> None:
    assert has_lookaround(pattern) is bad


def test_patterns_the_api_refuses() -> None:
    assert pattern_problem(r"^(?!admin).*$") == "regex lookaround is not supported"
    assert pattern_problem(r"^\p{L}+$") == "'^\\\\p{L}+$' is not a 'regex'"
    assert pattern_problem("(") == "'(' is not a 'regex'"
    assert pattern_problem(r"^[a-z]+$") is None
    context, _, reason = only_problem(obj(x={"type": "string", "pattern": "a(?=b)"}))
    assert context == ("properties", "x", "pattern")
    assert reason == "invalid 'pattern': regex lookaround is not supported"


def nested(levels: int) -> dict[str, Any]:
    """An object schema with ``levels`` levels of objects (the root is level 1)."""
    schema = obj(leaf=STR)
    for _ in range(levels - 1):
        schema = obj(inner=schema)
    return schema


def test_nesting_depth_limit() -> None:
    assert schema_problems(nested(SCHEMA_MAX_DEPTH)) == []
    context, where, reason = only_problem(nested(SCHEMA_MAX_DEPTH + 1))
    assert reason == f"nesting depth 11 exceeds the limit of {SCHEMA_MAX_DEPTH}"
    assert where == ".".join(["inner"] * SCHEMA_MAX_DEPTH)
    assert context[:2] == ("properties", "inner")


def test_nesting_depth_counts_through_definitions_but_not_recursion() -> None:
    schema = obj(deep={"$ref": "#/$defs/Deep"})
    schema["$defs"] = {"Deep": nested(SCHEMA_MAX_DEPTH)}  # 1 (root) + 10 > 10
    (reason,) = reasons(schema)
    assert reason == "nesting depth 11 (through definition 'Deep') exceeds the limit of 10"
    recursive = obj(tree={"$ref": "#/$defs/Tree"})
    recursive["$defs"] = {"Tree": obj(kids={"type": "array", "items": {"$ref": "#/$defs/Tree"}})}
    assert schema_problems(recursive) == []


def test_property_count_limit() -> None:
    assert schema_problems(obj(**{f"p{i}": STR for i in range(SCHEMA_MAX_PROPERTIES)})) == []
    wide = obj(**{f"p{i}": STR for i in range(SCHEMA_MAX_PROPERTIES + 1)})
    _, where, reason = only_problem(wide)
    assert reason == "more than 5000 object properties in all (the limit)"
    assert where == "p5000"


def test_enum_count_limit() -> None:
    half = {"type": "integer", "enum": list(range(SCHEMA_MAX_ENUM_VALUES // 2))}
    assert schema_problems(obj(a=half, b=half)) == []
    _, where, reason = only_problem(obj(a=half, b=half, c={"type": "integer", "enum": [1]}))
    assert reason == "1001 enum values in all exceed the limit of 1000"
    assert where == "c"


def test_large_string_enum_length_limit() -> None:
    fits = {"type": "string", "enum": [f"{i:0>59}" for i in range(251)]}  # 251 x 59 = 14,809
    assert schema_problems(obj(a=fits)) == []
    over = {"type": "string", "enum": [f"{i:0>60}" for i in range(251)]}  # 15,060
    (reason,) = reasons(obj(a=over))
    assert reason == (
        "an enum of 251 strings (over 250) totals 15060 characters, over the limit of 15000"
    )
    small = {"type": "string", "enum": [f"{i:0>100}" for i in range(250)]}  # 250 values: ok
    assert schema_problems(obj(a=small)) == []


def test_total_string_length_limit() -> None:
    names = {f"{i:0>60}": STR for i in range(2000)}  # 120,000 characters of names
    assert schema_problems(obj(**names)) == []
    (reason,) = reasons(obj(**names, x=STR))
    assert reason == (
        "property names, definition names, enum and const values total 120001 characters, "
        "over the limit of 120000"
    )


def test_api_message_names_function_and_context() -> None:
    (problem,) = schema_problems(obj(level={"enum": ["low", None]}))
    assert problem.api_message("set_level") == (
        "Invalid schema for function 'set_level': In context=('properties', 'level'), "
        "schema must have a 'type' key."
    )


@pytest.mark.parametrize("name", ["send_message", "a-b_C9", "x" * 64])
def test_tool_names_accepted(name: str) -> None:
    assert tool_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "x" * 65, "send message", "envoyer.msg", "é", None])
def test_tool_names_refused(name: Any) -> None:
    assert tool_name_problem(name)


def test_token_bound_never_undercounts() -> None:
    assert token_bound("hello") == 5
    assert token_bound("日本") == 6  # 3 bytes each: never fewer bytes than tokens
