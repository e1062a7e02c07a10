"""The scripted API refuses, with the real API's 400, what the real API refuses (issue 9 §1)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from openai_trigger_bot.testing import ScriptedResponses, function_call, message

URL = ScriptedResponses.base_url


def tool(name: str = "send", parameters: dict[str, Any] | None = None, **extra: Any) -> dict:
    schema = parameters or {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    }
    return {"type": "function", "name": name, "parameters": schema, "strict": True, **extra}


def post(scripted: ScriptedResponses, body: dict[str, Any], path: str = "/responses") -> Any:
    response = scripted.handle(httpx2.Request("POST", URL + path, json=body))
    return response.status_code, response.json()


def refusal(body: dict[str, Any], *, stored: ScriptedResponses | None = None) -> dict[str, Any]:
    """The error object the scripted API answers ``body`` with (asserting a 400)."""
    scripted = stored or ScriptedResponses([[message("unused")]])
    status, data = post(scripted, {"model": "gpt-5.2", "input": "hi", **body})
    assert status == 400, data
    assert set(data) == {"error"}
    assert set(data["error"]) == {"message", "type", "param", "code"}
    assert data["error"]["type"] == "invalid_request_error"
    if stored is None:
        assert scripted.remaining == 1  # a refused request uses no script step
    return dict(data["error"])


def test_a_valid_request_is_answered() -> None:
    scripted = ScriptedResponses([[message("ok")]])
    status, data = post(scripted, {"model": "gpt-5.2", "input": "hi", "tools": [tool()]})
    assert status == 200 and data["status"] == "completed"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"temprature": 0.2}, "temprature", "unknown_parameter"),
        ({"tools": [tool(bogus=1)]}, "tools[0].bogus", "unknown_parameter"),
        ({"max_output_tokens": "100"}, "max_output_tokens", "invalid_type"),
        ({"store": "yes"}, "store", "invalid_type"),
        ({"reasoning": {"effort": "huge"}}, "reasoning.effort", "invalid_value"),
        ({"tools": [{**tool(), "type": "functoin"}]}, "tools[0].type", "invalid_value"),
        ({"tools": [{"type": "function", "name": "f", "parameters": None}]}, "tools[0].strict",
         "missing_required_parameter"),
        ({"input": [{"role": "tool", "content": "x", "tool_call_id": "c"}]}, "input[0].role",
         "invalid_value"),
        ({"include": ["reasoning.everything"]}, "include[0]", "invalid_value"),
    ],
)  # fmt: skip
def test_body_keys_and_types_follow_the_sdk_types(body: dict, param: str, code: str) -> None:
    error = refusal(body)
    assert (error["param"], error["code"]) == (param, code), error


def test_unknown_parameter_message_is_the_apis() -> None:
    error = refusal({"temprature": 0.2})
    assert error["message"] == "Unknown parameter: 'temprature'."
    error = refusal({"max_output_tokens": "100"})
    assert error["message"] == (
        "Invalid type for 'max_output_tokens': expected an integer, but got a string instead."
    )


def test_prompt_cache_key_at_most_64_characters() -> None:
    error = refusal({"prompt_cache_key": "k" * 65})
    assert (error["param"], error["code"]) == ("prompt_cache_key", "string_above_max_length")
    assert "maximum length 64" in error["message"]
    body = {"model": "m", "input": "hi", "prompt_cache_key": "k" * 64}
    assert post(ScriptedResponses([[message("ok")]]), body)[0] == 200


def test_max_output_tokens_at_least_16() -> None:
    error = refusal({"max_output_tokens": 15})
    assert (error["param"], error["code"]) == ("max_output_tokens", "integer_below_min_value")
    body = {"model": "m", "input": "hi", "max_output_tokens": 16}
    assert post(ScriptedResponses([[message("ok")]]), body)[0] == 200


@pytest.mark.parametrize("name", ["send message", "x" * 65, "", "send.message"])
def test_tool_names(name: str) -> None:
    error = refusal({"tools": [tool(name)]})
    assert (error["param"], error["code"]) == ("tools[0].name", "invalid_value")


@pytest.mark.parametrize(
    ("prop", "context", "reason"),
    [
        ({"enum": ["low", "high", None]}, "('properties', 'x')", "schema must have a 'type' key"),
        ({"type": "string", "pattern": "^(?!admin)"}, "('properties', 'x', 'pattern')",
         "regex lookaround is not supported"),
        ({"type": "string", "default": "a"}, "('properties', 'x')", "'default' is not permitted"),
        ({"type": "string", "format": "uri"}, "('properties', 'x')", "format 'uri'"),
        ({"type": "object", "properties": {}}, "('properties', 'x')", "'additionalProperties'"),
    ],
)  # fmt: skip
def test_strict_schema_rules(prop: dict[str, Any], context: str, reason: str) -> None:
    schema = {
        "type": "object",
        "properties": {"x": prop},
        "required": ["x"],
        "additionalProperties": False,
    }
    error = refusal({"tools": [tool("set_x", schema)]})
    assert (error["param"], error["code"]) == ("tools[0].parameters", "invalid_function_parameters")
    assert error["message"].startswith(f"Invalid schema for function 'set_x': In context={context}")
    assert reason in error["message"]


def test_non_strict_tools_are_not_held_to_the_strict_subset() -> None:
    loose = {"type": "object", "properties": {"x": {"enum": ["a", None]}}}
    status, _ = post(
        ScriptedResponses([[message("ok")]]),
        {"model": "m", "input": "hi", "tools": [tool("f", loose, strict=False)]},
    )
    assert status == 200


def test_forced_tool_must_be_offered() -> None:
    error = refusal({"tools": [tool()], "tool_choice": {"type": "function", "name": "other"}})
    assert error["param"] == "tool_choice"


def test_previous_response_must_be_stored() -> None:
    error = refusal({"previous_response_id": "resp_nope"})
    assert error["param"] == "previous_response_id"
    scripted = ScriptedResponses([[message("one")], [message("two")]])
    status, first = post(scripted, {"model": "m", "input": "hi", "store": False})
    assert status == 200
    error = refusal({"previous_response_id": first["id"]}, stored=scripted)
    assert "not found" in error["message"]


def chained(calls: list[dict[str, Any]]) -> tuple[ScriptedResponses, str]:
    """A scripted API whose first (stored) response made ``calls``; and that response's id."""
    scripted = ScriptedResponses([calls, [message("done")]])
    status, first = post(scripted, {"model": "m", "input": "hi", "tools": [tool()]})
    assert status == 200
    return scripted, first["id"]


