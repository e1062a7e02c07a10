"""GovernedClient messages in Chat Completions form: converted to Responses items, or refused.

The Responses API answers 400 to ``role: "tool"`` messages and assistant ``tool_calls``; every
message is converted before the first request, or refused with a ``UsageError`` naming its index.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletionMessage
from openai.types.responses.response_input_param import ResponseInputParam
from pydantic import TypeAdapter

from openai_trigger_bot import GovernedClient, UsageError
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

IMAGE = "https://example.com/receipt.png"
ran: list[str] = []


def lookup(order_id: str) -> str:
    """Look an order up.

    Args:
        order_id: The order.
    """
    ran.append(order_id)
    return "shipped"


def _call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


def _first_input(messages: list[Any]) -> list[dict[str, Any]]:
    """Run ``messages`` against a scripted API; the input items of the first request."""
    scripted = ScriptedResponses([[message("done")]])
    gc = GovernedClient(scripted.client())
    gc.tool("lookup", lookup)
    assert gc.run(messages).status == "completed"
    sent: list[dict[str, Any]] = scripted.requests[0]["input"]
    TypeAdapter(ResponseInputParam).validate_python(sent)  # valid for the SDK's request type
    return sent


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


def test_a_chat_completions_conversation_becomes_responses_items() -> None:
    messages = [
        {"role": "system", "content": "You are a support agent."},
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Where are orders 1 and 2?"},
                {"type": "image_url", "image_url": {"url": IMAGE}},
                {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
                {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Looking both up.",
            "tool_calls": [
                _call("call_1", "lookup", {"order_id": "1"}),
                _call("call_2", "lookup", {"order_id": "2"}),
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "delivered"},
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "lost"}]},
        {"role": "assistant", "content": None, "refusal": "I cannot share the address."},
        {"role": "user", "content": "And order 3?"},
    ]
    assert _first_input(messages) == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Where are orders 1 and 2?"},
                {"type": "input_image", "image_url": IMAGE, "detail": "auto"},
                {"type": "input_image", "image_url": IMAGE, "detail": "low"},
                {"type": "input_file", "file_id": "file-1", "filename": "a.pdf"},
            ],
        },
        {"role": "assistant", "content": "Looking both up."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": '{"order_id": "1"}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "lookup",
            "arguments": '{"order_id": "2"}',
        },
        {"type": "function_call_output", "call_id": "call_2", "output": "delivered"},
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": [{"type": "input_text", "text": "lost"}],
        },
        {"role": "assistant", "content": "I cannot share the address."},
        {"role": "user", "content": "And order 3?"},
    ]
    assert ran == []  # history is sent, never executed again


def test_assistant_text_parts_are_joined_and_phase_is_kept() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "phase": "final_answer",
            "content": [
                {"type": "text", "text": "Hello."},
                {"type": "output_text", "text": "How can I help?"},
                {"type": "refusal", "refusal": "Not that."},
            ],
        },
        {"role": "user", "content": "ok"},
    ]
    assert _first_input(messages)[1] == {
        "role": "assistant",
        "content": "Hello.\nHow can I help?\nNot that.",
        "phase": "final_answer",
    }


def test_sdk_message_models_are_accepted() -> None:
    assistant = ChatCompletionMessage.model_validate(
        {"role": "assistant", "content": None, "tool_calls": [_call("c1", "lookup", {})]}
    )
    sent = _first_input(
        [
            {"role": "user", "content": "x"},
            assistant,
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ]
    )
    assert sent[1:] == [
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
    ]


def test_responses_form_items_pass_through() -> None:
    native = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]},
        {"type": "function_call", "call_id": "c9", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c9", "output": "ok"},
    ]
    sent = _first_input(native)
    assert sent == [{"role": "user", "content": [{"type": "input_text", "text": "x"}]}, *native[1:]]


def test_a_new_call_after_converted_history_runs_through_the_gate() -> None:
    scripted = ScriptedResponses(
        [[function_call("lookup", {"order_id": "3"})], [message("Order 3 shipped.")]]
    )
    gc = GovernedClient(scripted.client())
    gc.tool("lookup", lookup)
    result = gc.run(
        [
            {"role": "user", "content": "order 1?"},
            {"role": "assistant", "tool_calls": [_call("call_1", "lookup", {"order_id": "1"})]},
            {"role": "tool", "tool_call_id": "call_1", "content": "delivered"},
            {"role": "user", "content": "order 3?"},
        ]
    )
    assert result.status == "completed" and ran == ["3"]
    assert [item.get("type") for item in scripted.requests[0]["input"]] == [
        None,
        "function_call",
        "function_call_output",
        None,
    ]


_USER = {"role": "user", "content": "hi"}
_CALLS = {"role": "assistant", "tool_calls": [_call("call_1", "lookup", {"order_id": "1"})]}
_ANSWER = {"role": "tool", "tool_call_id": "call_1", "content": "ok"}


@pytest.mark.parametrize(
    ("messages", "where", "match"),
    [
        pytest.param(
            [_USER, {"role": "tool", "tool_call_id": "call_9", "content": "x"}],
            1,
            "'call_9' matches no earlier assistant tool call",
            id="tool-answer-without-call",
        ),
        pytest.param(
            [_USER, _ANSWER, _CALLS], 1, "matches no earlier", id="tool-answer-before-its-call"
        ),
        pytest.param(
            [_USER, _CALLS, {"role": "tool", "content": "x"}],
            2,
            "needs 'tool_call_id'",
            id="tool-without-id",
        ),
        pytest.param(
            [_USER, _CALLS, _ANSWER, _ANSWER], 3, "answered twice", id="tool-answer-twice"
        ),
        pytest.param(
            [_USER, _CALLS], 1, "'call_1' \\(lookup\\) has no tool message", id="call-unanswered"
        ),
        pytest.param(
            [_USER, {"role": "function", "name": "lookup", "content": "x"}],
            1,
            "legacy 'function' role",
            id="function-role",
        ),
        pytest.param(
            [_USER, {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}],
            1,
            "legacy assistant 'function_call'",
            id="assistant-function-call",
        ),
        pytest.param(
            [{"role": "user", "name": "ann", "content": "hi"}],
            0,
            "'name' has no equivalent",
            id="name-key",
        ),
        pytest.param(
            [{"role": "user", "content": "hi", "cache": True}],
            0,
            "does not accept: cache",
            id="unknown-key",
        ),
        pytest.param(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hear this"},
                        {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
                    ],
                }
            ],
            0,
            "content\\[1\\]: audio parts",
            id="audio-part",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "video", "url": "x"}]}],
            0,
            "unsupported part type 'video'",
            id="unknown-part",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]}],
            0,
            "an image part needs a URL",
            id="image-without-url",
        ),
        pytest.param(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": IMAGE, "detail": "huge"}}
                    ],
                }
            ],
            0,
            "content\\[0\\] \\(input_image\\) is not valid for the Responses API: detail",
            id="image-detail-refused-by-sdk-type",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "text", "text": 42}]}],
            0,
            "\\(input_text\\) is not valid for the Responses API: text",
            id="text-not-a-string",
        ),
        pytest.param(
            [_USER, {"role": "assistant", "content": [{"type": "image_url", "image_url": {}}]}],
            1,
            "content\\[0\\] of an assistant message is not text",
            id="assistant-image",
        ),
        pytest.param(
            [_USER, {"role": "assistant", "content": None}],
            1,
            "needs content or tool_calls",
            id="empty-assistant",
        ),
        pytest.param(
            [
                _USER,
                {"role": "assistant", "tool_calls": [_call("c", "f", {}), _call("c", "g", {})]},
            ],
            1,
            "'c' is used twice",
            id="duplicate-call-id",
        ),
        pytest.param(
            [
                _USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c", "type": "custom", "custom": {"name": "f", "input": "x"}}
                    ],
                },
            ],
            1,
            "tool_calls\\[0\\] is a custom tool call",
            id="custom-tool-call",
        ),
        pytest.param(
            [
                _USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}
                    ],
                },
            ],
            1,
            "arguments must be a JSON string, got dict",
            id="arguments-not-a-string",
        ),
        pytest.param(
            [_USER, _CALLS, {"role": "tool", "tool_call_id": "call_1", "content": []}],
            2,
            "a tool message needs 'content'",
            id="tool-empty-content",
        ),
        pytest.param(
            [_USER, {"role": "critic", "content": "x"}], 1, "unknown role 'critic'", id="role"
        ),
        pytest.param(
            [_USER, {"type": "reasoning", "summary": []}],
            1,
            "items of type 'reasoning' are not supported",
            id="item-type",
        ),
        pytest.param(
            [_USER, {"type": "function_call", "call_id": "c", "name": "f"}],
            1,
            "function_call is not valid for the Responses API: arguments: Field required",
            id="native-call-missing-arguments",
        ),
    ],
)
def test_messages_the_api_would_refuse_are_refused_before_any_request(
    messages: list[dict[str, Any]], where: int, match: str
) -> None:
    scripted = ScriptedResponses([[message("x")]])
    gc = GovernedClient(scripted.client())
    gc.tool("lookup", lookup)
    with pytest.raises(UsageError, match=match) as caught:
        gc.run(messages)
    assert str(caught.value).startswith(f"messages[{where}]: ")
    assert "; " in str(caught.value)  # what is wrong; what to do
    assert scripted.requests == []
