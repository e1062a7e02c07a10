"""Every response status the real API returns ends the run as it should.

Only the calls of a ``completed`` response without a refusal run. An ``incomplete`` response
(cut off at ``max_output_tokens`` or by the content filter) may hold truncated calls: the run
ends ``incomplete`` at once, instead of sending invalid-JSON notices until ``max_model_calls``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openai_trigger_bot.testing import (
    ScriptedResponses,
    failed,
    function_call,
    incomplete,
    message,
    queued,
    refusal,
    response_body,
)

from .conftest import Kit, invoke

SEND = {"chat_id": "support", "text": "Your refund is on its way."}


def _run(kit: Kit, script: list[Any], use_async: bool = False) -> Any:
    """Run the kit's trigger with ``Bot.run`` and a sync client, or ``Bot.arun`` and an
    async one; returns the result and the scripted API."""
    scripted = ScriptedResponses(script)
    bot = kit.make_bot(scripted, use_async=use_async)
    result = asyncio.run(bot.arun(invoke(bot))) if use_async else bot.run(invoke(bot))
    return result, scripted


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("reason", ["max_output_tokens", "content_filter"])
def test_incomplete_response_ends_the_run_and_runs_no_call(
    kit: Kit, reason: str, use_async: bool
) -> None:
    script = [
        incomplete([function_call("send_message", SEND)], reason=reason),
        [message("never reached")],
    ]
    result, scripted = _run(kit, script, use_async)
    assert result.status == "incomplete"
    assert result.incomplete_reason == reason
    assert kit.calls.log == []
    assert len(scripted.requests) == 1  # no retry round with an invalid-JSON notice
    (call,) = result.model_calls
    assert call.status == "incomplete" and call.incomplete_reason == reason
    (event,) = result.events
    assert event.status == "skipped" and event.tool == "send_message"
    assert reason in (event.error or "")
    assert event.arguments == {}  # cut-off arguments are never recorded
    assert result.last_response_id == call.response_id
    assert not result.ok


def test_incomplete_response_with_whole_calls_runs_none_of_them(kit: Kit) -> None:
    """Even calls whose arguments came through whole: the response is not a finished answer."""
    script = [
        incomplete(
            [function_call("send_message", SEND), function_call("send_message", SEND)],
            truncate=False,
        )
    ]
    result, _ = _run(kit, script)
    assert result.status == "incomplete" and kit.calls.log == []
    assert [e.status for e in result.events] == ["skipped", "skipped"]


def test_failed_response_is_an_error_with_the_apis_code_and_message(kit: Kit) -> None:
    result, _ = _run(kit, [failed("server_error", "The model crashed.")])
    assert result.status == "error"
    assert result.error is not None
    assert "server_error" in result.error and "The model crashed." in result.error
    (call,) = result.model_calls
    assert call.status == "failed" and call.response_id is not None
    assert kit.calls.log == []


def test_cancelled_response_is_an_error(kit: Kit) -> None:
    body = response_body([function_call("send_message", SEND)], status="cancelled")
    result, _ = _run(kit, [body])
    assert result.status == "error" and "cancelled" in (result.error or "")
    assert kit.calls.log == []


@pytest.mark.parametrize("status", ["queued", "in_progress"])
def test_background_response_ends_the_run_with_a_clear_error(kit: Kit, status: Any) -> None:
    result, scripted = _run(kit, [queued(status), [message("never")]])
    assert result.status == "error"
    assert result.error is not None
    assert status in result.error and "background" in result.error
    assert len(scripted.requests) == 1


def test_unknown_response_status_runs_nothing(kit: Kit) -> None:
    body = response_body([function_call("send_message", SEND)], status="paused")
    result, _ = _run(kit, [body])
    assert result.status == "error" and "paused" in (result.error or "")
    assert kit.calls.log == []


@pytest.mark.parametrize("use_async", [False, True])
def test_refusal_ends_the_run_refused(kit: Kit, use_async: bool) -> None:
    result, _ = _run(kit, [[refusal("I can't send that message.")]], use_async)
    assert result.status == "refused"
    assert result.refusal == "I can't send that message."
    assert result.text == ""  # a refusal is not the model's answer text
    assert result.model_calls[0].refusal == "I can't send that message."


def test_refusal_beside_a_call_runs_no_call(kit: Kit) -> None:
    script = [[refusal("No."), function_call("send_message", SEND)], [message("never")]]
    result, scripted = _run(kit, script)
    assert result.status == "refused" and kit.calls.log == []
    assert [e.status for e in result.events] == ["skipped"]
    assert len(scripted.requests) == 1


@pytest.mark.parametrize("use_async", [False, True])
def test_commentary_is_recorded_apart_and_never_the_final_text(kit: Kit, use_async: bool) -> None:
    script = [
        [message("Let me send that now.", phase="commentary"), function_call("send_message", SEND)],
        [
            message("Checking it went out.", phase="commentary"),
            message("Sent the refund notice.", phase="final_answer"),
        ],
    ]
    result, _ = _run(kit, script, use_async)
    assert result.status == "completed"
    assert kit.calls.names() == ["send_message"]
    first, second = result.model_calls
    assert first.commentary == "Let me send that now." and first.text == ""
    assert second.commentary == "Checking it went out."
    assert second.text == "Sent the refund notice."
    assert result.text == "Sent the refund notice."


def test_commentary_alone_leaves_no_final_text(kit: Kit) -> None:
    result, _ = _run(kit, [[message("Thinking about it.", phase="commentary")]])
    assert result.status == "completed"
    assert result.text == ""
    assert result.model_calls[0].commentary == "Thinking about it."


def test_incomplete_text_answer_is_incomplete_not_completed(kit: Kit) -> None:
    result, _ = _run(kit, [incomplete([message("The summary of the ticket is")])])
    assert result.status == "incomplete" and result.incomplete_reason == "max_output_tokens"
    assert result.events == () and kit.calls.log == []
