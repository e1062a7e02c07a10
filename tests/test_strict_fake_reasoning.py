"""The scripted API refuses reasoning items sent back as the real API refuses them (issue 9 §3).

A stateless client (``store: false``) resends the earlier output items; a reasoning model's
items must come back whole: each reasoning item with its ``encrypted_content``, right before
the item it preceded. The rules and their sources are in ``testing/_replay_rules.py``.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from openai_trigger_bot.testing import ScriptedResponses, function_call, message, reasoning

URL = ScriptedResponses.base_url
USER = {"role": "user", "content": "hi"}


def post(scripted: ScriptedResponses, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = scripted.handle(httpx2.Request("POST", URL + "/responses", json=body))
    return response.status_code, response.json()


def first_round(*, store: bool = False, **kw: Any) -> tuple[ScriptedResponses, dict[str, Any]]:
    """A scripted reasoning model whose first answer is a reasoning item and a function call."""
    scripted = ScriptedResponses(
        [
            [reasoning(), function_call("send", {"text": "a"}, call_id="call_a")],
            [message("done")],
        ],
        **kw,
    )
    status, first = post(scripted, {"model": "m", "input": [USER], "store": store})
    assert status == 200
    return scripted, first


def output(call_id: str = "call_a") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": "ok"}


def refused(scripted: ScriptedResponses, items: list[Any], *, status: int = 400) -> dict[str, Any]:
    """The error answered to a stateless request with ``items`` after the user message."""
    left = scripted.remaining
    got, data = post(scripted, {"model": "m", "input": [USER, *items], "store": False})
    assert got == status, data
    assert data["error"]["type"] == "invalid_request_error"
    assert scripted.remaining == left  # a refused request uses no script step
    return dict(data["error"])


def test_everything_sent_back_as_returned_is_accepted() -> None:
    scripted, first = first_round()
    rs, call = first["output"]
    assert rs["encrypted_content"]  # returned by default (SDK 3.57)
    status, data = post(
        scripted, {"model": "m", "input": [USER, rs, call, output()], "store": False}
    )
    assert status == 200 and data["output"][0]["type"] == "message"


def test_dropping_the_reasoning_item_is_refused() -> None:
    scripted, first = first_round()
    rs, call = first["output"]
    error = refused(scripted, [call, output()])
    assert error["message"] == (
        f"Item '{call['id']}' of type 'function_call' was provided without its required "
        f"'reasoning' item: '{rs['id']}'."
    )
    assert error["param"] == "input"


def test_a_rebuilt_call_without_its_id_still_needs_the_reasoning() -> None:
    scripted, first = first_round()
    _, call = first["output"]
    rebuilt = {k: call[k] for k in ("type", "call_id", "name", "arguments")}
    error = refused(scripted, [rebuilt, output()])
    assert "call_id call_a" in error["message"] and "required 'reasoning' item" in error["message"]


def test_an_unstored_reasoning_item_without_encrypted_content_is_not_found() -> None:
    scripted, first = first_round()
    rs, call = first["output"]
    bare = {k: v for k, v in rs.items() if k != "encrypted_content"}
    error = refused(scripted, [bare, call, output()], status=404)
    assert error["message"].startswith(f"Item with id '{rs['id']}' not found. Items are not")
    assert "`store` is set to false" in error["message"]


def test_a_stored_reasoning_item_may_come_back_by_id() -> None:
    scripted, first = first_round(store=True)
    rs, call = first["output"]
    bare = {k: v for k, v in rs.items() if k != "encrypted_content"}
    body = {"model": "m", "input": [USER, bare, call, output()], "store": True}
    status, data = post(scripted, body)
    assert status == 200, data


def test_encrypted_content_must_be_the_one_issued() -> None:
    scripted, first = first_round()
    rs, call = first["output"]
    forged = {**rs, "encrypted_content": "gAAAAforgedvalueDQ=="}
    error = refused(scripted, [forged, call, output()])
    assert error["code"] == "invalid_encrypted_content"
    assert error["message"] == "The encrypted content gAAA...DQ== could not be verified."


def test_a_reasoning_item_needs_its_following_item() -> None:
    scripted, first = first_round()
    rs, call = first["output"]
    error = refused(scripted, [rs, output(), call])  # the call no longer follows its reasoning
    assert error["message"] == (
        f"Item '{rs['id']}' of type 'reasoning' was provided without its required following item."
    )


def test_a_message_needs_its_reasoning_item_too() -> None:
    scripted = ScriptedResponses([[reasoning(), message("thinking done")], [message("ok")]])
    status, first = post(scripted, {"model": "m", "input": [USER], "store": False})
    assert status == 200
    rs, msg = first["output"]
    error = refused(scripted, [msg, {"role": "user", "content": "and now?"}])
    assert f"Item '{msg['id']}' of type 'message'" in error["message"]
    assert f"'reasoning' item: '{rs['id']}'" in error["message"]


def test_when_included_mode_needs_include_to_send_reasoning_back() -> None:
    """With the API's earlier behaviour, a client that does not ask for the encrypted content
    has nothing to send back and is refused."""
    scripted, first = first_round(encrypted_reasoning="when_included")
    rs, call = first["output"]
    assert "encrypted_content" not in rs
    refused(scripted, [rs, call, output()], status=404)


def test_the_sdk_sees_the_refusal() -> None:
    scripted, first = first_round()
    _, call = first["output"]
    client = scripted.client()
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="m", input=[USER, call, output()], store=False)  # type: ignore[list-item]
    assert info.value.param == "input"
