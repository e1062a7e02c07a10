"""The HTTP endpoints of the decision server (starlette glue around the pure modules).

Each handler returns a :class:`Reply`; :meth:`DecisionService.endpoint` turns it into a JSON
response, checks the token first (except for health and discovery), renders a
:class:`~.native.ProtocolError` as its error body, hides unexpected exceptions behind a 500
``internal_error`` (logged with the traceback), and always sets ``X-Request-Id``: the request's
header, else the request id in the body, else a new one. A client that disconnects before its
body arrived (or is cut by the body deadline) is logged, not treated as a failure.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .. import __version__
from .._json import dumps_bytes
from ..governance.decision import Decision, ProposedAction
from ..governance.errors import EvaluatorError
from ..governance.rules import HistoryProvider, LocalRulesEvaluator
from . import authzen, native
from .native import PROTOCOL, ProtocolError
from .policies import PolicyHolder, health
from .reports import ReportStore

__all__ = ["MAX_BODY_BYTES", "DecisionService", "Reply", "read_body"]

logger = logging.getLogger("openai_trigger_bot.server")

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Larger request bodies are refused with 413."""

_MAX_LIMIT = 1000


@dataclass(frozen=True)
class Reply:
    """A JSON answer before it becomes a response.

    Attributes:
        status: The HTTP status.
        body: The JSON data.
        request_id: The request id to echo when the request had no ``X-Request-Id`` header.
    """

    status: int
    body: Any
    request_id: str | None = None


Handler = Callable[[Request], Awaitable[Reply]]


def _header_request_id(value: str | None) -> str | None:
    """The request's ``X-Request-Id`` if it is safe to echo (printable ASCII, ≤ 200 chars)."""
    if value and len(value) <= 200 and value.isascii() and value.isprintable():
        return value
    return None


