"""A decision service double on 127.0.0.1 with fault injection (stdlib only).

:class:`FakeDecisionService` speaks the three wire formats over real HTTP/1.1 with keep-alive
(``TCP_NODELAY`` set: without it the stdlib server answers ~40 ms late on loopback), counts
requests and connections, and misbehaves on demand::

    with FakeDecisionService() as service:
        remote = RemoteEvaluator(service.base_url)
        service.fault = Fault.error(503, retry_after="1")   # every request from now on
        service.script(Fault.slow(0.5), Fault.malformed())  # the next two, then `fault`
        ...
        service.request_count, service.connection_count, service.requests[-1].headers

Routes: ``POST /v1/decisions``, ``/v1/decisions:batch`` (native), ``/access/v1/evaluation``,
``/access/v1/evaluations``, ``GET /.well-known/authzen-configuration`` (AuthZEN),
``POST /v1/data/<path>`` (OPA), ``GET /_stats`` (counters, not counted itself). Answers come
from the ``native``, ``authzen`` and ``opa`` callables (return :data:`UNDEFINED` from ``opa``
for an undefined rule). Run ``python -m openai_trigger_bot.governance.remote.testing`` for a
service in its own process: it prints ``PORT <n>`` and stops when its stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["UNDEFINED", "FakeDecisionService", "Fault", "RecordedRequest"]

UNDEFINED: Any = object()
"""Return this from the ``opa`` callable to answer without ``result`` (an undefined rule)."""


@dataclass(frozen=True)
class Fault:
    """How the service answers one request (the default instance answers normally).

    Attributes:
        status: The HTTP status (non-200: an error answer, the protocol is not consulted).
        delay: Seconds to wait before answering.
        body: Raw bytes to answer instead of the protocol's JSON.
        headers: Extra response headers (``Retry-After``...).
        request_id: Answer as if for this request id (body and ``X-Request-Id``).
        drop: Close the connection without answering.
        undefined: OPA: answer without ``result``.
    """

    status: int = 200
    delay: float = 0.0
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    request_id: str | None = None
    drop: bool = False
    undefined: bool = False

    @classmethod
    def error(cls, status: int, *, retry_after: str | None = None) -> Fault:
        """An error status, optionally with ``Retry-After``."""
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls(status=status, headers=headers)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """A normal answer, ``seconds`` late."""
        return cls(delay=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 whose body is not JSON."""
        return cls(body=b'{"decision": ')

    @classmethod
    def wrong_request_id(cls) -> Fault:
        """A normal answer for another request."""
        return cls(request_id="not-your-request")

    @classmethod
    def dropped(cls) -> Fault:
        """The connection is closed without an answer."""
        return cls(drop=True)


OK = Fault()


