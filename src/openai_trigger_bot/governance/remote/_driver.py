"""The two drivers (async and sync) of one exchange with the decision service.

One exchange (a decision, or a batch)::

    breaker.admit()            open circuit → CircuitOpenError at once (no I/O, no retry loop)
    attempt 1                  POST + decode inside that admission; most decisions end here
    tenacity retry loop        built only after a retryable failure, which is replayed into it
      └ breaker admission      as its attempt 1 (tenacity numbers, waits and stops as usual);
          └ POST + decode      each retry asks the breaker again (retries are outside it);
                               bounded by attempts and the deadline; never past an open circuit

Each attempt's connect/read/write/pool timeouts are cut to the time the decision has left;
async attempts also run under ``asyncio.timeout`` (``wait_for`` on 3.10). The request body is
encoded once, inside the first admission (an open circuit costs no encoding), and the same
request id is sent on every attempt. Everything but the I/O call is shared by both drivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, Retrying

from ._http import send, send_sync, timeouts
from ._pool import ClientPool
from ._wire import dump_json
from .breaker import Admission, Breaker
from .errors import RemoteEvaluatorError, RemoteTimeoutError
from .events import EventLog
from .retry import RetryPolicy

__all__ = ["Build", "Driver", "Parse"]

T = TypeVar("T")
Build = Callable[[str], dict[str, Any]]
"""Request id → the JSON body."""
Parse = Callable[[Any, str], T]
"""(answer JSON, request id) → the result."""


class Driver:
    """Runs exchanges for one evaluator (see the module docstring).

    Args:
        name: The evaluator's name (put on errors).
        base_url: The service's base URL (no trailing slash).
        pool: The pooled httpx clients.
        breaker: The circuit breaker.
        retry: The retry policy.
        log: Where retries and failures are recorded.
        clock: Monotonic seconds.
        sleep: The async sleep between attempts.
        sleep_sync: The sync sleep between attempts.
        timeouts: ``(connect, read, decision deadline)`` in seconds.
    """

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        pool: ClientPool,
        breaker: Breaker,
        retry: RetryPolicy,
        log: EventLog,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        sleep_sync: Callable[[float], None],
        timeouts: tuple[float, float, float],
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.pool = pool
        self.breaker = breaker
        self.retry = retry
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.sleep_sync = sleep_sync
        self.connect_timeout, self.read_timeout, self.deadline = timeouts
        self._retry_if = retry.retryable()
        self._wait = retry.wait()
        self._urls: dict[str, httpx.URL] = {}

    async def run(self, path: str, build: Build, parse: Parse[T]) -> T:
        """One exchange on the running loop's client.

        Raises:
            RemoteEvaluatorError: The failure kind of the last attempt (or the open circuit).
        """
        deadline, admission = self._start()
        request_id = uuid.uuid4().hex
        body = b""

        async def attempt(admitted: Admission | None = None) -> T:
            nonlocal body
            with admitted or self.breaker.admit():
                body = body or dump_json(build(request_id))
                return parse(await self._send(path, body, request_id, deadline), request_id)

        try:
            try:  # the first attempt runs before any retry machinery is built
                return await attempt(admission)
            except RemoteEvaluatorError as exc:
                replay = self._replay(exc)

            async def again() -> T:  # tenacity sees the first failure as its attempt 1
                if replay:
                    raise replay.pop()
                return await attempt()

            return await AsyncRetrying(sleep=self.sleep, **self._retrying(deadline))(again)
        except RemoteEvaluatorError as exc:
            self.log.failed(exc)
            raise

    def run_sync(self, path: str, build: Build, parse: Parse[T]) -> T:
        """:meth:`run` on the sync client.

        Raises:
            RemoteEvaluatorError: The failure kind of the last attempt (or the open circuit).
        """
        deadline, admission = self._start()
        request_id = uuid.uuid4().hex
        body = b""

        def attempt(admitted: Admission | None = None) -> T:
            nonlocal body
            with admitted or self.breaker.admit():
                body = body or dump_json(build(request_id))
                return parse(self._send_sync(path, body, request_id, deadline), request_id)

        try:
            try:
                return attempt(admission)
            except RemoteEvaluatorError as exc:
                replay = self._replay(exc)

            def again() -> T:
                if replay:
                    raise replay.pop()
                return attempt()

            return Retrying(sleep=self.sleep_sync, **self._retrying(deadline))(again)
        except RemoteEvaluatorError as exc:
            self.log.failed(exc)
            raise

    # -- shared by both drivers --------------------------------------------------------------

    def _start(self) -> tuple[float, Admission]:
        deadline = self.clock() + self.deadline
        try:
            return deadline, self.breaker.admit()
        except RemoteEvaluatorError as exc:
            self.log.failed(exc)
            raise

    def _replay(self, exc: RemoteEvaluatorError) -> list[RemoteEvaluatorError]:
        """``[exc]`` to replay into tenacity as attempt 1, or raise ``exc`` (not retryable)."""
        if self.retry.attempts == 1 or not self.retry.is_retryable(exc):
            raise exc
        return [exc]

    def _retrying(self, deadline: float) -> dict[str, Any]:
        return {
            "stop": self.retry.stop(deadline, self.clock, self.breaker.is_open),
            "wait": self._wait,
            "retry": self._retry_if,
            "before_sleep": self.log.retrying,
            "reraise": True,
        }

    def _url(self, path: str) -> httpx.URL:
        # Parsed once per endpoint: httpx would otherwise parse and merge it on every request.
        url = self._urls.get(path)
        if url is None:
            absolute = path.startswith(("http://", "https://"))
            url = self._urls[path] = httpx.URL(path if absolute else self.base_url + path)
        return url

    def _remaining(self, deadline: float, request_id: str) -> float:
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise RemoteTimeoutError(
                "decision deadline passed", phase="deadline", request_id=request_id
            )
        return remaining

    async def _send(self, path: str, body: bytes, request_id: str, deadline: float) -> Any:
        remaining = self._remaining(deadline, request_id)
        return await send(
            self.pool.async_client(),
            "POST",
            self._url(path),
            body=body,
            request_id=request_id,
            evaluator=self.name,
            timeout=timeouts(self.connect_timeout, self.read_timeout, remaining),
            within=remaining,
        )

    def _send_sync(self, path: str, body: bytes, request_id: str, deadline: float) -> Any:
        remaining = self._remaining(deadline, request_id)
        return send_sync(
            self.pool.sync_client(),
            "POST",
            self._url(path),
            body=body,
            request_id=request_id,
            evaluator=self.name,
            timeout=timeouts(self.connect_timeout, self.read_timeout, remaining),
        )
