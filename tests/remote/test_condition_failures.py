"""A remote service's rules failing on a proposal is the model's doing, not an outage.

Against ``trigger-bot serve``, a condition over its budget answered 500 ``evaluation_error``;
the client read it as ``http_error`` (an outage), so ``fail_mode="open"`` ran the forbidden
call, and two such answers opened the breaker, after which *every* call ran unchecked as
``circuit_open`` (second hostile review of issue 8). Now the client recognises the answer
(:class:`RemoteConditionError`): it blocks unless ``fail_modes`` names its kind, is not retried
and does not count for the breaker.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.governance.remote import (
    BreakerPolicy,
    RemoteConditionError,
    RemoteEvaluator,
    RemoteHTTPError,
    RetryPolicy,
)
from openai_trigger_bot.governance.remote._http import read_answer
from openai_trigger_bot.server import create_app, serve_in_thread
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

TOKEN = "condition-token-0123456789"
POLICY = """
policy: deploys
version: "1"
default: {recommendation: proceed}
rules:
  - id: no-prod
    actions: [deploy]
    when: 'args.envs.map(e, e + "").exists(e, e == "prod")'
    decision: do_not_proceed
"""
PADDED = ["prod"] + ["x"] * 599

ran: list[int] = []


@action
def deploy(envs: list[str]) -> str:
    """Deploy.

    Args:
        envs: Environments.
    """
    ran.append(len(envs))
    return "deployed"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("serve")
    (root / "policies").mkdir()
    (root / "policies" / "deploys.yaml").write_text(POLICY)
    app = create_app(
        root / "policies", token=TOKEN, db_path=root / "reports.db", reload_interval=None
    )
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(serve_in_thread(app))


def run(evaluator: RemoteEvaluator, envs: list[str], **bot_kwargs: Any) -> Any:
    scripted = ScriptedResponses([[function_call("deploy", {"envs": envs})], [message("done")]])
    bot = Bot(
        name="deployer",
        client=scripted.client(),
        settings=BotSettings(),
        policy=evaluator,
        **bot_kwargs,
    )
    bot.register_actions(deploy)

    @bot.trigger("t", prompt="p", hidden_actions=[deploy])
    def t() -> dict[str, str]:
        return {}

    return bot.run(bot.triggers["t"]()).events[0]


@pytest.mark.parametrize("protocol", ["native", "authzen"])
def test_fail_open_does_not_let_the_model_switch_off_a_remote_deny_rule(
    server_url: str, protocol: str
) -> None:
    ran.clear()
    evaluator = RemoteEvaluator(
        server_url,
        protocol=protocol,  # type: ignore[arg-type]
        token=TOKEN,
        retry=RetryPolicy(attempts=3, backoff=0.001, jitter=0),
        breaker=BreakerPolicy(fail_max=2, reset_timeout=600),
    )
    try:
        events = [run(evaluator, PADDED, fail_mode="open") for _ in range(3)]
        # The breaker did not count them: the plain forbidden call is decided (and denied),
        # not waved through as circuit_open.
        plain = run(evaluator, ["prod"], fail_mode="open")
    finally:
        evaluator.close()
    assert [(e.status, e.failure) for e in events] == [("blocked", "over_budget")] * 3
    assert "RemoteConditionError" in (events[0].error or "")
    assert (plain.status, plain.failure) == ("blocked", None)
    assert plain.decision is not None and plain.decision.matched_rules == ("no-prod",)
    assert ran == []


def test_naming_the_kind_in_fail_modes_opts_in(server_url: str) -> None:
    ran.clear()
    with RemoteEvaluator(server_url, token=TOKEN) as evaluator:
        event = run(evaluator, PADDED, fail_modes={"over_budget": "open"})
    assert (event.status, event.failure) == ("executed", "over_budget")
    assert ran == [600]


def answer(details: Any, code: str = "evaluation_error", status: int = 500) -> httpx.Response:
    body = {"error": {"code": code, "message": "rule failed", "details": details}}
    return httpx.Response(status, content=json.dumps(body).encode())


@pytest.mark.parametrize(
    ("response", "failure"),
    [
        (answer({"failure": "over_budget", "caused_by_arguments": True}), "over_budget"),
        (answer({"failure": "evaluator_error", "caused_by_arguments": True}), "evaluator_error"),
        (answer({"failure": "over_budget"}), "over_budget"),  # a serve without the flag
    ],
)
def test_a_rule_failure_answer_is_a_condition_error(response: httpx.Response, failure: str) -> None:
    with pytest.raises(RemoteConditionError) as info:
        read_answer(response, "r1", "remote")
    error = info.value
    assert (error.failure, error.status_code, error.request_id) == (failure, 500, "r1")
    assert error.caused_by_arguments is True and error.counts_for_breaker is False


@pytest.mark.parametrize(
    "response",
    [
        answer({"failure": "evaluator_error", "caused_by_arguments": False}),  # its history died
        answer({"failure": "timeout"}),
        answer({"failure": "over_budget"}, code="internal_error"),
        answer({"failure": "over_budget"}, status=503),
        httpx.Response(500, content=b"<html>oops</html>"),
        httpx.Response(500, content=b"[1]"),
    ],
    ids=["server-outage", "other-kind", "other-code", "other-status", "not-json", "not-object"],
)
def test_anything_else_stays_an_http_error(response: httpx.Response) -> None:
    with pytest.raises(RemoteHTTPError) as info:
        read_answer(response, "r1", "remote")
    assert type(info.value) is RemoteHTTPError
    assert info.value.failure == "http_error" and info.value.caused_by_arguments is False