@dataclass(frozen=True)
class RecordedRequest:
    """One request the service received (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    connection: int


def _proceed(_: dict[str, Any]) -> dict[str, Any]:
    return {"recommendation": "proceed", "risk": 0.1, "policy_id": "fake", "policy_version": "1"}


@dataclass(eq=False)
class FakeDecisionService:
    """A threaded HTTP decision service on 127.0.0.1 (see the module docstring).

    Attributes:
        native: Proposal JSON → native decision fields.
        authzen: AuthZEN evaluation request → ``{"decision": bool, "context": {...}}``.
        opa: OPA ``input`` → ``result`` (or :data:`UNDEFINED`).
        fault: How requests are answered when no scripted fault is left.
        port: The port to listen on (0: an ephemeral one).
    """

    native: Callable[[dict[str, Any]], dict[str, Any]] = _proceed
    authzen: Callable[[dict[str, Any]], dict[str, Any]] = lambda _: {"decision": True}
    opa: Callable[[dict[str, Any]], Any] = lambda _: True
    fault: Fault = OK
    port: int = 0
    _script: list[Fault] = field(default_factory=list, repr=False)
    _requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    _sockets: dict[int, socket.socket] = field(default_factory=dict, repr=False)
    _connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every recorded request, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """Requests received (``/_stats`` excluded)."""
        with self._lock:
            return len(self._requests)

    @property
    def connection_count(self) -> int:
        """TCP connections accepted."""
        with self._lock:
            return self._connections

    def script(self, *faults: Fault) -> None:
        """Answer the next requests with these faults, in order, then with ``fault``."""
        with self._lock:
            self._script.extend(faults)

    def reset(self) -> None:
        """Forget recorded requests, connections and scripted faults; answer normally."""
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self._connections = 0
            self.fault = OK

    def start(self) -> FakeDecisionService:
        """Listen and serve in a background thread."""
        server = _Server(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeDecisionService:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- used by the handler threads -------------------------------------------------------

    def _connected(self, sock: socket.socket) -> int:
        with self._lock:
            self._connections += 1
            self._sockets[self._connections] = sock
            return self._connections

    def _disconnected(self, connection: int) -> None:
        with self._lock:
            self._sockets.pop(connection, None)

    def _take(self, request: RecordedRequest) -> Fault:
        with self._lock:
            self._requests.append(request)
            return self._script.pop(0) if self._script else self.fault

    def _answer(self, path: str, body: Any, fault: Fault) -> tuple[int, Any]:
        if path == "/v1/decisions":
            rid = fault.request_id or body["request_id"]
            decision = self.native(body["proposal"])
            return 200, {"protocol": body["protocol"], "request_id": rid, "decision": decision}
        if path == "/v1/decisions:batch":
            rid = fault.request_id or body["request_id"]
            decisions = [self.native(p) for p in body["proposals"]]
            return 200, {"protocol": body["protocol"], "request_id": rid, "decisions": decisions}
        if path == "/access/v1/evaluation":
            return 200, self.authzen(body)
        if path == "/access/v1/evaluations":
            return 200, {"evaluations": [self.authzen(e) for e in body["evaluations"]]}
        if path.startswith("/v1/data/"):
            result = UNDEFINED if fault.undefined else self.opa(body["input"])
            return 200, {} if result is UNDEFINED else {"result": result}
        return 404, {"error": f"no route {path}"}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a slow answer is expected here


def _handler(service: FakeDecisionService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        connection_id = 0

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connection_id = service._connected(self.connection)

        def finish(self) -> None:
            service._disconnected(self.connection_id)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/_stats":
                stats = {"requests": service.request_count, "connections": service.connection_count}
                self._send(200, json.dumps(stats).encode(), ())
                return
            fault = service._take(self._record(None))
            if self.path == "/.well-known/authzen-configuration" and fault.status == 200:
                base = service.base_url
                doc = {
                    "policy_decision_point": base,
                    "access_evaluation_endpoint": f"{base}/access/v1/evaluation",
                    "access_evaluations_endpoint": f"{base}/access/v1/evaluations",
                }
                self._send(200, fault.body or json.dumps(doc).encode(), fault.headers)
            else:
                self._send(fault.status if fault.status != 200 else 404, b"{}", fault.headers)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            fault = service._take(self._record(body))
            if fault.delay and service._stopping.wait(fault.delay):
                return
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status != 200:
                error = fault.body or json.dumps({"error": f"injected {fault.status}"}).encode()
                self._send(fault.status, error, fault.headers)
                return
            try:
                status, answer = service._answer(self.path.split("?")[0], body, fault)
            except (KeyError, TypeError) as exc:
                status, answer = 400, {"error": f"bad request: {exc!r}"}
            payload = fault.body if fault.body is not None else json.dumps(answer).encode()
            rid = fault.request_id or self.headers.get("X-Request-Id")
            extra = (*fault.headers, *((("X-Request-Id", rid),) if rid else ()))
            self._send(status, payload, extra)

        def _record(self, body: Any) -> RecordedRequest:
            headers = {k.lower(): v for k, v in self.headers.items()}
            return RecordedRequest(self.command, self.path, headers, body, self.connection_id)

        def _send(self, status: int, payload: bytes, headers: Any) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def main() -> None:  # pragma: no cover (run by the benchmark in its own process)
    """Serve on ``--port`` (default ephemeral) until stdin closes; print ``PORT <n>``."""
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    with FakeDecisionService(port=port) as service:
        print(f"PORT {service.port}", flush=True)
        sys.stdin.read()


if __name__ == "__main__":  # pragma: no cover
    main()
