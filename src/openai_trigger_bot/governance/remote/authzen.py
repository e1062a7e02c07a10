"""OpenID AuthZEN Authorization API 1.0: access evaluation(s) and discovery (pure: no I/O).

A proposal becomes one access evaluation request (``POST /access/v1/evaluation``)::

    {"subject": {"type": "agent", "id": <bot>,
                 "properties": {"actor": ..., "domain": ..., "trigger": ...}},
     "action": {"name": <action>,
                "properties": {"arguments": ..., "value": ..., "metadata": {<ActionMetadata>},
                               "extra": {<metadata extractor output, when any>}}},
     "resource": {"type": <metadata.system or "tool">, "id": <target or action name>,
                  "properties": {"environment": ..., "tags": [...]}},
     "context": {"run_id": ..., "call_id": ..., "idempotency_key": ..., "request_id": ...}}

The answer ``{"decision": bool, "context": {...}}`` maps to a :class:`Decision`:

- ``true`` → ``proceed``;
- ``false`` → ``do_not_proceed``, unless the deny asks for approval (the draft access-request
  profile): ``context.access_request`` is present, or ``context.reason`` (or a value of the
  ``reason_admin`` / ``reason_user`` objects) is ``"approval_required"`` → ``review_recommended``;
- a PDP that states the full decision in ``context.recommendation`` (and ``mode``), as
  ``trigger-bot serve`` does, is read as stated when it agrees with the boolean; a deny never
  becomes ``proceed``/``proceed_with_caution`` (a permit with a restrictive recommendation keeps
  the more restrictive one);
- ``context.error`` (a per-evaluation error in a batch) is a :class:`RemoteHTTPError`, never a
  deny.

``context.risk``, ``confidence``, ``policy_id``, ``policy_version``, ``better_action`` and
``matched_rules`` are taken when present; the reason text is ``context.reason`` (for an
approval, ``access_request.reason``) or the English (else first) entry of ``reason_user`` /
``reason_admin``. A decision that is not a JSON boolean is malformed. Batch:
``POST /access/v1/evaluations`` with ``{"evaluations": [...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..decision import Decision, ProposedAction
from ._wire import build_decision, require_list, require_mapping
from .errors import MalformedAnswerError, RemoteEvaluatorError, RemoteHTTPError

__all__ = [
    "APPROVAL_REASON",
    "AUTHZEN_CONFIGURATION_PATH",
    "AuthZENProtocol",
    "asks_for_approval",
    "parse_authzen_configuration",
    "reason_text",
]

AUTHZEN_CONFIGURATION_PATH = "/.well-known/authzen-configuration"
APPROVAL_REASON = "approval_required"
_PASSED_THROUGH = (
    "risk",
    "confidence",
    "policy_id",
    "policy_version",
    "better_action",
    "matched_rules",
)
_PERMISSIVE = ("proceed", "proceed_with_caution")


@dataclass(frozen=True)
class AuthZENProtocol:
    """Encodes proposals as AuthZEN access evaluations and decodes the answers.

    Attributes:
        path: The access evaluation endpoint (relative to the base URL, or absolute).
        batch_path: The access evaluations (batch) endpoint, if the PDP has one.
    """

    path: str = "/access/v1/evaluation"
    batch_path: str | None = "/access/v1/evaluations"
    name: ClassVar[str] = "authzen"

    def encode(self, proposal: ProposedAction, request_id: str) -> dict[str, Any]:
        """The access evaluation request for one proposal."""
        meta = proposal.metadata
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
            "action": {
                "name": proposal.action,
                "properties": {
                    "arguments": proposal.arguments,
                    "value": proposal.value,
                    "metadata": meta.model_dump(mode="json"),
                    **({"extra": proposal.extra} if proposal.extra else {}),
                },
            },
            "resource": {
                "type": meta.system or "tool",
                "id": proposal.target or proposal.action,
                "properties": {"environment": meta.environment, "tags": list(meta.tags)},
            },
            "context": {
                "run_id": proposal.run_id,
                "call_id": proposal.call_id,
                "idempotency_key": proposal.idempotency_key,
                "request_id": request_id,
            },
        }

    def decode(self, data: Any, *, request_id: str, evaluator: str) -> Decision:
        """The decision in an access evaluation answer.

        Raises:
            MalformedAnswerError: ``decision`` is missing or not a boolean; invalid fields.
            RemoteHTTPError: The PDP refused this evaluation (``context.error``).
        """
        body = require_mapping(data, "answer", request_id, evaluator)
        allowed = body.get("decision")
        if not isinstance(allowed, bool):
            raise MalformedAnswerError(
                f"AuthZEN decision must be a boolean, got {type(allowed).__name__}",
                request_id=request_id,
                evaluator=evaluator,
            )
        raw_context = body.get("context")
        context = require_mapping(
            {} if raw_context is None else raw_context, "context", request_id, evaluator
        )
        _raise_evaluation_error(context, request_id, evaluator)
        fields: dict[str, Any] = {k: context[k] for k in _PASSED_THROUGH if k in context}
        approval = not allowed and asks_for_approval(context)
        stated = context.get("recommendation")
        if isinstance(stated, str) and stated and (allowed or stated not in _PERMISSIVE):
            fields["recommendation"] = stated  # the full decision, consistent with the boolean
            fields["mode"] = context.get("mode")
        elif allowed:
            fields["recommendation"] = "proceed"
        else:
            fields["recommendation"] = "review_recommended" if approval else "do_not_proceed"
        fields["reason"] = _approval_reason(context) if approval else reason_text(context)
        return build_decision(fields, request_id, evaluator)

    def encode_batch(self, proposals: Sequence[ProposedAction], request_id: str) -> dict[str, Any]:
        """The access evaluations request for several proposals."""
        return {"evaluations": [self.encode(p, request_id) for p in proposals]}

    def decode_batch(
        self, data: Any, *, request_id: str, evaluator: str, count: int
    ) -> list[Decision | RemoteEvaluatorError]:
        """One decision (or the reason it is malformed) per proposal, in order.

        Raises:
            MalformedAnswerError: The answer has no ``evaluations`` list of the right length.
        """
        body = require_mapping(data, "answer", request_id, evaluator)
        items = require_list(body.get("evaluations"), "evaluations", count, request_id, evaluator)
        results: list[Decision | RemoteEvaluatorError] = []
        for item in items:
            try:
                results.append(self.decode(item, request_id=request_id, evaluator=evaluator))
            except (MalformedAnswerError, RemoteHTTPError) as exc:
                results.append(exc)
        return results


def _raise_evaluation_error(context: Mapping[str, Any], request_id: str, evaluator: str) -> None:
    error = context.get("error")
    if isinstance(error, Mapping):
        status = error.get("status")
        raise RemoteHTTPError(
            f"PDP refused the evaluation: {error.get('code')}: {error.get('message')}"[:300],
            status_code=status if isinstance(status, int) else 500,
            request_id=request_id,
            evaluator=evaluator,
        )


def _approval_reason(context: Mapping[str, Any]) -> str:
    request = context.get("access_request")
    if isinstance(request, Mapping) and isinstance(request.get("reason"), str):
        return str(request["reason"]) or "approval required"
    text = reason_text(context)
    return text if text and text != APPROVAL_REASON else "approval required"


def _reason_values(context: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = [context.get("reason")]
    for key in ("reason_admin", "reason_user"):
        obj = context.get(key)
        values.extend(obj.values() if isinstance(obj, Mapping) else [obj])
    return values


def asks_for_approval(context: Mapping[str, Any]) -> bool:
    """True when a deny's context asks for an access request (approval) instead."""
    if context.get("access_request") is not None:
        return True
    return APPROVAL_REASON in (v for v in _reason_values(context) if isinstance(v, str))


