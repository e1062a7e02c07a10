"""The native protocol over a real server: auth, decisions, errors, request ids."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.governance import ProposedAction
from openai_trigger_bot.server.native import decision_to_wire

from .conftest import CONDITION_POLICY, PROTOCOL, TOKEN, authed_client, running_server


def refund(amount: float | None, **extra: Any) -> dict[str, Any]:
    proposal = ProposedAction(
        action="issue_refund",
        arguments={"order_id": "o-1", "amount": amount or 0, "currency": "EUR", "reason": "x"},
        value=amount,
        target="cus-1",
        **extra,
    )
    return proposal.model_dump(mode="json")


def decide_body(proposal: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "request_id": uuid.uuid4().hex, "proposal": proposal, **overrides}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": TOKEN}],
    ids=["none", "wrong-bearer", "wrong-api-key", "no-scheme"],
)
def test_decisions_need_the_token(shipped_url: str, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{shipped_url}/v1/decisions", json=decide_body(refund(40)), headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    for path in ("/v1/reports", "/access/v1/evaluation", "/access/v1/evaluations"):
        assert httpx.post(f"{shipped_url}{path}", json={}, headers=headers).status_code == 401
    assert httpx.get(f"{shipped_url}/v1/reports", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "headers", [{"Authorization": f"Bearer {TOKEN}"}, {"X-API-Key": TOKEN}], ids=["bearer", "key"]
)
def test_bearer_and_api_key_are_accepted(shipped_url: str, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{shipped_url}/v1/decisions", json=decide_body(refund(40)), headers=headers
    )
    assert response.status_code == 200
    assert response.json()["decision"]["recommendation"] == "proceed"


@pytest.mark.parametrize(
    ("amount", "recommendation", "rules"),
    [
        (40, "proceed", ["refund-baseline"]),
        (250, "proceed_with_caution", ["refund-baseline", "refund-over-100"]),
        (800, "review_recommended", ["refund-baseline", "refund-over-100", "refund-over-500"]),
        (9000, "do_not_proceed", None),
        (None, "do_not_proceed", ["refund-baseline", "refund-over-5000"]),
    ],
)
def test_single_decision_with_shipped_policies(
    client: httpx.Client, amount: float | None, recommendation: str, rules: list[str] | None
) -> None:
    body = decide_body(refund(amount))
    response = client.post("/v1/decisions", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["protocol"] == PROTOCOL
    assert answer["request_id"] == body["request_id"]
    decision = answer["decision"]
    assert set(decision) == {
        "recommendation",
        "risk",
        "confidence",
        "mode",
        "reason",
        "better_action",
        "policy_id",
        "policy_version",
        "matched_rules",
    }
    assert decision["recommendation"] == recommendation
    assert decision["policy_id"] == "billing-refunds"
    assert decision["policy_version"] == "2026-11-24"
    if rules is not None:
        assert decision["matched_rules"] == rules


def test_batch_keeps_the_order(client: httpx.Client) -> None:
    amounts = [9000, 40, 800, 250]
    body = {
        "protocol": PROTOCOL,
        "request_id": "batch-1",
        "proposals": [refund(a) for a in amounts],
    }
    response = client.post("/v1/decisions:batch", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["request_id"] == "batch-1"
    assert [d["recommendation"] for d in answer["decisions"]] == [
        "do_not_proceed",
        "proceed",
        "review_recommended",
        "proceed_with_caution",
    ]


@pytest.mark.parametrize("protocol", ["openai-trigger-bot.decision/v2", None, 1])
def test_unknown_protocol_is_400(client: httpx.Client, protocol: Any) -> None:
    body = decide_body(refund(40), protocol=protocol)
    if protocol is None:
        del body["protocol"]
    for path in ("/v1/decisions", "/v1/decisions:batch", "/v1/reports"):
        response = client.post(path, json=body)
        assert response.status_code == 400, path
        error = response.json()["error"]
        assert error["code"] == "unsupported_protocol"
        assert PROTOCOL in error["message"]


@pytest.mark.parametrize(
    ("proposal", "loc"),
    [
        ({"arguments": {}}, ["proposal", "action"]),
        ({"action": "issue_refund", "metadata": {"risk": 3}}, ["proposal", "metadata", "risk"]),
        ({"action": "issue_refund", "amount": 5}, ["proposal", "amount"]),
        ("issue_refund", ["proposal"]),
    ],
    ids=["no-action", "bad-type", "unknown-field", "not-an-object"],
)
def test_malformed_proposal_is_422(client: httpx.Client, proposal: Any, loc: list[Any]) -> None:
    response = client.post("/v1/decisions", json=decide_body(proposal))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_proposal"
    assert [d["loc"] for d in error["details"]] == [loc]


def test_malformed_proposal_in_a_batch_names_its_index(client: httpx.Client) -> None:
    body = {"protocol": PROTOCOL, "proposals": [refund(1), {"arguments": {}}]}
    response = client.post("/v1/decisions:batch", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["proposals", 1, "action"]


def test_not_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/v1/decisions", content=b"{nope", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    response = client.post("/v1/decisions", json=[1, 2])
    assert response.json()["error"]["code"] == "invalid_request"


def test_failing_condition_is_500_evaluation_error(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text(CONDITION_POLICY)
    with running_server(tmp_path) as base_url, authed_client(base_url) as http:
        ok = http.post(
            "/v1/decisions", json=decide_body({"action": "pay", "arguments": {"amount": 5}})
        )
        assert ok.json()["decision"]["recommendation"] == "proceed"
        failing = decide_body({"action": "pay", "arguments": {}})
        response = http.post("/v1/decisions", json=failing)
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "evaluation_error"
        assert "small-payment" in error["message"]
        assert error["details"] == {"failure": "evaluator_error", "caused_by_arguments": True}
        batch = {
            "protocol": PROTOCOL,
            "proposals": [{"action": "pay", "arguments": {"amount": 1}}, failing["proposal"]],
        }
        assert http.post("/v1/decisions:batch", json=batch).status_code == 500


def test_request_id_is_echoed(client: httpx.Client, shipped_url: str) -> None:
    body = decide_body(refund(40))
    by_body = client.post("/v1/decisions", json=body)
    assert by_body.headers["X-Request-Id"] == body["request_id"]

    by_header = client.post("/v1/decisions", json=body, headers={"X-Request-Id": "trace-42"})
    assert by_header.headers["X-Request-Id"] == "trace-42"
    assert by_header.json()["request_id"] == body["request_id"]

    del body["request_id"]
    neither = client.post("/v1/decisions", json=body)
    generated = neither.headers["X-Request-Id"]
    assert len(generated) == 32 and neither.json()["request_id"] == generated

    error = client.post("/v1/decisions", json={"protocol": "x"}, headers={"X-Request-Id": "e-1"})
    assert error.status_code == 400 and error.headers["X-Request-Id"] == "e-1"
    unauthorized = httpx.post(
        f"{shipped_url}/v1/decisions", json={}, headers={"X-Request-Id": "u-1"}
    )
    assert unauthorized.headers["X-Request-Id"] == "u-1"


def test_opa_data_api_is_not_served(client: httpx.Client) -> None:
    response = client.post("/v1/data/trigger_bot/allow", json={"input": {"action": "x"}})
    assert response.status_code == 404


def test_wire_decision_matches_the_record_fields() -> None:
    from openai_trigger_bot.governance import Decision

    wire = decision_to_wire(Decision(recommendation="proceed", matched_rules=("a",)))
    assert set(wire) <= set(Decision.model_fields)
    assert wire["matched_rules"] == ["a"] and wire["mode"] == "autonomous"