def output(call_id: str, value: Any = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": value}


def test_every_function_call_of_the_previous_response_answered() -> None:
    a = function_call("send", {"text": "a"}, call_id="call_a")
    b = function_call("send", {"text": "b"}, call_id="call_b")
    scripted, first = chained([a, b])
    error = refusal(
        {"previous_response_id": first, "input": [output("call_a")], "tools": [tool()]},
        stored=scripted,
    )
    assert error["message"] == "No tool output found for function call call_b."
    error = refusal(
        {"previous_response_id": first, "input": [output("call_a"), output("call_b"),
                                                  output("call_zzz")]},
        stored=scripted,
    )  # fmt: skip
    assert error["message"] == "No tool call found for function call output with call_id call_zzz."
    status, _ = post(
        scripted,
        {
            "model": "m",
            "previous_response_id": first,
            "input": [output("call_a"), output("call_b")],
        },
    )
    assert status == 200


def test_function_call_output_is_a_string_or_a_content_list() -> None:
    call = function_call("send", {"text": "a"}, call_id="call_a")
    scripted, first = chained([call])
    error = refusal(
        {"previous_response_id": first, "input": [output("call_a", {"status": "sent"})]},
        stored=scripted,
    )
    assert (error["param"], error["code"]) == ("input[0].output", "invalid_type")
    parts = [{"type": "input_text", "text": "sent"}]
    status, _ = post(scripted, {"model": "m", "previous_response_id": first,
                                "input": [output("call_a", parts)]})  # fmt: skip
    assert status == 200


def test_the_sdk_sees_the_refusal_as_the_apis_bad_request() -> None:
    client = ScriptedResponses([[message("unused")]]).client()
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="gpt-5.2", input="hi", max_output_tokens=8)
    assert info.value.code == "integer_below_min_value"
    assert info.value.param == "max_output_tokens"


# --------------------------------------------------------------------------- embeddings


def embed(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, data = post(ScriptedResponses([]), {"model": "text-embedding-3-small", **body},
                        "/embeddings")  # fmt: skip
    return status, data


def test_embeddings_input_count_limit() -> None:
    assert embed({"input": ["a"] * 2048})[0] == 200
    status, data = embed({"input": ["a"] * 2049})
    assert status == 400 and data["error"]["code"] == "array_above_max_length"


def test_embeddings_tokens_per_input_counted_as_utf8_bytes() -> None:
    assert embed({"input": ["a" * 8192]})[0] == 200
    status, data = embed({"input": ["ok", "é" * 4097]})  # 8,194 bytes
    assert status == 400
    assert data["error"]["param"] == "input[1]"
    assert "maximum context length is 8192 tokens" in data["error"]["message"]


def test_embeddings_tokens_per_request() -> None:
    assert embed({"input": ["a" * 8000] * 37})[0] == 200  # 296,000
    status, data = embed({"input": ["a" * 8000] * 38})  # 304,000
    assert status == 400 and data["error"]["code"] == "max_tokens_per_request"


def test_embeddings_refuse_empty_inputs_and_bad_types() -> None:
    assert embed({"input": ["a", ""]})[0] == 400
    assert embed({"input": ""})[0] == 400
    assert embed({"input": [[1, 2], [3]]})[0] == 200  # token arrays
    status, data = embed({"input": ["a"], "dimension": 8})
    assert status == 400 and data["error"]["code"] == "unknown_parameter"
    assert json.dumps(data)  # the API's shape, JSON all through
