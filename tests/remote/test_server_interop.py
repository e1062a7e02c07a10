"""The client against the project's own decision server (``trigger-bot serve``), end to end.

Both sides were built to one wire contract; this checks that they agree: native single and
batch, AuthZEN single, batch and discovery, a deny, an approval, and authentication.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from openai_trigger_bot.governance import Decision
from openai_trigger_bot.governance.remote import (
    RemoteEvaluator,
    RemoteHTTPError,
    RetryPolicy,
)
from openai_trigger_bot.server import create_app, serve_in_thread

from .conftest import proposal

TOKEN = "interop-token-0123456789"
POLICY = """
policy: refunds
version: "4"
default: {recommendation: do_not_proceed, reason: unlisted}
rules:
  - id: small
    actions: [issue_refund]
    when: 'value <= 50'
    decision: proceed
  - id: large
    actions: [issue_refund]
    when: 'value > 50'
    decision: {recommendation: review_recommended, reason: "needs a manager", risk: 0.7}
"""


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("serve")
    (root / "policies").mkdir()
    (root / "policies" / "refunds.yaml").write_text(POLICY)
    app = create_app(
        root / "policies", token=TOKEN, db_path=root / "reports.db", reload_interval=None
    )
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(serve_in_thread(app))


@pytest.mark.parametrize("protocol", ["native", "authzen"])
async def test_single_and_batch_decisions_agree_with_the_server(
    server_url: str, protocol: str
) -> None:
    async with RemoteEvaluator(server_url, protocol=protocol, token=TOKEN) as evaluator:  # type: ignore[arg-type]
        small = await evaluator.evaluate(proposal(value=20))
        large = await evaluator.evaluate(proposal(value=900))
        unknown = await evaluator.evaluate(proposal("wire_money"))
        batch = await evaluator.evaluate_batch([proposal(value=20), proposal(value=900)])
    assert (small.recommendation, small.policy_id, small.policy_version) == (
        "proceed",
        "refunds",
        "4",
    )
    assert small.matched_rules == ("small",)
    assert (large.recommendation, large.reason, large.risk) == (
        "review_recommended",
        "needs a manager",
        0.7,
    )
    assert unknown.recommendation == "do_not_proceed"
    assert [d.recommendation for d in batch if isinstance(d, Decision)] == [
        "proceed",
        "review_recommended",
    ]


async def test_api_key_header_and_discovery(server_url: str) -> None:
    evaluator = await RemoteEvaluator.discover(server_url, api_key=TOKEN)
    async with evaluator:
        decision = await evaluator.evaluate(proposal(value=5))
    assert decision.recommendation == "proceed"


async def test_a_wrong_token_is_an_http_error_that_does_not_open_the_circuit(
    server_url: str,
) -> None:
    async with RemoteEvaluator(
        server_url, token="wrong", retry=RetryPolicy(attempts=3)
    ) as evaluator:
        for _ in range(6):
            with pytest.raises(RemoteHTTPError) as info:
                await evaluator.evaluate(proposal())
    assert info.value.status_code == 401
    assert evaluator.breaker_state == "closed"
    assert [e.kind for e in evaluator.events] == ["failure"] * 6  # never retried


def test_sync_client_against_the_server(server_url: str) -> None:
    with RemoteEvaluator(server_url, token=TOKEN) as evaluator:
        assert evaluator.evaluate_sync(proposal(value=1)).recommendation == "proceed"
