"""Helpers shared by the wire formats (pure: no I/O)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..decision import Decision, ProposedAction
from .errors import MalformedAnswerError

__all__ = ["build_decision", "dump_json", "proposal_json", "require_list", "require_mapping"]


def dump_json(data: Any) -> bytes:
    """Compact UTF-8 JSON (what every request body is)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def proposal_json(proposal: ProposedAction) -> dict[str, Any]:
    """The proposal as JSON data (``ProposedAction.model_dump(mode="json")``)."""
    return proposal.model_dump(mode="json")


def require_mapping(value: Any, what: str, request_id: str, evaluator: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else :class:`MalformedAnswerError`."""
    if not isinstance(value, Mapping):
        raise MalformedAnswerError(
            f"{what} is {type(value).__name__}, not an object",
            request_id=request_id,
            evaluator=evaluator,
        )
    return value


def require_list(value: Any, what: str, count: int, request_id: str, evaluator: str) -> list[Any]:
    """``value`` if it is a JSON array of ``count`` items, else :class:`MalformedAnswerError`."""
    if not isinstance(value, list) or len(value) != count:
        got = f"{len(value)} items" if isinstance(value, list) else type(value).__name__
        raise MalformedAnswerError(
            f"{what} must be a list of {count} items, got {got}",
            request_id=request_id,
            evaluator=evaluator,
        )
    return value


def build_decision(fields: Mapping[str, Any], request_id: str, evaluator: str) -> Decision:
    """A :class:`Decision` from wire fields (unknown fields dropped, unknown strings kept).

    ``request_id`` and ``evaluator`` always come from the client, never from the answer.

    Raises:
        MalformedAnswerError: A known field has the wrong type or is out of range.
    """
    data = dict(fields)
    data["request_id"] = request_id
    data["evaluator"] = evaluator
    try:
        return Decision.from_wire(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'decision'}: {err['msg']}"
            for err in exc.errors()
        )
        raise MalformedAnswerError(
            f"invalid decision: {problems}"[:300], request_id=request_id, evaluator=evaluator
        ) from None