class DecisionService:
    """The endpoints, bound to one policy holder, report store and token.

    Args:
        holder: The policies (reloaded by the app's watcher).
        store: Where outcome reports go.
        token: The token every protected endpoint requires.
        history: Newly stored outcomes are recorded into it.
        retry_after: Seconds sent as ``Retry-After`` with a 503 (``None``: no header; the
            policies are not reloaded, so waiting does not help).
        public_url: The base URL clients reach the server at, for the AuthZEN discovery
            document (checked by :func:`~.authzen.check_public_url`; ``None``: the local
            address each connection arrived on).
    """

    def __init__(
        self,
        holder: PolicyHolder,
        store: ReportStore,
        *,
        token: str,
        history: HistoryProvider,
        retry_after: int | None = None,
        public_url: str | None = None,
    ) -> None:
        self.holder = holder
        self.public_url = public_url
        self.retry_after = retry_after
        self.store = store
        self.history = history
        self._token = token.encode()

    # -- plumbing ---------------------------------------------------------------------------

    def authorized(self, headers: Mapping[str, str]) -> bool:
        """Whether the headers carry the token (bearer or ``X-API-Key``; constant-time)."""
        offered: list[str] = []
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            offered.append(credentials.strip())
        if "x-api-key" in headers:
            offered.append(headers["x-api-key"].strip())
        matched = False
        for candidate in offered:
            matched |= hmac.compare_digest(candidate.encode(), self._token)
        return matched

    def endpoint(
        self, handler: Handler, *, protected: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: token check, error bodies, ``X-Request-Id``, JSON encoding."""

        async def run(request: Request) -> Response:
            header_id = _header_request_id(request.headers.get("x-request-id"))
            extra: dict[str, str] = {}
            try:
                if protected and not self.authorized(request.headers):
                    extra["WWW-Authenticate"] = "Bearer"
                    raise ProtocolError(
                        401,
                        "unauthorized",
                        "send the token as 'Authorization: Bearer <token>' or 'X-API-Key: <token>'",
                    )
                reply = await handler(request)
            except ProtocolError as exc:
                reply = Reply(exc.status, exc.body(), getattr(request.state, "request_id", None))
            except ClientDisconnect:
                # The client left, or its body missed the read deadline and the server closed
                # the connection (see ._read_guard): nobody is left to answer.
                logger.info("%s %s: the client disconnected", request.method, request.url.path)
                return Response(status_code=400)
            except Exception:
                logger.exception("%s %s failed", request.method, request.url.path)
                message = "the server failed on this request; see its log"
                reply = Reply(500, {"error": {"code": "internal_error", "message": message}})
            request_id = header_id or reply.request_id or uuid.uuid4().hex
            if reply.status == 503 and self.retry_after is not None:
                extra["Retry-After"] = str(self.retry_after)
            return Response(
                dumps_bytes(reply.body),
                status_code=reply.status,
                media_type="application/json",
                headers={"X-Request-Id": request_id, **extra},
            )

        return run

    async def _json(self, request: Request) -> dict[str, Any]:
        return native.parse_json(await read_body(request))

    def _evaluator(self) -> LocalRulesEvaluator:
        evaluator = self.holder.state.evaluator
        if evaluator is None:
            raise ProtocolError(
                503, "policies_unavailable", "no valid policy set is loaded; see GET /health"
            )
        return evaluator

    @staticmethod
    def _decide(evaluator: LocalRulesEvaluator, proposal: ProposedAction) -> Decision:
        try:
            return evaluator.evaluate(proposal)
        except EvaluatorError as exc:
            # `caused_by_arguments` tells the client whether the proposal made the rules fail
            # (it then fails closed and its breaker does not count it) or the server is failing.
            details = {"failure": exc.failure, "caused_by_arguments": exc.caused_by_arguments}
            raise ProtocolError(500, "evaluation_error", str(exc), details) from exc

    # -- native protocol --------------------------------------------------------------------

    async def decide(self, request: Request) -> Reply:
        """``POST /v1/decisions``."""
        body = await self._json(request)
        request.state.request_id = _body_request_id(body)
        request_id, proposal = native.parse_decision_request(body)
        decision = self._decide(self._evaluator(), proposal)
        request_id = request_id or _header_request_id(request.headers.get("x-request-id"))
        request_id = request_id or uuid.uuid4().hex
        return Reply(200, native.decision_body(request_id, decision), request_id)

    async def decide_batch(self, request: Request) -> Reply:
        """``POST /v1/decisions:batch`` (one policy set for the whole batch)."""
        body = await self._json(request)
        request.state.request_id = _body_request_id(body)
        request_id, proposals = native.parse_batch_request(body)
        evaluator = self._evaluator()
        decisions = [native.decision_to_wire(self._decide(evaluator, p)) for p in proposals]
        request_id = request_id or _header_request_id(request.headers.get("x-request-id"))
        request_id = request_id or uuid.uuid4().hex
        answer = {"protocol": PROTOCOL, "request_id": request_id, "decisions": decisions}
        return Reply(200, answer, request_id)

    async def ingest_reports(self, request: Request) -> Reply:
        """``POST /v1/reports``: store new reports, count duplicates."""
        reports = native.parse_reports_request(await self._json(request))
        result = await run_in_threadpool(self.store.ingest, reports, history=self.history)
        return Reply(200, {"accepted": len(result.accepted), "duplicates": result.duplicates})

    async def list_reports(self, request: Request) -> Reply:
        """``GET /v1/reports?after=&since=&limit=``."""
        query = request.query_params
        try:
            after = int(query.get("after", "0"))
            since = float(query["since"]) if "since" in query else None
            limit = int(query.get("limit", "100"))
        except ValueError as exc:
            raise ProtocolError(400, "invalid_query", f"bad query parameter: {exc}") from exc
        if not 1 <= limit <= _MAX_LIMIT:
            raise ProtocolError(400, "invalid_query", f"limit must be 1..{_MAX_LIMIT}")
        rows = await run_in_threadpool(self.store.fetch, after=after, since=since, limit=limit)
        next_after = rows[-1]["seq"] if rows else after
        return Reply(200, {"reports": rows, "next_after": next_after})

    # -- AuthZEN ----------------------------------------------------------------------------

    def _authzen_one(
        self, evaluator: LocalRulesEvaluator, evaluation: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        proposal, request_id = authzen.proposal_from_evaluation(evaluation)
        return authzen.evaluation_result(self._decide(evaluator, proposal)), request_id

    async def authzen_evaluation(self, request: Request) -> Reply:
        """``POST /access/v1/evaluation``."""
        body = await self._json(request)
        result, request_id = self._authzen_one(self._evaluator(), body)
        return Reply(200, result, request_id)

    async def authzen_evaluations(self, request: Request) -> Reply:
        """``POST /access/v1/evaluations``: defaults merged; a malformed evaluation gets a
        per-evaluation error, a failing condition fails the whole batch (500)."""
        body = await self._json(request)
        evaluations, semantic = authzen.evaluations_request(body)
        evaluator = self._evaluator()
        if evaluations is None:
            result, request_id = self._authzen_one(evaluator, body)
            return Reply(200, result, request_id)
        results: list[dict[str, Any]] = []
        for evaluation in evaluations:
            try:
                result, _ = self._authzen_one(evaluator, evaluation)
            except ProtocolError as exc:
                if exc.status >= 500:
                    raise  # an evaluator failure fails the batch, as in the native protocol
                result = authzen.error_result(exc)
            results.append(result)
            if authzen.stops_after(result, semantic):
                break
        return Reply(200, {"evaluations": results})

    async def authzen_discovery(self, request: Request) -> Reply:
        """``GET /.well-known/authzen-configuration`` (no token needed).

        The endpoints are under the configured public URL, else under the local address the
        connection arrived on; never under the request's ``Host`` header, which the client
        chooses (echoing it would let anyone point a cache or a client at their own PDP).
        """
        base = self.public_url or authzen.local_base_url(
            request.scope.get("scheme", "http"), request.scope.get("server")
        )
        if base is None:
            raise ProtocolError(
                404,
                "not_configured",
                "this server has no public URL to advertise; start it with --public-url",
            )
        return Reply(200, authzen.discovery(base))

    # -- health -----------------------------------------------------------------------------

    async def health(self, request: Request) -> Reply:
        """``GET /health``: 200 when the loaded policies are the valid files on disk, else 503."""
        status, body = health(self.holder.state, version=__version__, protocol=PROTOCOL)
        return Reply(status, body)


async def read_body(request: Request) -> bytes:
    """The request's body, refused with 413 ``too_large`` past :data:`MAX_BODY_BYTES`.

    The ``Content-Length`` is checked first, then the bytes as they arrive (a chunked body
    has no length), so an oversized body is never held in memory.
    """
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ProtocolError(413, "too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProtocolError(413, "too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _body_request_id(body: Mapping[str, Any]) -> str | None:
    value = body.get("request_id")
    return _header_request_id(value) if isinstance(value, str) else None