def reason_text(context: Mapping[str, Any]) -> str:
    """``context.reason``, else the English (or first) text of ``reason_user``/``reason_admin``."""
    reason = context.get("reason")
    if isinstance(reason, str):
        return reason
    for key in ("reason_user", "reason_admin"):
        obj = context.get(key)
        if isinstance(obj, str):
            return obj
        if isinstance(obj, Mapping):
            english = obj.get("en")
            if isinstance(english, str):
                return english
            for value in obj.values():
                if isinstance(value, str):
                    return value
    return ""


def parse_authzen_configuration(data: Any, base_url: str) -> AuthZENProtocol:
    """The endpoints a PDP advertises in its ``/.well-known/authzen-configuration``.

    The document must name the PDP it was fetched from (``policy_decision_point`` equal to
    ``base_url``, trailing slashes ignored), so a document from elsewhere is refused.

    Raises:
        MalformedAnswerError: Not an object, another PDP, or no evaluation endpoint.
    """
    doc = require_mapping(data, "AuthZEN configuration", "", "discovery")
    pdp = doc.get("policy_decision_point")
    if not isinstance(pdp, str) or pdp.rstrip("/") != base_url.rstrip("/"):
        raise MalformedAnswerError(
            f"AuthZEN configuration names PDP {pdp!r}, not {base_url!r}", evaluator="discovery"
        )
    single = doc.get("access_evaluation_endpoint")
    if not isinstance(single, str) or not single.startswith(("http://", "https://")):
        raise MalformedAnswerError(
            f"AuthZEN configuration has no valid access_evaluation_endpoint: {single!r}",
            evaluator="discovery",
        )
    batch = doc.get("access_evaluations_endpoint")
    if not isinstance(batch, str) or not batch.startswith(("http://", "https://")):
        batch = None
    return AuthZENProtocol(path=single, batch_path=batch)
