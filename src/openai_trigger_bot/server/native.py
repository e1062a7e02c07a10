"""The project's own decision protocol, ``openai-trigger-bot.decision/v1``: parsing and shaping.

Pure functions, no I/O and no web framework: the HTTP layer (:mod:`._handlers`) reads the JSON
body, calls these, and sends what they return. Every problem with a request is a
:class:`ProtocolError` carrying the HTTP status, a stable error ``code`` and a message, rendered
as ``{"error": {"code", "message", "details"?}}``:

======  ==========================  =======================================================
status  code                        when
======  ==========================  =======================================================
400     ``invalid_json``            the body is not JSON
400     ``too_deep``                the body nests deeper than :data:`MAX_JSON_DEPTH` levels
400     ``invalid_request``         the body is not a JSON object
400     ``unsupported_protocol``    ``protocol`` is missing or not :data:`PROTOCOL`
422     ``invalid_proposal``        a proposal does not validate (``details``: the problems)
422     ``invalid_reports``         a report does not validate (``details``: the problems)
======  ==========================  =======================================================

Proposals are validated as :class:`~openai_trigger_bot.governance.ProposedAction` records,
which refuse unknown fields: a misspelt field fails loudly instead of silently changing a
decision. A new field means a new protocol version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..governance.decision import Decision, ProposedAction
from .reports import OutcomeReport

__all__ = [
    "MAX_BATCH",
    "MAX_JSON_DEPTH",
    "PROTOCOL",
    "ProtocolError",
    "decision_body",
    "decision_to_wire",
    "parse_batch_request",
    "parse_decision_request",
    "parse_json",
    "parse_reports_request",
    "validation_details",
]

PROTOCOL = "openai-trigger-bot.decision/v1"
"""The version string every native request carries in ``protocol``."""

MAX_BATCH = 1000
"""The most proposals (or reports) one request may carry."""

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a request body may have (the body itself is 1)."""


class ProtocolError(Exception):
    """A request the server cannot answer with a decision; becomes an error response.

    Attributes:
        status: The HTTP status (400, 401, 413, 422, 500, 503).
        code: A stable, machine-readable error code (see the module table).
        message: What is wrong, in a sentence.
        details: Further data (validation problems), when useful.
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": {"code", "message", "details"?}}``."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def validation_details(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[Any]:
    """A pydantic error as plain JSON: ``[{"loc": [...], "msg", "type"}]``, ``loc`` prefixed."""
    return [
        {"loc": [*prefix, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _too_deep() -> ProtocolError:
    return ProtocolError(
        400, "too_deep", f"the body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"
    )


def _exceeds_depth(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than ``limit`` (iterative: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, at most :data:`MAX_JSON_DEPTH` levels deep.

    Every endpoint reads its body here, so the depth bound holds for all of them: deeper data
    would exhaust the recursion limit later (validation, CEL, serialising a report), and a
    body deep enough makes ``json.loads`` itself raise ``RecursionError``.

    Raises:
        ProtocolError: 400 ``invalid_json``, ``too_deep`` or ``invalid_request``.
    """
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    # Counting brackets is a cheap upper bound of the depth: walk the data only when it could
    # be too deep.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _exceeds_depth(body, MAX_JSON_DEPTH):
        raise _too_deep()
    if not isinstance(body, dict):
        raise ProtocolError(400, "invalid_request", "the body must be a JSON object")
    return body


def _check_protocol(body: Mapping[str, Any]) -> None:
    protocol = body.get("protocol")
    if protocol is None:
        raise ProtocolError(
            400, "unsupported_protocol", f"the request has no 'protocol'; send {PROTOCOL!r}"
        )
    if protocol != PROTOCOL:
        raise ProtocolError(
            400,
            "unsupported_protocol",
            f"protocol {protocol!r} is not supported; this server speaks {PROTOCOL!r}",
            {"supported": [PROTOCOL]},
        )


def _request_id(body: Mapping[str, Any]) -> str | None:
    value = body.get("request_id")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ProtocolError(
            422, "invalid_request", "'request_id' must be a non-empty string (at most 200 chars)"
        )
    return value


