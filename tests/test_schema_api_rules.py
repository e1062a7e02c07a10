"""Action schemas the real API accepts: typed enums, patterns it can compile, its limits checked
at decoration (issue 9 §2), and runs against the strict scripted API."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import SchemaError
from typing_extensions import TypedDict

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot._schema import function_schema
from openai_trigger_bot.exceptions import ActionDefinitionError, ArgumentsError
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from .test_schema import assert_strict, make_fn


class Mixed(enum.Enum):
    TEXT = "a"
    NUMBER = 2


class MaybeLevel(enum.Enum):
    LOW = "low"
    UNSET = None


UNTYPED_ENUMS = [
    # (annotation, accepted values, a refused value, the strict schema of "x")
    (
        Literal["low", "high", None],
        ["low", None],
        "mid",
        {"anyOf": [{"type": "string", "enum": ["low", "high"]}, {"type": "null"}]},
    ),
    (Literal[1.5, 2], [1.5, 2], 3, {"type": "number", "enum": [1.5, 2]}),
    (
        Literal[1, True],
        [1, True],
        False,
        {"anyOf": [{"type": "integer", "enum": [1]}, {"type": "boolean", "enum": [True]}]},
    ),
    (Mixed, ["a", 2], "b", None),
    (MaybeLevel, ["low", None], "high", None),
    (Literal["x"] | Mixed | None, ["x", "a", 2, None], "y", None),
]


@pytest.mark.parametrize(("annotation", "good", "bad", "expected"), UNTYPED_ENUMS)
def test_enums_of_mixed_or_null_values_get_a_type(
    annotation: Any, good: list[Any], bad: Any, expected: dict[str, Any] | None
) -> None:
    schema = function_schema(make_fn({"x": annotation}))
    assert_strict(schema.parameters)  # before: {"enum": [...]} with no type
    if expected is not None:
        assert schema.parameters["properties"]["x"] == expected
    for value in good:
        kwargs = schema.validate({"x": value})
        assert kwargs["x"] == value or getattr(kwargs["x"], "value", None) == value
    with pytest.raises(ArgumentsError):
        schema.validate({"x": bad})


NOT_ADMIN = r"^(?!admin)[a-z]+$"


class PythonReUser(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")
    name: Annotated[str, Field(pattern=NOT_ADMIN)]


class PlainUser(TypedDict):
    name: Annotated[str, Field(pattern=NOT_ADMIN)]


@pytest.mark.parametrize(
    ("annotation", "wrap"),
    [
        (Annotated[str, Field(pattern=NOT_ADMIN)], lambda v: v),  # pydantic's default engine
        (PlainUser, lambda v: {"name": v}),
        (PythonReUser, lambda v: {"name": v}),  # regex_engine="python-re": was sent as is
    ],
)
def test_lookaround_patterns_move_to_the_description_and_are_enforced(
    annotation: Any, wrap: Any
) -> None:
    schema = function_schema(make_fn({"x": annotation}))  # before: raw SchemaError, or sent
    assert_strict(schema.parameters)
    assert "(?!admin)" not in str(schema.parameters).replace(
        f"Must match the regular expression `{NOT_ADMIN}`.", ""
    )
    assert f"Must match the regular expression `{NOT_ADMIN}`." in str(schema.parameters)
    schema.validate({"x": wrap("bob")})
    with pytest.raises(ArgumentsError, match="should match pattern"):
        schema.validate({"x": wrap("administrator")})


def test_patterns_python_re_cannot_compile_move_to_the_description() -> None:
    upper = r"^\p{Lu}+$"  # pydantic's Rust engine runs it; the API ("not a 'regex'") refuses it
    schema = function_schema(make_fn({"code": Annotated[str, Field(pattern=upper)]}))
    assert_strict(schema.parameters)
    assert "pattern" not in schema.parameters["properties"]["code"]
    assert upper in schema.parameters["properties"]["code"]["description"]
    schema.validate({"code": "ÉTÉ"})
    with pytest.raises(ArgumentsError):
        schema.validate({"code": "été"})


def test_a_pattern_no_engine_compiles_is_an_action_definition_error() -> None:
    fn = make_fn({"ok": str, "code": Annotated[str, Field(pattern="(unclosed")]})
    with pytest.raises(ActionDefinitionError) as info:
        function_schema(fn)
    message = str(info.value)
    assert "parameter 'code'" in message and "pattern" in message
    assert not isinstance(info.value.__cause__, type(None))
    assert not isinstance(info.value, SchemaError)


def nested_typed_dicts(levels: int) -> Any:
    """A TypedDict with ``levels`` levels of objects."""
    inner: Any = TypedDict("Level1", {"leaf": str})  # type: ignore[operator]
    for level in range(2, levels + 1):
        inner = TypedDict(f"Level{level}", {"inner": inner})  # type: ignore[operator]  # noqa: UP013
    return inner


def refusal(annotation: Any) -> str:
    with pytest.raises(ActionDefinitionError) as info:
        function_schema(make_fn({"x": annotation}))
    return str(info.value)


def test_nesting_depth_limit_at_decoration() -> None:
    assert_strict(function_schema(make_fn({"x": nested_typed_dicts(9)})).parameters)
    text = refusal(nested_typed_dicts(10))  # + the arguments object: 11 levels
    assert "parameter 'x'" in text
    assert "nesting depth 11 (through definition 'Level10') exceeds the limit of 10" in text


def test_property_count_limit_at_decoration() -> None:
    wide = TypedDict("Wide", {f"p{i}": int for i in range(5000)})  # type: ignore[operator]
    text = refusal(wide)
    assert "more than 5000 object properties in all (the limit)" in text
    assert "type 'Wide' at 'p4999'" in text


def test_enum_count_limit_at_decoration() -> None:
    text = refusal(Literal[tuple(range(1001))])
    assert "parameter 'x'" in text
    assert "1001 enum values in all exceed the limit of 1000" in text


def test_large_enum_length_limit_at_decoration() -> None:
    text = refusal(Literal[tuple(f"{i:0>60}" for i in range(251))])
    assert "an enum of 251 strings (over 250) totals 15060 characters" in text
    assert "limit of 15000" in text


def test_total_string_length_limit_at_decoration() -> None:
    names = TypedDict("Names", {f"{i:0>60}": int for i in range(2000)})  # type: ignore[operator]
    text = refusal(names)
    assert "total 120006 characters, over the limit of 120000" in text


# --------------------------------------------------------------------------- runs


def test_a_global_action_with_an_optional_literal_runs_against_the_strict_api() -> None:
    seen: list[Any] = []

    @action(global_action=True)
    def set_priority(level: Literal["low", "high", None], note: str | None = None) -> str:
        """Set the ticket's priority (None clears it)."""
        seen.append(level)
        return "set"

    scripted = ScriptedResponses(
        [[function_call("set_priority", {"level": None, "note": None})], [message("Cleared.")]]
    )
    bot = Bot(name="desk", client=scripted.client(), settings=BotSettings(model="gpt-5.2"))
    bot.register_actions(set_priority)

    @bot.trigger("triage", prompt="Triage the ticket.")
    def triage(ticket: str) -> dict[str, str]:
        return {"ticket": ticket}

    result = bot.run(triage("T-1"))
    assert result.status == "completed", result.error  # before: the API's 400 on every round
    assert seen == [None]
    assert result.text == "Cleared."


def test_a_lookaround_pattern_is_enforced_in_a_run_against_the_strict_api() -> None:
    created: list[str] = []

    @action
    def create_user(name: Annotated[str, Field(pattern=NOT_ADMIN)]) -> str:
        """Create a user account."""
        created.append(name)
        return "created"

    scripted = ScriptedResponses(
        [
            [function_call("create_user", {"name": "admin"})],
            [function_call("create_user", {"name": "bob"})],
            [message("Created bob.")],
        ]
    )
    bot = Bot(name="desk", client=scripted.client(), settings=BotSettings(model="gpt-5.2"))
    bot.register_actions(create_user)

    @bot.trigger("onboard", prompt="Create the account.", hidden_actions=[create_user])
    def onboard(person: str) -> dict[str, str]:
        return {"person": person}

    result = bot.run(onboard("Bob"))
    assert result.status == "completed", result.error
    assert created == ["bob"]  # "admin" was refused by our validator, never executed
    assert "should match pattern" in str(scripted.requests[1]["input"])
