"""OpenID AuthZEN Authorization API 1.0, mapped onto proposals and decisions (pure functions).

A proposed tool call is an AuthZEN request::

    subject   {"type": "agent", "id": bot, "properties": {"actor", "domain", "trigger"}}
    action    {"name": action, "properties": {"arguments", "value", "metadata": {"system",
               "risk", "environment", "tags"}, "extra"}}
    resource  {"type": system or "tool", "id": target or action,
               "properties": {"environment", "tags"}}
    context   {"run_id", "call_id", "idempotency_key", "request_id"}

Reading it back (:func:`proposal_from_evaluation`): ``resource.id`` is the target unless it is
missing or equals the action name; ``resource.type`` is the system unless it is ``"tool"``;
``metadata`` in the action's properties wins over the resource's ``environment`` / ``tags``.
Only ``action.name`` is required; ``subject`` and ``resource`` may be left out.

A decision becomes ``{"decision": bool, "context": {...}}`` through the ``enforced`` column of
:func:`~openai_trigger_bot.governance.enforcement.outcome_for`:

===================  ========  ===================================================
outcome              decision  context
===================  ========  ===================================================
execute              true      ``reason``: the policy's reason
approval_required    false     ``reason: "approval_required"`` and ``access_request``
needs_context        false     as ``approval_required`` (``access_request.mode`` says
                               ``needs_context``; its ``reason`` is the question)
block                false     ``reason``: the policy's reason
===================  ========  ===================================================

Every context also carries ``recommendation``, ``mode``, ``risk``, ``confidence``,
``policy_id``, ``policy_version``, ``matched_rules`` and ``better_action``, so a client can
rebuild the full decision. A deny is a 200 with ``false``; 4xx and 5xx are errors, never
decisions. In a batch, a malformed evaluation answers
``{"decision": false, "context": {"error": {"status": 400, "code", "message"}}}`` (the spec's
per-evaluation error; a client that ignores ``error`` reads it as a deny, which fails closed),
while a condition failing on any evaluation fails the whole batch with 500, as in the native
protocol, so that the client's ``fail_mode`` applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from ..governance.decision import Decision, ProposedAction
from ..governance.enforcement import outcome_for
from .native import MAX_BATCH, ProtocolError, validation_details

__all__ = [
    "EVALUATIONS_SEMANTICS",
    "Semantic",
    "check_public_url",
    "discovery",
    "error_result",
    "evaluation_request",
    "evaluation_result",
    "evaluations_request",
    "local_base_url",
    "proposal_from_evaluation",
    "stops_after",
]

Semantic = Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"]
EVALUATIONS_SEMANTICS: tuple[Semantic, ...] = (
    "execute_all",
    "deny_on_first_deny",
    "permit_on_first_permit",
)


def _object(data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProtocolError(400, "invalid_evaluation", f"'{where}' must be a JSON object")
    return data


def evaluation_request(
    proposal: ProposedAction, *, request_id: str | None = None
) -> dict[str, Any]:
    """A proposal as an AuthZEN access evaluation request (the mapping in the module docstring).

    Args:
        proposal: The proposal.
        request_id: Put into ``context.request_id`` when given.
    """
    metadata = proposal.metadata
    action_properties: dict[str, Any] = {
        "arguments": proposal.arguments,
        "value": proposal.value,
        "metadata": {
            "system": metadata.system,
            "risk": metadata.risk,
            "environment": metadata.environment,
            "tags": list(metadata.tags),
        },
    }
    if proposal.extra:
        action_properties["extra"] = proposal.extra
    context: dict[str, Any] = {
        "run_id": proposal.run_id,
        "call_id": proposal.call_id,
        "idempotency_key": proposal.idempotency_key,
    }
    if request_id is not None:
        context["request_id"] = request_id
    return {
        "subject": {
            "type": "agent",
            "id": proposal.bot or "",
            "properties": {
                "actor": proposal.actor,
                "domain": proposal.domain,
                "trigger": proposal.trigger,
            },
        },
        "action": {"name": proposal.action, "properties": action_properties},
        "resource": {
            "type": metadata.system or "tool",
            "id": proposal.target or proposal.action,
            "properties": {"environment": metadata.environment, "tags": list(metadata.tags)},
        },
        "context": context,
    }


def proposal_from_evaluation(evaluation: Mapping[str, Any]) -> tuple[ProposedAction, str | None]:
    """An AuthZEN access evaluation request as a proposal.

    Returns:
        The proposal and ``context.request_id`` (``None`` when absent or not a string).

    Raises:
        ProtocolError: 400 ``invalid_evaluation``: a part is not an object, ``action.name`` is
            missing, or the fields do not make a valid proposal (``details`` lists them).
    """
    subject = _object(evaluation.get("subject"), "subject")
    action = _object(evaluation.get("action"), "action")
    resource = _object(evaluation.get("resource"), "resource")
    context = _object(evaluation.get("context"), "context")
    name = action.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError(400, "invalid_evaluation", "'action.name' must be a non-empty string")
    subject_props = _object(subject.get("properties"), "subject.properties")
    action_props = _object(action.get("properties"), "action.properties")
    resource_props = _object(resource.get("properties"), "resource.properties")
    metadata = dict(_object(action_props.get("metadata"), "action.properties.metadata"))
    resource_type = resource.get("type")
    if metadata.get("system") is None and resource_type not in (None, "", "tool"):
        metadata["system"] = resource_type
    for key in ("environment", "tags"):
        if metadata.get(key) is None and resource_props.get(key) is not None:
            metadata[key] = resource_props[key]
    if metadata.get("tags") is None:
        metadata.pop("tags", None)
    resource_id = resource.get("id")
    data: dict[str, Any] = {
        "action": name,
        "arguments": action_props.get("arguments") or {},
        "metadata": metadata,
        "value": action_props.get("value"),
        "target": resource_id if resource_id not in (None, "", name) else None,
        "extra": action_props.get("extra") or {},
        "bot": subject.get("id") or None,
        "actor": subject_props.get("actor"),
        "domain": subject_props.get("domain"),
        "trigger": subject_props.get("trigger"),
    }
    for key in ("run_id", "call_id", "idempotency_key"):
        if context.get(key) is not None:
            data[key] = context[key]
    try:
        proposal = ProposedAction.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            400,
            "invalid_evaluation",
            "the evaluation does not describe a valid proposed action",
            validation_details(exc),
        ) from exc
    request_id = context.get("request_id")
    return proposal, request_id if isinstance(request_id, str) and request_id else None


def evaluation_result(decision: Decision) -> dict[str, Any]:
    """A decision as an AuthZEN answer (the table in the module docstring)."""
    outcome = outcome_for(decision, "enforced")
    context: dict[str, Any] = {
        "reason": decision.reason,
        "recommendation": decision.recommendation,
        "mode": decision.mode,
        "risk": decision.risk,
        "confidence": decision.confidence,
        "policy_id": decision.policy_id,
        "policy_version": decision.policy_version,
        "matched_rules": list(decision.matched_rules),
        "better_action": decision.better_action,
    }
    if outcome == "execute":
        return {"decision": True, "context": context}
    if outcome in ("approval_required", "needs_context"):  # the wire keeps one "not yet" form
        context["reason"] = "approval_required"
        context["access_request"] = {
            "reason": decision.reason,
            "mode": decision.mode,
            "policy_id": decision.policy_id,
            "policy_version": decision.policy_version,
        }
        return {"decision": False, "context": context}
    if not decision.reason:
        context["reason"] = f"denied by policy {decision.policy_id or '(unnamed)'}"
    return {"decision": False, "context": context}


def error_result(error: ProtocolError) -> dict[str, Any]:
    """A per-evaluation error inside a batch answer (never to be read as a deny)."""
    return {
        "decision": False,
        "context": {
            "error": {"status": error.status, "code": error.code, "message": error.message}
        },
    }


def evaluations_request(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]] | None, Semantic]:
    """The evaluations of an ``/access/v1/evaluations`` body, with the defaults merged in.

    Top-level ``subject``, ``action``, ``resource`` and ``context`` are defaults: an evaluation
    that leaves one out gets the default one (a whole object, not merged key by key).

    Returns:
        The merged evaluations (``None`` when ``evaluations`` is missing or empty: the body is
        then a single evaluation) and ``options.evaluations_semantic`` (default
        ``execute_all``).

    Raises:
        ProtocolError: 400 for a malformed ``evaluations`` or ``options``.
    """
    options = _object(body.get("options"), "options")
    semantic = options.get("evaluations_semantic", "execute_all")
    if semantic not in EVALUATIONS_SEMANTICS:
        raise ProtocolError(
            400,
            "invalid_evaluation",
            f"unknown evaluations_semantic {semantic!r}; use one of {list(EVALUATIONS_SEMANTICS)}",
        )
    evaluations = body.get("evaluations")
    if evaluations is None or evaluations == []:
        return None, semantic
    if not isinstance(evaluations, list):
        raise ProtocolError(400, "invalid_evaluation", "'evaluations' must be a list")
    if len(evaluations) > MAX_BATCH:
        raise ProtocolError(
            400, "invalid_evaluation", f"at most {MAX_BATCH} evaluations per request"
        )
    defaults = {k: body[k] for k in ("subject", "action", "resource", "context") if k in body}
    merged = []
    for i, evaluation in enumerate(evaluations):
        if not isinstance(evaluation, dict):
            raise ProtocolError(400, "invalid_evaluation", f"evaluation {i} must be an object")
        merged.append({**defaults, **evaluation})
    return merged, semantic


def stops_after(result: Mapping[str, Any], semantic: Semantic) -> bool:
    """Whether a batch stops after this result (``deny_on_first_deny``: a false, errors
    included; ``permit_on_first_permit``: a true)."""
    if semantic == "deny_on_first_deny":
        return result.get("decision") is not True
    if semantic == "permit_on_first_permit":
        return result.get("decision") is True
    return False


def check_public_url(url: str) -> str:
    """A server's public base URL, checked, without a trailing slash.

    Raises:
        ValueError: Not an absolute ``http(s)://host[:port][/path]`` URL (a query, fragment
            or user info is refused too: the URL is published as the PDP's identifier).
    """
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(
            f"public_url {url!r} is not an absolute http(s) URL without user, query or "
            "fragment; pass one such as https://pdp.example.com or http://127.0.0.1:8787"
        )
    return url.rstrip("/")


def local_base_url(scheme: str, server: tuple[str, int | None] | None) -> str | None:
    """The base URL of the local address a connection arrived on (``None`` if unknown).

    Built from the listening socket's address, never from the request's ``Host`` header,
    which the client writes.
    """
    if server is None:
        return None
    host, port = server
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if scheme == "https" else "http"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def discovery(base_url: str) -> dict[str, str]:
    """The ``/.well-known/authzen-configuration`` document for a server at ``base_url``."""
    base = base_url.rstrip("/")
    return {
        "policy_decision_point": base,
        "access_evaluation_endpoint": f"{base}/access/v1/evaluation",
        "access_evaluations_endpoint": f"{base}/access/v1/evaluations",
    }
