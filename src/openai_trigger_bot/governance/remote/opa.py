"""The Open Policy Agent data API (pure: no I/O).

``POST /v1/data/<path>`` with ``{"input": <ProposedAction as JSON>}`` answers
``{"result": ...}``. The result maps to a :class:`Decision`:

- ``true`` → ``proceed``; ``false`` → ``do_not_proceed``;
- an object: its decision fields (``recommendation``, ``reason``, ``risk``, ``confidence``,
  ``mode``, ``better_action``, ``policy_id``, ``policy_version``, ``matched_rules``) and/or
  ``allow`` (boolean). Without ``recommendation``, ``allow`` decides as above. ``allow: false``
  never lets a call proceed: a contradicting ``proceed``/``proceed_with_caution`` becomes
  ``do_not_proceed`` (``review_recommended`` is kept: "deny unless a human approves");
- no ``result`` key (the rule is undefined for this input), or an object with neither
  ``allow`` nor ``recommendation`` → :class:`NoDecisionError`, never an allow;
- anything else (a number, a string, ``null``, a non-boolean ``allow``) → malformed.

``policy_id`` defaults to ``opa:<path>``. OPA has no batch endpoint for separate inputs:
:meth:`RemoteEvaluator.evaluate_batch` sends one request per proposal, concurrently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...exceptions import ConfigurationError
from ..decision import Decision, ProposedAction
from ._wire import build_decision, proposal_json
from .errors import MalformedAnswerError, NoDecisionError, RemoteEvaluatorError

__all__ = ["DEFAULT_OPA_PATH", "OPAProtocol"]

DEFAULT_OPA_PATH = "openai_trigger_bot/decision"
_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*(/[A-Za-z0-9_][A-Za-z0-9_\-]*)*")
_PERMISSIVE = ("proceed", "proceed_with_caution")


@dataclass(frozen=True)
class OPAProtocol:
    """Encodes proposals as OPA ``input`` and decodes data API results.

    Args:
        data_path: The rule's path under ``/v1/data`` (``package.rule`` with ``/`` for dots).

    Raises:
        ConfigurationError: The path is empty or has characters other than letters, digits,
            ``_``, ``-`` and ``/`` between segments.
    """

    data_path: str = DEFAULT_OPA_PATH
    name: ClassVar[str] = "opa"
    batch_path: str | None = None
    path: str = field(init=False)

    def __post_init__(self) -> None:
        cleaned = self.data_path.strip("/")
        if not _PATH.fullmatch(cleaned):
            raise ConfigurationError(
                f"opa_path {self.data_path!r} is not a data path like 'package/rule'"
            )
        object.__setattr__(self, "path", f"/v1/data/{cleaned}")

    def encode(self, proposal: ProposedAction, request_id: str) -> dict[str, Any]:
        """The request body: the proposal as ``input``."""
        return {"input": proposal_json(proposal)}

    def decode(self, data: Any, *, request_id: str, evaluator: str) -> Decision:
        """The decision in a data API answer.

        Raises:
            NoDecisionError: No ``result`` (undefined), or a result that decides nothing.
            MalformedAnswerError: Not an object, or a result of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise MalformedAnswerError(
                f"answer is {type(data).__name__}, not an object",
                request_id=request_id,
                evaluator=evaluator,
            )
        if "result" not in data:
            raise NoDecisionError(
                f"OPA rule {self.path} is undefined for this input (no result)",
                request_id=request_id,
                evaluator=evaluator,
            )
        fields = self._fields(data["result"], request_id, evaluator)
        fields.setdefault("policy_id", f"opa:{self.path.removeprefix('/v1/data/')}")
        return build_decision(fields, request_id, evaluator)

    def _fields(self, result: Any, request_id: str, evaluator: str) -> dict[str, Any]:
        if isinstance(result, bool):
            return {"recommendation": "proceed" if result else "do_not_proceed"}
        if not isinstance(result, Mapping):
            raise MalformedAnswerError(
                f"OPA result is {type(result).__name__}, not a boolean or an object",
                request_id=request_id,
                evaluator=evaluator,
            )
        fields = {k: v for k, v in result.items() if k != "allow"}
        allow = result.get("allow")
        if allow is not None and not isinstance(allow, bool):
            raise MalformedAnswerError(
                f"OPA result 'allow' is {type(allow).__name__}, not a boolean",
                request_id=request_id,
                evaluator=evaluator,
            )
        recommendation = fields.get("recommendation")
        if recommendation is None:
            if allow is None:
                raise NoDecisionError(
                    f"OPA result of {self.path} has neither 'allow' nor 'recommendation'",
                    request_id=request_id,
                    evaluator=evaluator,
                )
            fields["recommendation"] = "proceed" if allow else "do_not_proceed"
        elif allow is False and recommendation in _PERMISSIVE:
            fields["recommendation"] = "do_not_proceed"
            fields.pop("mode", None)
        return fields

    def encode_batch(self, proposals: Sequence[ProposedAction], request_id: str) -> dict[str, Any]:
        """Not supported: OPA evaluates one input per request."""
        raise NotImplementedError("OPA has no batch endpoint; send one request per proposal")

    def decode_batch(
        self, data: Any, *, request_id: str, evaluator: str, count: int
    ) -> list[Decision | RemoteEvaluatorError]:
        """Not supported: OPA evaluates one input per request."""
        raise NotImplementedError("OPA has no batch endpoint; send one request per proposal")
