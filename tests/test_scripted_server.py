"""``ScriptedResponses.serve()``: the fake behind real HTTP on 127.0.0.1, exactly as strict."""

from __future__ import annotations

import threading

import httpx2
import openai
import pytest

from openai_trigger_bot.testing import ScriptedResponses, function_call, message


def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)


def test_a_served_script_answers_and_chains_over_http() -> None:
    scripted = ScriptedResponses([[function_call("pay", {"invoice": "A-1"})], [message("Paid.")]])
    with scripted.serve() as server, client(server.base_url) as api:
        assert server.base_url.startswith("http://127.0.0.1:")
        first = api.responses.create(model="gpt-5.2", input="pay A-1")
        (call,) = [i for i in first.output if i.type == "function_call"]
        second = api.responses.create(
            model="gpt-5.2",
            previous_response_id=first.id,
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "ok"}],
        )
    assert second.output_text == "Paid."
    assert [r.get("previous_response_id") for r in scripted.requests] == [None, first.id]


def test_a_served_script_is_as_strict_as_in_process() -> None:
    scripted = ScriptedResponses([[message("unused")]])
    with (
        scripted.serve() as server,
        client(server.base_url) as api,
        pytest.raises(openai.BadRequestError) as caught,
    ):
        api.responses.create(model="gpt-5.2", input="hi", previous_response_id="resp_nope")
    assert caught.value.status_code == 400
    assert caught.value.param == "previous_response_id"
    assert scripted.remaining == 1  # refused before the script was used


def test_an_exception_step_drops_the_connection() -> None:
    scripted = ScriptedResponses([httpx2.ConnectError("scripted outage"), [message("back")]])
    with scripted.serve() as server, client(server.base_url) as api:
        with pytest.raises(openai.APIConnectionError):
            api.responses.create(model="gpt-5.2", input="hi")
        assert api.responses.create(model="gpt-5.2", input="hi").output_text == "back"


def test_closing_stops_serving_and_joins_its_thread() -> None:
    server = ScriptedResponses([[message("unused")]]).serve()
    base_url = server.base_url
    server.close()
    server.close()  # again: nothing
    assert "scripted-responses-server" not in {t.name for t in threading.enumerate()}
    with client(base_url) as api, pytest.raises(openai.APIConnectionError):
        api.responses.create(model="gpt-5.2", input="hi")
