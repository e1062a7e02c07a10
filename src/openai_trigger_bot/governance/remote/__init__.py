"""Remote policy evaluators: a decision service over HTTP (native JSON, AuthZEN 1.0, OPA).

- :class:`RemoteEvaluator` (:mod:`.client`): ``evaluate`` (async, for the gate),
  ``evaluate_sync``, ``evaluate_batch``, AuthZEN ``discover``; pooled httpx clients.
- Wire formats (:mod:`.protocols`): :class:`NativeProtocol`, :class:`AuthZENProtocol`,
  :class:`OPAProtocol`, pure encode/decode behind :class:`WireProtocol`.
- Resilience: :class:`RetryPolicy` (tenacity, :mod:`.retry`) outside a pybreaker breaker
  (:class:`BreakerPolicy`, :mod:`.breaker`), a per-decision deadline.
- Failures (:mod:`.errors`): one class per kind in :data:`FAILURE_KINDS`, each an
  ``EvaluatorError`` whose ``failure`` the gate records; and :class:`RemoteConditionError`
  when the service's own rules failed on the proposal (not an outage: it fails closed).
- :class:`RemoteEvent` (:mod:`.events`): breaker state changes, retries and failures.
- :mod:`.testing`: a fault-injecting decision service on 127.0.0.1 for tests.

Compose with :class:`~openai_trigger_bot.governance.Fallback` to decide locally while the
service is down: ``Fallback(RemoteEvaluator(url), LocalRulesEvaluator.from_directory(...))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports

if TYPE_CHECKING:
    from .authzen import AuthZENProtocol, parse_authzen_configuration
    from .breaker import BreakerPolicy
    from .client import RemoteEvaluator
    from .errors import (
        FAILURE_KINDS,
        CircuitOpenError,
        MalformedAnswerError,
        NoDecisionError,
        RemoteConditionError,
        RemoteEvaluatorError,
        RemoteHTTPError,
        RemoteTimeoutError,
        RemoteTransportError,
    )
    from .events import RemoteEvent
    from .native import NATIVE_PROTOCOL, NativeProtocol
    from .opa import OPAProtocol
    from .protocols import WireProtocol
    from .retry import RetryPolicy

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".authzen": ("AuthZENProtocol", "parse_authzen_configuration"),
        ".breaker": ("BreakerPolicy",),
        ".client": ("RemoteEvaluator",),
        ".errors": (
            "FAILURE_KINDS",
            "CircuitOpenError",
            "MalformedAnswerError",
            "NoDecisionError",
            "RemoteConditionError",
            "RemoteEvaluatorError",
            "RemoteHTTPError",
            "RemoteTimeoutError",
            "RemoteTransportError",
        ),
        ".events": ("RemoteEvent",),
        ".native": ("NATIVE_PROTOCOL", "NativeProtocol"),
        ".opa": ("OPAProtocol",),
        ".protocols": ("WireProtocol",),
        ".retry": ("RetryPolicy",),
    },
)

__all__ = [
    "FAILURE_KINDS",
    "NATIVE_PROTOCOL",
    "AuthZENProtocol",
    "BreakerPolicy",
    "CircuitOpenError",
    "MalformedAnswerError",
    "NativeProtocol",
    "NoDecisionError",
    "OPAProtocol",
    "RemoteConditionError",
    "RemoteEvaluator",
    "RemoteEvaluatorError",
    "RemoteEvent",
    "RemoteHTTPError",
    "RemoteTimeoutError",
    "RemoteTransportError",
    "RetryPolicy",
    "WireProtocol",
    "parse_authzen_configuration",
]
