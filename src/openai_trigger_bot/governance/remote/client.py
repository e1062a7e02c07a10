"""``RemoteEvaluator``: a policy decision service over HTTP, with retries and a breaker.

One decision, from the gate's ``await evaluator.evaluate(proposal)``: the breaker is asked
first (an open circuit fails at once, with no I/O), then attempt 1 runs; tenacity retries only
retryable failures, outside the breaker, within ``decision_deadline`` (see :mod:`._driver`).

**Event loops.** An ``httpx.AsyncClient`` (its pooled connections) belongs to the event loop
it first ran on. The evaluator keeps one per running loop, created on first use in that loop
and reused for every later decision there (keep-alive). ``await aclose()`` closes the current
loop's client; ``close()`` (outside any running loop) closes the sync client and every async
client (on its own loop). Close the evaluator before closing a loop you used it on, or that
loop's sockets are only released by the garbage collector. Using the evaluator after closing
it opens new connections. ``evaluate_sync`` uses one thread-safe pooled ``httpx.Client``.

**Deadline.** ``decision_deadline`` bounds the whole decision, retries and waits included:
each attempt's connect/read/write/pool timeouts are cut to the time left, async attempts
also run under ``asyncio.timeout`` (``wait_for`` on 3.10), and no retry starts (or sleeps)
past it. In sync code the deadline is enforced per socket operation.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
import pybreaker

from ...exceptions import ConfigurationError
from ..decision import Decision, ProposedAction
from ..errors import EvaluatorError
from ._driver import Driver
from ._http import Verify, client_settings, send, send_sync
from ._pool import ClientPool
from .authzen import AUTHZEN_CONFIGURATION_PATH, parse_authzen_configuration
from .breaker import Breaker, BreakerPolicy
from .errors import RemoteEvaluatorError
from .events import EventLog, RemoteEvent
from .opa import DEFAULT_OPA_PATH
from .protocols import ProtocolName, WireProtocol, wire_protocol
from .retry import RetryPolicy

__all__ = ["RemoteEvaluator"]


class RemoteEvaluator:
    """A :class:`~openai_trigger_bot.governance.PolicyEvaluator` backed by a decision service.

    Args:
        base_url: The service's base URL (``http(s)://host:port[/prefix]``).
        protocol: ``"native"`` (default), ``"authzen"``, ``"opa"``, or a
            :class:`~.protocols.WireProtocol` instance.
        opa_path: The OPA rule's data path (``protocol="opa"``).
        token: Sent as ``Authorization: Bearer <token>``.
        api_key: Sent in the ``api_key_header`` header.
        api_key_header: The API-key header's name.
        headers: More headers for every request.
        verify: TLS verification (see :data:`~._http.Verify`).
        trust_env: Use proxy/TLS settings from environment variables (off by default: a
            decision call should not silently go through an ambient proxy).
        connect_timeout: Seconds to connect.
        read_timeout: Seconds to wait for each read (and write).
        decision_deadline: Seconds for a whole decision, retries included.
        max_connections: Pooled connections per client (all kept alive). Small on purpose:
            httpcore checks every pooled connection on each request; on loopback, 32
            concurrent decisions over 8 connections took less than half the client CPU per
            decision that they took over 32. Raise it for a slow, scaled-out service (calls
            beyond it wait for a connection, within the deadline).
        retry: Which failures are retried and how (:class:`~.retry.RetryPolicy`).
        breaker: Breaker settings (:class:`~.breaker.BreakerPolicy`) or an existing
            ``pybreaker.CircuitBreaker`` (it gets our exclusions and a listener added).
        on_event: Called with every :class:`~.events.RemoteEvent` (breaker state changes,
            retries, failures).
        name: The evaluator's name (default ``remote-<protocol>``), set on every decision.
        transport: An httpx transport for tests (``httpx.MockTransport`` serves both the sync
            and async client).
        clock: Monotonic seconds (deadlines, event times).
        sleep: The async sleep between attempts.
        sleep_sync: The sync sleep between attempts.
        max_events: How many recent events ``events`` keeps.

    Attributes:
        wire: The wire format spoken.
        name: The evaluator's name.
        events: Recent :class:`~.events.RemoteEvent` records.
        breaker: The ``pybreaker.CircuitBreaker`` (``breaker.open()``/``close()`` work).

    Settings are fixed at construction; build a new evaluator to change them.

    Raises:
        ConfigurationError: A bad URL, protocol, OPA path, CA bundle or timeout.
    """

    def __init__(
        self,
        base_url: str,
        *,
        protocol: ProtocolName | WireProtocol = "native",
        opa_path: str = DEFAULT_OPA_PATH,
        token: str | None = None,
        api_key: str | None = None,
        api_key_header: str = "X-API-Key",
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        trust_env: bool = False,
        connect_timeout: float = 0.25,
        read_timeout: float = 1.0,
        decision_deadline: float = 2.0,
        max_connections: int = 8,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | pybreaker.CircuitBreaker | None = None,
        on_event: Callable[[RemoteEvent], object] | None = None,
        name: str | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sleep_sync: Callable[[float], None] = time.sleep,
        max_events: int = 1000,
    ) -> None:
        if min(connect_timeout, read_timeout, decision_deadline) <= 0 or max_connections < 1:
            raise ConfigurationError("timeouts and the deadline must be > 0, max_connections >= 1")
        self.wire: WireProtocol = wire_protocol(protocol, opa_path=opa_path)
        self.name = name or f"remote-{self.wire.name}"
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.decision_deadline = decision_deadline
        self.retry = retry or RetryPolicy()
        self._settings = client_settings(
            base_url,
            token=token,
            api_key=api_key,
            api_key_header=api_key_header,
            headers=headers,
            verify=verify,
            trust_env=trust_env,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._log = EventLog(self.name, clock, on_event, maxlen=max_events)
        self._breaker = Breaker(breaker or BreakerPolicy(), self._log.state_changed, name=self.name)
        self._pool = ClientPool(self._settings, transport)
        self._driver = Driver(
            name=self.name,
            base_url=self.base_url,
            pool=self._pool,
            breaker=self._breaker,
            retry=self.retry,
            log=self._log,
            clock=clock,
            sleep=sleep,
            sleep_sync=sleep_sync,
            timeouts=(connect_timeout, read_timeout, decision_deadline),
        )

    # -- inspection ------------------------------------------------------------------------

    @property
    def events(self) -> list[RemoteEvent]:
        """The most recent events, oldest first (a copy)."""
        return list(self._log.events)

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        """The pybreaker circuit breaker guarding the calls."""
        return self._breaker.circuit

    @property
    def breaker_state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        return self._breaker.state

    # -- deciding --------------------------------------------------------------------------

    async def evaluate(self, proposal: ProposedAction) -> Decision:
        """Ask the service for a decision on one proposal.

        Raises:
            RemoteEvaluatorError: A subclass naming the failure kind (see :mod:`.errors`).
        """
        wire = self.wire
        return await self._driver.run(
            wire.path, lambda rid: wire.encode(proposal, rid), self._decode_one
        )

    def evaluate_sync(self, proposal: ProposedAction) -> Decision:
        """:meth:`evaluate` without an event loop (a pooled, thread-safe ``httpx.Client``).

        Raises:
            RemoteEvaluatorError: A subclass naming the failure kind (see :mod:`.errors`).
        """
        wire = self.wire
        return self._driver.run_sync(
            wire.path, lambda rid: wire.encode(proposal, rid), self._decode_one
        )

    async def evaluate_batch(
        self, proposals: Sequence[ProposedAction]
    ) -> list[Decision | EvaluatorError]:
        """Decisions for several proposals (the calls of one model response), in order.

        Native and AuthZEN send one batch request; OPA sends concurrent single requests. A
        failure of the whole exchange is returned in every position; a malformed item only
        in its own.
        """
        count = len(proposals)
        if count == 0:
            return []
        wire = self.wire
        batch_path = wire.batch_path
        if batch_path is None:
            answers = await asyncio.gather(
                *(self.evaluate(p) for p in proposals), return_exceptions=True
            )
            results: list[Decision | EvaluatorError] = []
            for answer in answers:
                if not isinstance(answer, (Decision, EvaluatorError)):
                    raise answer
                results.append(answer)
            return results
        try:
            decoded = await self._driver.run(
                batch_path,
                lambda rid: wire.encode_batch(proposals, rid),
                lambda data, rid: wire.decode_batch(
                    data, request_id=rid, evaluator=self.name, count=count
                ),
            )
        except RemoteEvaluatorError as exc:
            return [exc] * count
        return list[Decision | EvaluatorError](decoded)

    def _decode_one(self, data: Any, request_id: str) -> Decision:
        return self.wire.decode(data, request_id=request_id, evaluator=self.name)

    # -- discovery and lifecycle -----------------------------------------------------------

    @classmethod
    async def discover(cls, base_url: str, **options: Any) -> RemoteEvaluator:
        """An AuthZEN evaluator using the endpoints its PDP advertises.

        Reads ``GET <base_url>/.well-known/authzen-configuration`` (one attempt, bounded by
        the connect/read timeouts) and checks that it names ``base_url`` as its PDP.

        Args:
            base_url: The PDP's identifier (its base URL).
            **options: Any :class:`RemoteEvaluator` option except ``protocol``.

        Raises:
            RemoteEvaluatorError: The document could not be fetched, or is malformed.
        """
        evaluator = cls(base_url, protocol="authzen", **options)
        try:
            client = evaluator._pool.async_client()
            data = await send(client, "GET", AUTHZEN_CONFIGURATION_PATH, **evaluator._get())
            evaluator.wire = parse_authzen_configuration(data, base_url)
        except BaseException:
            await evaluator.aclose()
            raise
        return evaluator

    @classmethod
    def discover_sync(cls, base_url: str, **options: Any) -> RemoteEvaluator:
        """:meth:`discover` without an event loop.

        Raises:
            RemoteEvaluatorError: The document could not be fetched, or is malformed.
        """
        evaluator = cls(base_url, protocol="authzen", **options)
        try:
            client = evaluator._pool.sync_client()
            data = send_sync(client, "GET", AUTHZEN_CONFIGURATION_PATH, **evaluator._get())
            evaluator.wire = parse_authzen_configuration(data, base_url)
        except BaseException:
            evaluator.close()
            raise
        return evaluator

    def _get(self) -> dict[str, Any]:
        return {"body": None, "request_id": uuid.uuid4().hex, "evaluator": self.name}

    async def aclose(self) -> None:
        """Close this loop's pooled connections and the sync client's."""
        await self._pool.aclose()

    def close(self) -> None:
        """Close every pooled connection (call it outside any running event loop).

        Raises:
            UsageError: Called inside a running event loop (use ``await aclose()``).
        """
        self._pool.close()

    async def __aenter__(self) -> RemoteEvaluator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> RemoteEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"RemoteEvaluator({self.base_url!r}, protocol={self.wire.name!r}, name={self.name!r})"
        )