def _proposal(data: Any, loc: tuple[str | int, ...]) -> ProposedAction:
    if not isinstance(data, dict):
        raise ProtocolError(
            422,
            "invalid_proposal",
            f"'{'.'.join(map(str, loc))}' must be a JSON object (a ProposedAction)",
            [{"loc": list(loc), "msg": "Input should be an object", "type": "dict_type"}],
        )
    try:
        return ProposedAction.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            422,
            "invalid_proposal",
            f"the proposal at '{'.'.join(map(str, loc))}' is not valid",
            validation_details(exc, loc),
        ) from exc


def parse_decision_request(body: Mapping[str, Any]) -> tuple[str | None, ProposedAction]:
    """Check a ``POST /v1/decisions`` body.

    Returns:
        The body's ``request_id`` (``None`` when absent) and the proposal.

    Raises:
        ProtocolError: 400 for a wrong protocol, 422 for a malformed proposal.
    """
    _check_protocol(body)
    request_id = _request_id(body)
    if "proposal" not in body:
        raise ProtocolError(422, "invalid_proposal", "the request has no 'proposal'")
    return request_id, _proposal(body["proposal"], ("proposal",))


def parse_batch_request(body: Mapping[str, Any]) -> tuple[str | None, list[ProposedAction]]:
    """Check a ``POST /v1/decisions:batch`` body (every proposal must validate).

    Returns:
        The body's ``request_id`` (``None`` when absent) and the proposals, in order.

    Raises:
        ProtocolError: 400 for a wrong protocol, 422 when ``proposals`` is not a list of at most
            :data:`MAX_BATCH` valid proposals.
    """
    _check_protocol(body)
    request_id = _request_id(body)
    proposals = body.get("proposals")
    if not isinstance(proposals, list):
        raise ProtocolError(422, "invalid_proposal", "'proposals' must be a list of proposals")
    if len(proposals) > MAX_BATCH:
        raise ProtocolError(
            422, "invalid_proposal", f"at most {MAX_BATCH} proposals per batch; split the batch"
        )
    return request_id, [_proposal(p, ("proposals", i)) for i, p in enumerate(proposals)]


def parse_reports_request(body: Mapping[str, Any]) -> list[OutcomeReport]:
    """Check a ``POST /v1/reports`` body (all reports validate, or none is stored).

    Raises:
        ProtocolError: 400 for a wrong protocol, 422 when ``reports`` is not a list of at most
            :data:`MAX_BATCH` valid reports.
    """
    _check_protocol(body)
    reports = body.get("reports")
    if not isinstance(reports, list):
        raise ProtocolError(422, "invalid_reports", "'reports' must be a list of reports")
    if len(reports) > MAX_BATCH:
        raise ProtocolError(
            422, "invalid_reports", f"at most {MAX_BATCH} reports per request; send fewer"
        )
    parsed: list[OutcomeReport] = []
    for i, report in enumerate(reports):
        try:
            parsed.append(OutcomeReport.model_validate(report))
        except ValidationError as exc:
            raise ProtocolError(
                422,
                "invalid_reports",
                f"report {i} is not valid; no report of this request was stored",
                validation_details(exc, ("reports", i)),
            ) from exc
    return parsed


def decision_to_wire(decision: Decision) -> dict[str, Any]:
    """A decision as the protocol's ``decision`` object."""
    return {
        "recommendation": decision.recommendation,
        "risk": decision.risk,
        "confidence": decision.confidence,
        "mode": decision.mode,
        "reason": decision.reason,
        "better_action": decision.better_action,
        "policy_id": decision.policy_id,
        "policy_version": decision.policy_version,
        "matched_rules": list(decision.matched_rules),
    }


def decision_body(request_id: str, decision: Decision) -> dict[str, Any]:
    """The ``POST /v1/decisions`` answer."""
    return {
        "protocol": PROTOCOL,
        "request_id": request_id,
        "decision": decision_to_wire(decision),
    }
