"""The OpenAPI document of the protocol: valid, and in step with the code."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.routing import Route

from openai_trigger_bot.governance import ActionMetadata, Decision, ExecutionEvent, ProposedAction
from openai_trigger_bot.runs import ApprovalVote, LedgerEntry
from openai_trigger_bot.server import PROTOCOL, create_app
from openai_trigger_bot.server import approvals as approvals_wire
from openai_trigger_bot.server.native import decision_to_wire
from openai_trigger_bot.server.reports import OutcomeReport
from openai_trigger_bot.server.resumer import ResumeRecord

from ..runs._helpers import approval, run
from .conftest import ROOT, SHIPPED_POLICIES

SPEC_PATH = ROOT / "openapi" / "decision-service.yaml"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    try:
        from openapi_spec_validator import validate
    except ImportError:  # pragma: no cover - structural checks only
        assert spec["openapi"].startswith("3.1")
        assert {"info", "paths", "components"} <= set(spec)
        return
    validate(spec)


def test_spec_names_this_protocol(spec: dict[str, Any]) -> None:
    assert spec["info"]["version"] == PROTOCOL
    assert spec["components"]["schemas"]["Protocol"]["const"] == PROTOCOL


def test_spec_paths_are_the_served_routes(spec: dict[str, Any], tmp_path: Path) -> None:
    app = create_app(
        SHIPPED_POLICIES, token="t", db_path=tmp_path / "r.db", run_store=tmp_path / "runs.db"
    )
    app.state.run_store.close()
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == served
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            public = path in ("/health", "/.well-known/authzen-configuration")
            assert (op.get("security") == []) is public, (path, method)


@pytest.mark.parametrize(
    ("schema", "fields"),
    [
        ("ProposedAction", set(ProposedAction.model_fields)),
        ("ActionMetadata", set(ActionMetadata.model_fields)),
        ("ExecutionEvent", set(ExecutionEvent.model_fields)),
        ("RecordedDecision", set(Decision.model_fields)),
        ("OutcomeReport", set(OutcomeReport.model_fields)),
        ("Decision", set(decision_to_wire(Decision(recommendation="proceed")))),
        ("Approval", set(approvals_wire.approval_to_wire(approval(), 0.0))),
        ("ApprovalVote", set(ApprovalVote.model_fields)),
        ("VoteRequest", set(approvals_wire.VoteRequest.model_fields)),
        ("Run", set(approvals_wire.run_to_wire(run()))),
        (
            "LedgerEntry",
            set(
                approvals_wire.ledger_to_wire(
                    LedgerEntry(key="k", run_id="r", call_id="c", action="a", started_at=0.0)
                )
            ),
        ),
        ("ResumeRecord", {field.name for field in dataclasses.fields(ResumeRecord)}),
    ],
)
def test_record_schemas_match_the_models(
    spec: dict[str, Any], schema: str, fields: set[str]
) -> None:
    assert set(spec["components"]["schemas"][schema]["properties"]) == fields


def test_approval_enums_match_the_code(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    status = schemas["Approval"]["properties"]["status"]["enum"]
    assert tuple(status) == approvals_wire.APPROVAL_STATUSES
    query = spec["paths"]["/v1/approvals"]["get"]["parameters"][0]["schema"]["enum"]
    assert query == [*approvals_wire.APPROVAL_STATUSES, "all"]
    outcomes = schemas["ResumeRecord"]["properties"]["outcome"]["enum"]
    assert set(outcomes) == set(typing.get_args(typing.get_type_hints(ResumeRecord)["outcome"]))
