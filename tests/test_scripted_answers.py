"""The scripted API answers what the real Responses API returns, not only ``completed``.

Every body the builders make must parse with the official SDK's own ``Response`` model (openai
3.57 types), so a shape the real API never sends cannot creep into our tests.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.responses import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseReasoningItem,
)

from openai_trigger_bot.testing import (
    ScriptedResponses,
    failed,
    function_call,
    incomplete,
    message,
    queued,
    rate_limited,
    reasoning,
    refusal,
    response_body,
    server_error,
)


def _sdk(body: dict[str, Any]) -> Response:
    return Response.model_validate(body)


@pytest.mark.parametrize("reason", ["max_output_tokens", "content_filter"])
def test_incomplete_cuts_off_the_last_function_call(reason: str) -> None:
    body = incomplete(
        [function_call("send", {"chat_id": "c1", "text": "hello there"})], reason=reason
    )
    parsed = _sdk(body)
    assert parsed.status == "incomplete"
    assert parsed.incomplete_details is not None and parsed.incomplete_details.reason == reason
    call = parsed.output[0]
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.status == "incomplete"
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.arguments)


def test_incomplete_cuts_off_a_last_message_too() -> None:
    parsed = _sdk(incomplete([message("a long answer that stops")]))
    item = parsed.output[0]
    assert isinstance(item, ResponseOutputMessage) and item.status == "incomplete"
    assert item.content[0].type == "output_text"
    assert item.content[0].text == "a long answe"


def test_failed_carries_the_error_object() -> None:
    parsed = _sdk(failed("rate_limit_exceeded", "Too many tokens"))
    assert parsed.status == "failed" and parsed.output == []
    assert parsed.error is not None
    assert (parsed.error.code, parsed.error.message) == ("rate_limit_exceeded", "Too many tokens")


@pytest.mark.parametrize("status", ["queued", "in_progress"])
def test_queued_is_a_background_response_without_output(status: Any) -> None:
    parsed = _sdk(queued(status))
    assert parsed.status == status and parsed.output == []


def test_refusal_commentary_and_reasoning_items_parse_as_the_sdk_types() -> None:
    parsed = _sdk(
        response_body(
            [
                reasoning("Thinking it over", encrypted_content="opaque"),
                message("Let me look that up.", phase="commentary"),
                refusal("I can't help with that."),
                message("Done.", phase="final_answer"),
            ]
        )
    )
    rs, commentary, refused, final = parsed.output
    assert isinstance(rs, ResponseReasoningItem)
    assert rs.encrypted_content == "opaque" and rs.summary[0].text == "Thinking it over"
    assert isinstance(commentary, ResponseOutputMessage) and commentary.phase == "commentary"
    assert isinstance(refused, ResponseOutputMessage)
    assert isinstance(refused.content[0], ResponseOutputRefusal)
    assert refused.content[0].refusal == "I can't help with that."
    assert isinstance(final, ResponseOutputMessage) and final.phase == "final_answer"


def test_rate_limited_and_server_error_carry_retry_after() -> None:
    limited = rate_limited(5)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "5"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert rate_limited(0.25, milliseconds=True).headers["retry-after-ms"] == "250"
    broken = server_error(2, status=503)
    assert broken.status_code == 503 and broken.headers["retry-after"] == "2"
    assert "retry-after" not in server_error().headers


def test_the_sdk_sees_a_429_with_retry_after() -> None:
    scripted = ScriptedResponses([rate_limited(7)])
    client = scripted.client()
    with pytest.raises(openai.RateLimitError) as info:
        client.responses.create(model="gpt-5.2", input="hi")
    assert info.value.response.headers["retry-after"] == "7"


def _ask(client: openai.OpenAI, **body: Any) -> Response:
    return client.responses.create(model="gpt-5.2", **body)


def test_reasoning_carries_encrypted_content_by_default() -> None:
    """The SDK 3.57 ``ResponseReasoningItem``: "populated by default for reasoning items
    returned by POST /v1/responses"."""
    scripted = ScriptedResponses([[reasoning("r"), message("a")]])
    plain = _ask(scripted.client(), input="hi")
    rs = plain.output[0]
    assert isinstance(rs, ResponseReasoningItem)
    assert rs.encrypted_content  # an opaque, non-empty value, without asking


def test_reasoning_encrypted_content_only_when_include_asks_if_so_configured() -> None:
    scripted = ScriptedResponses(
        [[reasoning("r"), message("a")], [reasoning("r"), message("b")]],
        encrypted_reasoning="when_included",
    )
    client = scripted.client()
    plain = _ask(client, input="hi")
    asked = _ask(client, input="hi", include=["reasoning.encrypted_content"])
    plain_rs, asked_rs = plain.output[0], asked.output[0]
    assert isinstance(plain_rs, ResponseReasoningItem)
    assert isinstance(asked_rs, ResponseReasoningItem)
    assert plain_rs.encrypted_content is None
    assert asked_rs.encrypted_content  # an opaque, non-empty value
    with pytest.raises(ValueError, match="encrypted_reasoning"):
        ScriptedResponses([], encrypted_reasoning="sometimes")  # type: ignore[arg-type]


def test_usage_grows_with_the_chained_context() -> None:
    """Each chained round is billed for what came before it, as on the real API."""
    scripted = ScriptedResponses(
        [
            [function_call("lookup", {"q": "x" * 400}, call_id="c1")],
            [function_call("lookup", {"q": "y" * 400}, call_id="c2")],
            [message("done")],
        ]
    )
    client = scripted.client()
    instructions = "You are a bot. " * 20
    first = _ask(client, instructions=instructions, input="start " * 50)
    second = _ask(
        client,
        instructions=instructions,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "c1", "output": "ok " * 100}],
    )
    third = _ask(
        client,
        instructions=instructions,
        previous_response_id=second.id,
        input=[{"type": "function_call_output", "call_id": "c2", "output": "ok " * 100}],
    )
    tokens = [r.usage.input_tokens for r in (first, second, third) if r.usage is not None]
    assert len(tokens) == 3
    assert tokens[0] < tokens[1] < tokens[2]
    # each later round carries at least the earlier output (the ~100-token calls) on top
    assert tokens[1] - tokens[0] >= 100 and tokens[2] - tokens[1] >= 100
    assert first.usage is not None and first.usage.output_tokens >= 100
