"""The wire formats a :class:`~.client.RemoteEvaluator` speaks, behind one protocol.

Each format is a small frozen object with pure ``encode``/``decode`` functions (no I/O):

- :class:`~.native.NativeProtocol`: ``openai-trigger-bot.decision/v1`` (single and batch);
- :class:`~.authzen.AuthZENProtocol`: OpenID AuthZEN 1.0 access evaluation(s);
- :class:`~.opa.OPAProtocol`: the OPA data API (no batch endpoint).

Another format plugs in by implementing :class:`WireProtocol`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from ...exceptions import ConfigurationError
from ..decision import Decision, ProposedAction
from .authzen import AuthZENProtocol
from .errors import RemoteEvaluatorError
from .native import NativeProtocol
from .opa import DEFAULT_OPA_PATH, OPAProtocol

__all__ = ["ProtocolName", "WireProtocol", "wire_protocol"]

ProtocolName = Literal["native", "authzen", "opa"]


class WireProtocol(Protocol):
    """Encodes proposals into request bodies and decodes answers into decisions.

    ``decode`` raises :class:`~.errors.MalformedAnswerError` or
    :class:`~.errors.NoDecisionError`; it never returns a permissive decision it did not read.
    """

    @property
    def name(self) -> str:
        """The format's name (``"native"``, ``"authzen"``, ``"opa"``)."""
        ...

    @property
    def path(self) -> str:
        """The single-decision endpoint: a path under the base URL, or an absolute URL."""
        ...

    @property
    def batch_path(self) -> str | None:
        """The batch endpoint, or ``None`` (then a batch is sent as concurrent singles)."""
        ...

    def encode(self, proposal: ProposedAction, request_id: str) -> dict[str, Any]:
        """The JSON body for one proposal."""
        ...

    def decode(self, data: Any, *, request_id: str, evaluator: str) -> Decision:
        """The decision in one answer."""
        ...

    def encode_batch(self, proposals: Sequence[ProposedAction], request_id: str) -> dict[str, Any]:
        """The JSON body for several proposals (only when ``batch_path`` is set)."""
        ...

    def decode_batch(
        self, data: Any, *, request_id: str, evaluator: str, count: int
    ) -> list[Decision | RemoteEvaluatorError]:
        """One decision or per-item error per proposal, in order."""
        ...


def wire_protocol(
    protocol: ProtocolName | WireProtocol, *, opa_path: str = DEFAULT_OPA_PATH
) -> WireProtocol:
    """The wire format for a name (``"native"``, ``"authzen"``, ``"opa"``), or ``protocol``.

    Raises:
        ConfigurationError: An unknown name or a bad OPA path.
    """
    if not isinstance(protocol, str):
        return protocol
    if protocol == "native":
        return NativeProtocol()
    if protocol == "authzen":
        return AuthZENProtocol()
    if protocol == "opa":
        return OPAProtocol(opa_path)
    raise ConfigurationError(
        f"protocol={protocol!r} is not one of 'native', 'authzen', 'opa' (or a WireProtocol)"
    )
