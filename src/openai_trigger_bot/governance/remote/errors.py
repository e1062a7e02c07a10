"""Why a remote decision failed: one exception class per failure kind.

Every class is an :class:`~openai_trigger_bot.governance.errors.EvaluatorError`, so the gate
turns it into an outcome with ``fail_mode``; its class attribute ``failure`` is the kind the gate
records in ``ExecutionEvent.failure``::

    EvaluatorError
    └── RemoteEvaluatorError          (abstract: never raised itself)
        ├── RemoteTimeoutError        "timeout"          connect/read/write/pool timeout or the
        │                                                per-decision deadline ran out
        ├── RemoteTransportError      "transport_error"  connection refused/reset, TLS failure,
        │                                                the server hung up without answering
        ├── RemoteHTTPError           "http_error"       a non-2xx status (``status_code``), not
        │   │                                            retryable or retries exhausted
        │   └── RemoteConditionError  "over_budget" or   the service's own rules failed on this
        │                             "evaluator_error"  proposal (``trigger-bot serve``'s 500
        │                                                ``evaluation_error``): not an outage
        ├── MalformedAnswerError      "malformed"        not JSON, wrong shape, wrong request id
        │   (also a MalformedDecisionError)              or protocol version, out-of-range field
        ├── CircuitOpenError          "circuit_open"     the breaker refused the call: no I/O
        └── NoDecisionError           "no_decision"      the service answered but decided nothing
                                                         (OPA: no ``result``); never an allow

``counts_for_breaker`` says whether a failure is evidence that the *service* is unhealthy. A
timeout, a transport error, a 5xx, 408 or 429, and a malformed answer count; a 4xx such as
400/401/403/404 (our request or credentials are wrong: opening the circuit would hide a
configuration error behind "circuit_open" and cannot help the service recover), "no decision"
(a policy gap, answered by a healthy service) and an open circuit do not, and neither does a
:class:`RemoteConditionError`: the model's arguments caused it (a padded list, a missing key),
so counting it would let the model open the circuit, and with ``fail_mode="open"`` then run
every call unchecked. Like a local rule's failure it blocks the call unless ``fail_modes`` names
its kind (``caused_by_arguments``).
"""

from __future__ import annotations

from ..errors import EvaluatorError, MalformedDecisionError

__all__ = [
    "FAILURE_KINDS",
    "CircuitOpenError",
    "MalformedAnswerError",
    "NoDecisionError",
    "RemoteConditionError",
    "RemoteEvaluatorError",
    "RemoteHTTPError",
    "RemoteTimeoutError",
    "RemoteTransportError",
]

FAILURE_KINDS: tuple[str, ...] = (
    "timeout",
    "transport_error",
    "http_error",
    "malformed",
    "circuit_open",
    "no_decision",
)
"""Every ``failure`` value a remote evaluator can produce (for per-kind ``fail_mode`` maps)."""


class RemoteEvaluatorError(EvaluatorError):
    """A remote decision service could not give a decision.

    Attributes:
        failure: The failure kind (one of :data:`FAILURE_KINDS`), set by each subclass.
        request_id: The request id sent with the failed decision, when one was sent.
        evaluator: The name of the evaluator that failed.
    """

    failure = "remote_error"
    counts_for_breaker: bool = True
    """Whether this failure counts against the circuit breaker."""

    def __init__(
        self, message: str, *, request_id: str | None = None, evaluator: str | None = None
    ) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.evaluator = evaluator


class RemoteTimeoutError(RemoteEvaluatorError):
    """The service did not answer in time.

    Attributes:
        phase: ``"connect"``, ``"read"``, ``"write"``, ``"pool"`` (waiting for a pooled
            connection) or ``"deadline"`` (the per-decision deadline ran out).
    """

    failure = "timeout"

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        request_id: str | None = None,
        evaluator: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, evaluator=evaluator)
        self.phase = phase


class RemoteTransportError(RemoteEvaluatorError):
    """The connection failed: refused, reset, closed without an answer, or TLS failed."""

    failure = "transport_error"


class RemoteHTTPError(RemoteEvaluatorError):
    """The service answered with a non-2xx status.

    Attributes:
        status_code: The HTTP status.
        retry_after: Seconds the service asked us to wait (``Retry-After``), when it did.
    """

    failure = "http_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        retry_after: float | None = None,
        request_id: str | None = None,
        evaluator: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, evaluator=evaluator)
        self.status_code = status_code
        self.retry_after = retry_after
        # 4xx other than 408 (request timeout) and 429 (overload) are our own mistakes.
        self.counts_for_breaker = not (400 <= status_code < 500) or status_code in (408, 429)


class RemoteConditionError(RemoteHTTPError):
    """The service's own rules failed on this proposal: a condition over its cost budget, a
    missing key (``trigger-bot serve`` answers 500 ``evaluation_error`` with the kind in
    ``details``).

    The proposal's arguments caused it, not an outage: it is not retried, does not count for
    the breaker, and blocks the call whatever ``fail_mode`` says unless ``fail_modes`` names
    its kind.

    Attributes:
        failure: The service's failure kind, ``"over_budget"`` or ``"evaluator_error"``.
    """

    caused_by_arguments = True

    def __init__(
        self,
        message: str,
        *,
        failure: str,
        status_code: int,
        request_id: str | None = None,
        evaluator: str | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, request_id=request_id, evaluator=evaluator
        )
        self.failure = failure
        self.counts_for_breaker = False


class MalformedAnswerError(RemoteEvaluatorError, MalformedDecisionError):
    """The answer is not a decision in the protocol spoken (or answers another request)."""

    failure = "malformed"


class CircuitOpenError(RemoteEvaluatorError):
    """The circuit breaker is open: the call was refused without touching the network."""

    failure = "circuit_open"
    counts_for_breaker = False


class NoDecisionError(RemoteEvaluatorError):
    """The service answered but made no decision (an OPA rule that is undefined)."""

    failure = "no_decision"
    counts_for_breaker = False
