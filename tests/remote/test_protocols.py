"""The three wire formats, encode and decode, table-tested (pure: no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from openai_trigger_bot.exceptions import ConfigurationError
from openai_trigger_bot.governance import Decision
from openai_trigger_bot.governance.errors import MalformedDecisionError
from openai_trigger_bot.governance.remote import (
    NATIVE_PROTOCOL,
    AuthZENProtocol,
    MalformedAnswerError,
    NativeProtocol,
    NoDecisionError,
    OPAProtocol,
    RemoteHTTPError,
    parse_authzen_configuration,
)
from openai_trigger_bot.governance.remote.protocols import wire_protocol

from .conftest import proposal

RID = "0" * 32


def native(decision: Any, **envelope: Any) -> dict[str, Any]:
    return {"protocol": NATIVE_PROTOCOL, "request_id": RID, "decision": decision, **envelope}


# -- native ---------------------------------------------------------------------------------


def test_native_encode_carries_protocol_request_id_and_the_whole_proposal() -> None:
    p = proposal()
    body = NativeProtocol().encode(p, RID)
    assert body == {
        "protocol": "openai-trigger-bot.decision/v1",
        "request_id": RID,
        "proposal": p.model_dump(mode="json"),
    }
    batch = NativeProtocol().encode_batch([p, proposal("b")], RID)
    assert [x["action"] for x in batch["proposals"]] == ["issue_refund", "b"]


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ({"recommendation": "proceed"}, ("proceed", "autonomous", None)),
        (
            {"recommendation": "review_recommended", "risk": 0.7, "reason": "big"},
            ("review_recommended", "review", 0.7),
        ),
        (
            {"recommendation": "do_not_proceed", "mode": "blocked"},
            ("do_not_proceed", "blocked", None),
        ),
        # a newer service's vocabulary is kept as sent (the gate enforces it as a block)
        ({"recommendation": "escalate_to_cfo"}, ("escalate_to_cfo", "blocked", None)),
        ({"recommendation": "proceed", "mode": "turbo"}, ("proceed", "turbo", None)),
        # unknown fields are ignored, not fatal
        ({"recommendation": "proceed", "new_field": [1]}, ("proceed", "autonomous", None)),
    ],
)
def test_native_decode(decision: dict[str, Any], expected: tuple[Any, ...]) -> None:
    got = NativeProtocol().decode(native(decision), request_id=RID, evaluator="svc")
    assert (got.recommendation, got.mode, got.risk) == expected
    assert (got.request_id, got.evaluator) == (RID, "svc")


def test_native_decode_keeps_every_documented_field() -> None:
    fields = {
        "recommendation": "proceed_with_caution",
        "risk": 0.4,
        "confidence": 0.9,
        "mode": "autonomous",
        "reason": "within limits",
        "better_action": "escalate",
        "policy_id": "refunds",
        "policy_version": "7",
        "matched_rules": ["small", "vip"],
        # the service cannot choose these: they come from the client
        "request_id": "forged",
        "evaluator": "forged",
    }
    got = NativeProtocol().decode(native(fields), request_id=RID, evaluator="svc")
    assert got == Decision(
        recommendation="proceed_with_caution",
        risk=0.4,
        confidence=0.9,
        mode="autonomous",
        reason="within limits",
        better_action="escalate",
        policy_id="refunds",
        policy_version="7",
        matched_rules=("small", "vip"),
        request_id=RID,
        evaluator="svc",
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "not an object"),
        (native({"recommendation": "proceed"}, request_id="other"), "for request 'other'"),
        (native({"recommendation": "proceed"}, protocol="openai-trigger-bot.decision/v2"), "v2"),
        ({"request_id": RID, "decision": {"recommendation": "proceed"}}, "protocol None"),
        (native(None), "decision is NoneType"),
        (native({"risk": 0.1}), "recommendation"),
        (native({"recommendation": "proceed", "risk": 1.5}), "risk"),
        (native({"recommendation": 3}), "recommendation"),
    ],
)
def test_native_malformed_answers(answer: Any, message: str) -> None:
    with pytest.raises(MalformedAnswerError, match=message) as info:
        NativeProtocol().decode(answer, request_id=RID, evaluator="svc")
    assert info.value.failure == "malformed"
    assert isinstance(info.value, MalformedDecisionError)


def test_native_batch_keeps_order_and_isolates_a_bad_item() -> None:
    answer = {
        "protocol": NATIVE_PROTOCOL,
        "request_id": RID,
        "decisions": [{"recommendation": "proceed"}, {"risk": 2}, {"recommendation": "x"}],
    }
    got = NativeProtocol().decode_batch(answer, request_id=RID, evaluator="svc", count=3)
    assert isinstance(got[0], Decision) and got[0].recommendation == "proceed"
    assert isinstance(got[1], MalformedAnswerError)
    assert isinstance(got[2], Decision) and got[2].recommendation == "x"
    with pytest.raises(MalformedAnswerError, match="list of 4 items, got 3"):
        NativeProtocol().decode_batch(answer, request_id=RID, evaluator="svc", count=4)


# -- AuthZEN ----------------------------------------------------------------------------------


def test_authzen_encode_maps_the_proposal_to_subject_action_resource_context() -> None:
    p = proposal()
    assert AuthZENProtocol().encode(p, RID) == {
        "subject": {
            "type": "agent",
            "id": "support-bot",
            "properties": {"actor": "alice", "domain": "billing", "trigger": "refunds"},
        },
        "action": {
            "name": "issue_refund",
            "properties": {
                "arguments": {"customer": "c1", "amount": 20},
                "value": 20,
                "metadata": {
                    "system": "stripe",
                    "risk": "high",
                    "environment": "production",
                    "tags": ["money"],
                },
            },
        },
        "resource": {
            "type": "stripe",
            "id": "c1",
            "properties": {"environment": "production", "tags": ["money"]},
        },
        "context": {
            "run_id": "run-1",
            "call_id": "call-1",
            "idempotency_key": p.idempotency_key,
            "request_id": RID,
        },
    }


def test_authzen_resource_defaults_to_tool_and_action_name() -> None:
    body = AuthZENProtocol().encode(proposal("lookup", metadata={}, target=None), RID)
    assert (body["resource"]["type"], body["resource"]["id"]) == ("tool", "lookup")
    batch = AuthZENProtocol().encode_batch([proposal(), proposal("b")], RID)
    assert [e["action"]["name"] for e in batch["evaluations"]] == ["issue_refund", "b"]


@pytest.mark.parametrize(
    ("answer", "recommendation", "reason"),
    [
        ({"decision": True}, "proceed", ""),
        ({"decision": True, "context": None}, "proceed", ""),
        ({"decision": False}, "do_not_proceed", ""),
        ({"decision": False, "context": {"reason": "no"}}, "do_not_proceed", "no"),
        (
            {"decision": False, "context": {"access_request": {"url": "https://x/req"}}},
            "review_recommended",
            "approval required",
        ),
        (
            {"decision": False, "context": {"reason": "approval_required"}},
            "review_recommended",
            "approval required",
        ),
        (
            {"decision": False, "context": {"reason_admin": {"en": "approval_required"}}},
            "review_recommended",
            "approval required",
        ),
        (
            {
                "decision": False,
                "context": {
                    "reason_user": {
                        "de": "Bitte genehmigen",
                        "en": "Please approve",
                        "code": "approval_required",
                    }
                },
            },
            "review_recommended",
            "Please approve",
        ),
        (
            {"decision": False, "context": {"reason_admin": {"fr": "refusé"}}},
            "do_not_proceed",
            "refusé",
        ),
        # an approval hint on a permit changes nothing
        (
            {"decision": True, "context": {"reason": "approval_required"}},
            "proceed",
            "approval_required",
        ),
    ],
)
def test_authzen_decode(answer: dict[str, Any], recommendation: str, reason: str) -> None:
    got = AuthZENProtocol().decode(answer, request_id=RID, evaluator="pdp")
    assert (got.recommendation, got.reason) == (recommendation, reason)
    assert (got.request_id, got.evaluator) == (RID, "pdp")


def test_authzen_sends_extractor_extra_only_when_there_is_some() -> None:
    body = AuthZENProtocol().encode(proposal(extra={"region": "eu"}), RID)
    assert body["action"]["properties"]["extra"] == {"region": "eu"}
    assert "extra" not in AuthZENProtocol().encode(proposal(), RID)["action"]["properties"]


@pytest.mark.parametrize(
    ("answer", "recommendation", "mode"),
    [
        # a PDP stating the full decision (as trigger-bot serve does) is read as stated
        (
            {
                "decision": True,
                "context": {"recommendation": "proceed_with_caution", "mode": "autonomous"},
            },
            "proceed_with_caution",
            "autonomous",
        ),
        (
            {
                "decision": False,
                "context": {
                    "recommendation": "review_recommended",
                    "mode": "needs_context",
                    "reason": "approval_required",
                    "access_request": {},
                },
            },
            "review_recommended",
            "needs_context",
        ),
        (
            {"decision": False, "context": {"recommendation": "do_not_proceed"}},
            "do_not_proceed",
            "blocked",
        ),
        ({"decision": False, "context": {"recommendation": "shred"}}, "shred", "blocked"),
        # a deny never proceeds, whatever the context claims
        (
            {"decision": False, "context": {"recommendation": "proceed", "mode": "autonomous"}},
            "do_not_proceed",
            "blocked",
        ),
        # a permit with a restrictive recommendation keeps the restrictive one
        (
            {"decision": True, "context": {"recommendation": "do_not_proceed"}},
            "do_not_proceed",
            "blocked",
        ),
    ],
)
def test_authzen_full_decision_in_the_context(
    answer: dict[str, Any], recommendation: str, mode: str
) -> None:
    got = AuthZENProtocol().decode(answer, request_id=RID, evaluator="pdp")
    assert (got.recommendation, got.mode) == (recommendation, mode)


def test_authzen_approval_reason_comes_from_the_access_request() -> None:
    got = AuthZENProtocol().decode(
        {
            "decision": False,
            "context": {
                "reason": "approval_required",
                "access_request": {"reason": "over 500 EUR"},
            },
        },
        request_id=RID,
        evaluator="pdp",
    )
    assert (got.recommendation, got.reason) == ("review_recommended", "over 500 EUR")


def test_authzen_per_evaluation_error_is_never_a_deny() -> None:
    answer = {
        "decision": False,
        "context": {"error": {"status": 400, "code": "invalid_evaluation", "message": "bad"}},
    }
    with pytest.raises(RemoteHTTPError, match="invalid_evaluation") as info:
        AuthZENProtocol().decode(answer, request_id=RID, evaluator="pdp")
    assert (info.value.failure, info.value.status_code) == ("http_error", 400)
    batch = AuthZENProtocol().decode_batch(
        {"evaluations": [{"decision": True}, answer]}, request_id=RID, evaluator="pdp", count=2
    )
    assert isinstance(batch[0], Decision) and isinstance(batch[1], RemoteHTTPError)


def test_authzen_decode_takes_risk_and_policy_fields_from_the_context() -> None:
    got = AuthZENProtocol().decode(
        {"decision": True, "context": {"risk": 0.3, "policy_version": "9", "id": "x"}},
        request_id=RID,
        evaluator="pdp",
    )
    assert (got.risk, got.policy_version) == (0.3, "9")


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"decision": "true"},
        {"decision": 1},
        {"decision": None},
        {"decision": False, "context": []},
        {"decision": True, "context": {"risk": 7}},
        "yes",
    ],
)
def test_authzen_malformed_answers(answer: Any) -> None:
    with pytest.raises(MalformedAnswerError):
        AuthZENProtocol().decode(answer, request_id=RID, evaluator="pdp")


def test_authzen_batch() -> None:
    answer = {"evaluations": [{"decision": True}, {"decision": "maybe"}, {"decision": False}]}
    got = AuthZENProtocol().decode_batch(answer, request_id=RID, evaluator="pdp", count=3)
    assert isinstance(got[0], Decision) and got[0].recommendation == "proceed"
    assert isinstance(got[1], MalformedAnswerError)
    assert isinstance(got[2], Decision) and got[2].recommendation == "do_not_proceed"
    with pytest.raises(MalformedAnswerError):
        AuthZENProtocol().decode_batch({"evaluations": []}, request_id=RID, evaluator="p", count=3)


def test_authzen_discovery_document() -> None:
    base = "https://pdp.example.com"
    wire = parse_authzen_configuration(
        {
            "policy_decision_point": base + "/",
            "access_evaluation_endpoint": f"{base}/authz/eval",
            "access_evaluations_endpoint": f"{base}/authz/evals",
        },
        base,
    )
    assert (wire.path, wire.batch_path) == (f"{base}/authz/eval", f"{base}/authz/evals")
    single_only = parse_authzen_configuration(
        {"policy_decision_point": base, "access_evaluation_endpoint": f"{base}/e"}, base
    )
    assert single_only.batch_path is None


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"access_evaluation_endpoint": "https://pdp.example.com/e"},
        {
            "policy_decision_point": "https://evil.example.com",
            "access_evaluation_endpoint": "https://evil.example.com/e",
        },
        {"policy_decision_point": "https://pdp.example.com"},
        {"policy_decision_point": "https://pdp.example.com", "access_evaluation_endpoint": "/e"},
    ],
)
def test_authzen_discovery_refuses_bad_documents(doc: Any) -> None:
    with pytest.raises(MalformedAnswerError):
        parse_authzen_configuration(doc, "https://pdp.example.com")


# -- OPA ------------------------------------------------------------------------------------


def test_opa_encode_and_path() -> None:
    p = proposal()
    wire = OPAProtocol("/bots/refunds/decision/")
    assert wire.path == "/v1/data/bots/refunds/decision"
    assert wire.batch_path is None
    assert wire.encode(p, RID) == {"input": p.model_dump(mode="json")}
    assert OPAProtocol().path == "/v1/data/openai_trigger_bot/decision"


@pytest.mark.parametrize("path", ["", "/", "a/../b", "a?b=1", "a b", "a//b"])
def test_opa_bad_paths_are_configuration_errors(path: str) -> None:
    with pytest.raises(ConfigurationError, match="data path"):
        OPAProtocol(path)


@pytest.mark.parametrize(
    ("result", "recommendation", "mode"),
    [
        (True, "proceed", "autonomous"),
        (False, "do_not_proceed", "blocked"),
        ({"allow": True}, "proceed", "autonomous"),
        ({"allow": False, "reason": "limit"}, "do_not_proceed", "blocked"),
        ({"recommendation": "review_recommended"}, "review_recommended", "review"),
        ({"allow": False, "recommendation": "review_recommended"}, "review_recommended", "review"),
        # allow=false never proceeds, whatever else the result says
        (
            {"allow": False, "recommendation": "proceed", "mode": "autonomous"},
            "do_not_proceed",
            "blocked",
        ),
        ({"allow": True, "recommendation": "do_not_proceed"}, "do_not_proceed", "blocked"),
        ({"recommendation": "quarantine"}, "quarantine", "blocked"),
    ],
)
def test_opa_decode(result: Any, recommendation: str, mode: str) -> None:
    got = OPAProtocol().decode({"result": result}, request_id=RID, evaluator="opa")
    assert (got.recommendation, got.mode) == (recommendation, mode)
    assert got.policy_id == "opa:openai_trigger_bot/decision"


def test_opa_result_fields_are_kept() -> None:
    got = OPAProtocol().decode(
        {"result": {"allow": False, "reason": "over limit", "risk": 0.8, "policy_id": "p"}},
        request_id=RID,
        evaluator="opa",
    )
    assert (got.reason, got.risk, got.policy_id) == ("over limit", 0.8, "p")


@pytest.mark.parametrize(
    "answer", [{}, {"decision_id": "x"}, {"result": {}}, {"result": {"reason": "?"}}]
)
def test_opa_undefined_is_no_decision_never_allow(answer: Any) -> None:
    with pytest.raises(NoDecisionError) as info:
        OPAProtocol().decode(answer, request_id=RID, evaluator="opa")
    assert info.value.failure == "no_decision"
    assert info.value.counts_for_breaker is False


@pytest.mark.parametrize(
    "answer",
    [[], {"result": None}, {"result": 1}, {"result": "allow"}, {"result": {"allow": "yes"}}],
)
def test_opa_malformed(answer: Any) -> None:
    with pytest.raises(MalformedAnswerError):
        OPAProtocol().decode(answer, request_id=RID, evaluator="opa")


def test_opa_has_no_batch_encoding() -> None:
    with pytest.raises(NotImplementedError):
        OPAProtocol().encode_batch([proposal()], RID)
    with pytest.raises(NotImplementedError):
        OPAProtocol().decode_batch({}, request_id=RID, evaluator="opa", count=1)


# -- choosing a protocol ----------------------------------------------------------------------


def test_wire_protocol_by_name_or_instance() -> None:
    assert isinstance(wire_protocol("native"), NativeProtocol)
    assert isinstance(wire_protocol("authzen"), AuthZENProtocol)
    assert wire_protocol("opa", opa_path="x/y").path == "/v1/data/x/y"
    custom = AuthZENProtocol(path="https://pdp/e")
    assert wire_protocol(custom) is custom
    with pytest.raises(ConfigurationError, match="not one of"):
        wire_protocol("grpc")  # type: ignore[arg-type]
