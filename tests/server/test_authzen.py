"""AuthZEN 1.0: the pure mapping (table-tested) and the endpoints of a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.governance import ActionMetadata, Decision, ProposedAction
from openai_trigger_bot.server import authzen
from openai_trigger_bot.server.native import ProtocolError

from .conftest import CONDITION_POLICY, authed_client, running_server

# -- decision -> AuthZEN result ------------------------------------------------------------


@pytest.mark.parametrize(
    ("recommendation", "mode", "allowed", "reason"),
    [
        ("proceed", "", True, "because"),
        ("proceed_with_caution", "", True, "because"),
        ("review_recommended", "", False, "approval_required"),
        ("proceed", "review", False, "approval_required"),
        ("proceed", "needs_context", False, "approval_required"),
        ("do_not_proceed", "", False, "because"),
        ("proceed", "blocked", False, "because"),
        ("escalate_to_board", "", False, "because"),  # unknown: most restrictive
        ("proceed", "telepathic", False, "because"),
    ],
)
def test_evaluation_result_table(
    recommendation: str, mode: str, allowed: bool, reason: str
) -> None:
    decision = Decision(
        recommendation=recommendation,
        mode=mode,
        reason="because",
        risk=0.4,
        policy_id="p",
        policy_version="3",
        matched_rules=("r1",),
    )
    result = authzen.evaluation_result(decision)
    assert result["decision"] is allowed
    context = result["context"]
    assert context["reason"] == reason
    assert context["recommendation"] == recommendation
    assert context["risk"] == 0.4 and context["matched_rules"] == ["r1"]
    if reason == "approval_required":
        assert context["access_request"] == {
            "reason": "because",
            "mode": decision.mode,
            "policy_id": "p",
            "policy_version": "3",
        }
    else:
        assert "access_request" not in context


def test_deny_without_a_reason_names_the_policy() -> None:
    result = authzen.evaluation_result(Decision(recommendation="do_not_proceed", policy_id="p"))
    assert result == {
        "decision": False,
        "context": {**result["context"], "reason": "denied by policy p"},
    }


# -- AuthZEN request <-> proposal ----------------------------------------------------------

FULL = ProposedAction(
    action="issue_refund",
    arguments={"amount": 9000},
    metadata=ActionMetadata(
        system="stripe", risk="high", environment="production", tags=("money",)
    ),
    value=9000,
    target="cus-1",
    extra={"ticket": "T-1"},
    bot="billing-bot",
    actor="alice",
    domain="billing",
    trigger="support-ticket",
    run_id="run-1",
    call_id="call-1",
)


@pytest.mark.parametrize(
    "proposal",
    [
        FULL,
        ProposedAction(action="ping"),
        ProposedAction(action="grant_access", target="db-eu"),
        ProposedAction(action="scale", metadata=ActionMetadata(system="aws")),
    ],
    ids=["full", "bare", "target-without-system", "system-without-target"],
)
def test_request_round_trip(proposal: ProposedAction) -> None:
    request = authzen.evaluation_request(proposal, request_id="r-1")
    assert request["subject"]["type"] == "agent"
    assert request["resource"]["type"] == (proposal.metadata.system or "tool")
    assert request["resource"]["id"] == (proposal.target or proposal.action)
    back, request_id = authzen.proposal_from_evaluation(request)
    assert back == proposal
    assert request_id == "r-1"


def test_resource_properties_fill_missing_metadata() -> None:
    proposal, request_id = authzen.proposal_from_evaluation(
        {
            "action": {"name": "grant_access", "properties": {"metadata": {"risk": "high"}}},
            "resource": {
                "type": "aws",
                "id": "grant_access",
                "properties": {"environment": "production", "tags": ["pii"]},
            },
        }
    )
    assert proposal.metadata == ActionMetadata(
        system="aws", risk="high", environment="production", tags=("pii",)
    )
    assert proposal.target is None and proposal.bot is None and request_id is None


@pytest.mark.parametrize(
    "evaluation",
    [
        {},
        {"action": {"name": ""}},
        {"action": "grant_access"},
        {"action": {"name": "x"}, "subject": []},
        {"action": {"name": "x", "properties": {"metadata": {"tags": "pii"}}}},
        {"action": {"name": "x", "properties": {"arguments": [1]}}},
    ],
    ids=["empty", "empty-name", "action-string", "subject-list", "bad-tags", "bad-arguments"],
)
def test_malformed_evaluations_are_400(evaluation: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        authzen.proposal_from_evaluation(evaluation)
    assert caught.value.status == 400 and caught.value.code == "invalid_evaluation"


def test_batch_defaults_are_merged_per_key() -> None:
    body = {
        "subject": {"type": "agent", "id": "bot-a"},
        "action": {"name": "revoke_access"},
        "evaluations": [{}, {"action": {"name": "grant_access"}}, {"subject": {"id": "bot-b"}}],
    }
    merged, semantic = authzen.evaluations_request(body)
    assert semantic == "execute_all"
    assert merged == [
        {"subject": {"type": "agent", "id": "bot-a"}, "action": {"name": "revoke_access"}},
        {"subject": {"type": "agent", "id": "bot-a"}, "action": {"name": "grant_access"}},
        {"subject": {"id": "bot-b"}, "action": {"name": "revoke_access"}},
    ]
    assert authzen.evaluations_request({"action": {"name": "x"}}) == (None, "execute_all")
    with pytest.raises(ProtocolError):
        authzen.evaluations_request({"evaluations": [], "options": {"evaluations_semantic": "x"}})


@pytest.mark.parametrize(
    ("semantic", "decision", "error", "stops"),
    [
        ("execute_all", False, False, False),
        ("deny_on_first_deny", True, False, False),
        ("deny_on_first_deny", False, False, True),
        ("deny_on_first_deny", False, True, True),
        ("permit_on_first_permit", False, False, False),
        ("permit_on_first_permit", True, False, True),
    ],
)
def test_stops_after(semantic: authzen.Semantic, decision: bool, error: bool, stops: bool) -> None:
    result: dict[str, Any] = {"decision": decision, "context": {}}
    if error:
        result = authzen.error_result(ProtocolError(500, "evaluation_error", "boom"))
    assert authzen.stops_after(result, semantic) is stops


# -- over HTTP ------------------------------------------------------------------------------


def grant(
    environment: str, role: str = "read", justification: str | None = "INC-4211 debug"
) -> dict[str, Any]:
    """An AuthZEN request for a grant, its environment only on the resource."""
    return {
        "subject": {"type": "agent", "id": "ops-bot", "properties": {"actor": "alice"}},
        "action": {
            "name": "grant_access",
            "properties": {
                "arguments": {
                    "user": "alice",
                    "role": role,
                    "resource": "db-eu",
                    "duration_hours": 2,
                    "justification": justification,
                },
                "metadata": {"system": "aws", "risk": "medium"},
            },
        },
        "resource": {"type": "aws", "id": "db-eu", "properties": {"environment": environment}},
        "context": {"run_id": "run-1", "call_id": "call-1", "request_id": "az-1"},
    }


def test_authzen_single_evaluation(client: httpx.Client) -> None:
    allowed = client.post("/access/v1/evaluation", json=grant("staging"))
    assert allowed.status_code == 200
    assert allowed.headers["X-Request-Id"] == "az-1"
    assert allowed.json()["decision"] is True
    assert allowed.json()["context"]["recommendation"] == "proceed_with_caution"

    approval = client.post("/access/v1/evaluation", json=grant("production", role="admin")).json()
    assert approval["decision"] is False
    assert approval["context"]["reason"] == "approval_required"
    assert approval["context"]["access_request"]["policy_id"] == "infra-access"
    assert "admin" in approval["context"]["access_request"]["reason"]

    denied = client.post("/access/v1/evaluation", json=grant("staging", justification=None)).json()
    assert denied["decision"] is False
    assert "justification" in denied["context"]["reason"]
    assert "access_request" not in denied["context"]

    bad = client.post("/access/v1/evaluation", json={"action": {"name": 3}})
    assert bad.status_code == 400


def test_authzen_batch(client: httpx.Client) -> None:
    body = {
        "subject": {"type": "agent", "id": "ops-bot"},
        "evaluations": [
            grant("staging"),
            {"action": {"name": "revoke_access"}},  # default subject
            grant("production", role="admin"),
            {"action": {"name": ""}},  # a per-evaluation error, not a deny
            grant("staging", justification=None),
        ],
    }
    results = client.post("/access/v1/evaluations", json=body).json()["evaluations"]
    assert [r["decision"] for r in results] == [True, True, False, False, False]
    assert results[2]["context"]["reason"] == "approval_required"
    assert results[3]["context"]["error"]["status"] == 400
    assert "error" not in results[4]["context"]

    body["options"] = {"evaluations_semantic": "deny_on_first_deny"}
    short = client.post("/access/v1/evaluations", json=body).json()["evaluations"]
    assert [r["decision"] for r in short] == [True, True, False]

    single = client.post("/access/v1/evaluations", json=grant("staging")).json()
    assert single["decision"] is True and "evaluations" not in single


def test_authzen_condition_failure_is_500_even_in_a_batch(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text(CONDITION_POLICY)
    ok = {"action": {"name": "pay", "properties": {"arguments": {"amount": 1}}}}
    failing = {"action": {"name": "pay", "properties": {"arguments": {}}}}
    with running_server(tmp_path, reload_interval=None) as url, authed_client(url) as http:
        assert http.post("/access/v1/evaluation", json=ok).json()["decision"] is True
        single = http.post("/access/v1/evaluation", json=failing)
        assert single.status_code == 500
        assert single.json()["error"]["code"] == "evaluation_error"
        batch = http.post("/access/v1/evaluations", json={"evaluations": [ok, failing]})
        assert batch.status_code == 500


def test_authzen_discovery_needs_no_token(shipped_url: str) -> None:
    response = httpx.get(f"{shipped_url}/.well-known/authzen-configuration")
    assert response.status_code == 200
    assert response.json() == {
        "policy_decision_point": shipped_url,
        "access_evaluation_endpoint": f"{shipped_url}/access/v1/evaluation",
        "access_evaluations_endpoint": f"{shipped_url}/access/v1/evaluations",
    }
