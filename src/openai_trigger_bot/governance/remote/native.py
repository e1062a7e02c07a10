"""The project's own decision protocol, ``openai-trigger-bot.decision/v1`` (pure: no I/O).

Request and answer (``POST /v1/decisions``)::

    {"protocol": "openai-trigger-bot.decision/v1", "request_id": "<uuid4 hex>",
     "proposal": <ProposedAction as JSON>}
    -> {"protocol": ..., "request_id": <same>, "decision": {"recommendation", "risk",
        "confidence", "mode", "reason", "better_action", "policy_id", "policy_version",
        "matched_rules"}}

Batch (``POST /v1/decisions:batch``): ``"proposals": [...]`` in, ``"decisions": [...]`` out, in
the same order. An answer with another protocol version or another request id is malformed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..decision import Decision, ProposedAction
from ._wire import build_decision, proposal_json, require_list, require_mapping
from .errors import MalformedAnswerError, RemoteEvaluatorError

__all__ = ["NATIVE_PROTOCOL", "NativeProtocol"]

NATIVE_PROTOCOL = "openai-trigger-bot.decision/v1"
"""The protocol version string sent and expected back."""


@dataclass(frozen=True)
class NativeProtocol:
    """Encodes proposals and decodes decisions in the native protocol.

    Attributes:
        path: The single-decision endpoint (relative to the base URL, or absolute).
        batch_path: The batch endpoint.
    """

    path: str = "/v1/decisions"
    batch_path: str | None = "/v1/decisions:batch"
    name: ClassVar[str] = "native"

    def encode(self, proposal: ProposedAction, request_id: str) -> dict[str, Any]:
        """The request body for one proposal."""
        return {
            "protocol": NATIVE_PROTOCOL,
            "request_id": request_id,
            "proposal": proposal_json(proposal),
        }

    def decode(self, data: Any, *, request_id: str, evaluator: str) -> Decision:
        """The decision in an answer.

        Raises:
            MalformedAnswerError: Wrong shape, protocol version or request id; invalid fields.
        """
        body = self._envelope(data, request_id, evaluator)
        decision = require_mapping(body.get("decision"), "decision", request_id, evaluator)
        return build_decision(decision, request_id, evaluator)

    def encode_batch(self, proposals: Sequence[ProposedAction], request_id: str) -> dict[str, Any]:
        """The request body for several proposals."""
        return {
            "protocol": NATIVE_PROTOCOL,
            "request_id": request_id,
            "proposals": [proposal_json(p) for p in proposals],
        }

    def decode_batch(
        self, data: Any, *, request_id: str, evaluator: str, count: int
    ) -> list[Decision | RemoteEvaluatorError]:
        """One decision (or the reason it is malformed) per proposal, in order.

        Raises:
            MalformedAnswerError: The envelope is wrong or the count differs.
        """
        body = self._envelope(data, request_id, evaluator)
        items = require_list(body.get("decisions"), "decisions", count, request_id, evaluator)
        results: list[Decision | RemoteEvaluatorError] = []
        for item in items:
            try:
                fields = require_mapping(item, "decision", request_id, evaluator)
                results.append(build_decision(fields, request_id, evaluator))
            except MalformedAnswerError as exc:
                results.append(exc)
        return results

    @staticmethod
    def _envelope(data: Any, request_id: str, evaluator: str) -> Mapping[str, Any]:
        body = require_mapping(data, "answer", request_id, evaluator)
        if body.get("protocol") != NATIVE_PROTOCOL:
            raise MalformedAnswerError(
                f"answer speaks protocol {body.get('protocol')!r}, not {NATIVE_PROTOCOL!r}",
                request_id=request_id,
                evaluator=evaluator,
            )
        if body.get("request_id") != request_id:
            raise MalformedAnswerError(
                f"answer is for request {body.get('request_id')!r}, not {request_id!r}",
                request_id=request_id,
                evaluator=evaluator,
            )
        return body
