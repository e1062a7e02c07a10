"""The edge between httpx and the remote evaluator: clients, timeouts, error translation.

Every httpx exception and every unusable answer becomes one of the remote errors here, with
``raise ... from``, so nothing from httpx reaches the gate.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar, Union

import httpx

from ...exceptions import ConfigurationError
from .errors import (
    MalformedAnswerError,
    RemoteConditionError,
    RemoteEvaluatorError,
    RemoteHTTPError,
    RemoteTimeoutError,
    RemoteTransportError,
)
from .retry import parse_retry_after

__all__ = [
    "CONDITION_FAILURES",
    "Verify",
    "client_settings",
    "read_answer",
    "send",
    "send_sync",
    "ssl_verify",
    "timeouts",
    "translate",
]

CONDITION_FAILURES: frozenset[str] = frozenset({"over_budget", "evaluator_error"})
"""The failure kinds a service reports when its rules failed on a proposal."""

Verify = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]
"""TLS verification: ``True`` (system CAs), ``False`` (off: tests only), a CA bundle path, or
an ``ssl.SSLContext`` (also for client certificates / mTLS)."""

T = TypeVar("T")

_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def ssl_verify(verify: Verify) -> bool | ssl.SSLContext:
    """What httpx's ``verify=`` gets (a CA path becomes an SSL context: httpx deprecated paths).

    Raises:
        ConfigurationError: The CA bundle cannot be read.
    """
    if isinstance(verify, (bool, ssl.SSLContext)):
        return verify
    try:
        return ssl.create_default_context(cafile=os.fspath(verify))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load CA bundle {verify!r}: {exc}") from exc


def client_settings(
    base_url: str,
    *,
    token: str | None,
    api_key: str | None,
    api_key_header: str,
    headers: Mapping[str, str] | None,
    verify: Verify,
    trust_env: bool,
    max_connections: int,
    connect_timeout: float,
    read_timeout: float,
) -> dict[str, Any]:
    """Keyword arguments shared by the sync and async httpx clients.

    Raises:
        ConfigurationError: The base URL is not http(s) or the CA bundle is unreadable.
    """
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://: {base_url!r}")
    sent = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "openai-trigger-bot",
    }
    sent.update(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if api_key is not None:
        sent[api_key_header] = api_key
    return {
        "base_url": base_url.rstrip("/"),
        "headers": sent,
        "verify": ssl_verify(verify),
        "trust_env": trust_env,
        "follow_redirects": False,
        "limits": httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        ),
        "timeout": httpx.Timeout(read_timeout, connect=connect_timeout),
    }


def timeouts(connect: float, read: float, remaining: float) -> httpx.Timeout:
    """Per-attempt httpx timeouts: the configured ones, cut to the time the decision has left."""
    remaining = max(remaining, 0.001)
    return httpx.Timeout(
        connect=min(connect, remaining),
        read=min(read, remaining),
        write=min(read, remaining),
        pool=remaining,
    )


def translate(exc: httpx.TransportError, request_id: str, evaluator: str) -> RemoteEvaluatorError:
    """The remote error for an httpx transport exception (timeouts by phase)."""
    if isinstance(exc, httpx.TimeoutException):
        phase = next((p for cls, p in _PHASES if isinstance(exc, cls)), "read")
        return RemoteTimeoutError(
            f"{phase} timeout", phase=phase, request_id=request_id, evaluator=evaluator
        )
    detail = str(exc) or type(exc).__name__
    return RemoteTransportError(
        f"{type(exc).__name__}: {detail}"[:300], request_id=request_id, evaluator=evaluator
    )


def read_answer(response: httpx.Response, request_id: str, evaluator: str) -> Any:
    """The JSON of a 2xx answer to the request ``request_id``.

    Raises:
        RemoteHTTPError: A non-2xx status (with ``Retry-After`` read for 429 and 503).
        MalformedAnswerError: The answer echoes another ``X-Request-Id`` or is not JSON.
    """
    status = response.status_code
    if not 200 <= status < 300:
        failure = _condition_failure(response) if status == 500 else None
        if failure is not None:
            raise RemoteConditionError(
                f"HTTP {status}: the service's rules failed on this proposal ({failure}): "
                f"{response.text[:200].strip()}",
                failure=failure,
                status_code=status,
                request_id=request_id,
                evaluator=evaluator,
            )
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        snippet = response.text[:200].strip()
        raise RemoteHTTPError(
            f"HTTP {status}" + (f": {snippet}" if snippet else ""),
            status_code=status,
            retry_after=retry_after,
            request_id=request_id,
            evaluator=evaluator,
        )
    echoed = response.headers.get("x-request-id")
    if echoed is not None and echoed != request_id:
        raise MalformedAnswerError(
            f"answer echoes request id {echoed!r}, not {request_id!r}",
            request_id=request_id,
            evaluator=evaluator,
        )
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        raise MalformedAnswerError(
            f"answer is not JSON: {response.content[:80]!r}",
            request_id=request_id,
            evaluator=evaluator,
        ) from None


def _condition_failure(response: httpx.Response) -> str | None:
    """The kind, when a 500 says the service's rules failed on the proposal itself.

    ``trigger-bot serve`` answers ``{"error": {"code": "evaluation_error", "details":
    {"failure", "caused_by_arguments"}}}``; an older one sends no ``caused_by_arguments``, and
    then a rule's failure (``over_budget``, ``evaluator_error``) is all it can mean.
    """
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("code") != "evaluation_error":
        return None
    details = error.get("details")
    if not isinstance(details, dict) or details.get("caused_by_arguments") is False:
        return None
    failure = details.get("failure")
    return failure if failure in CONDITION_FAILURES else None


async def _within(seconds: float, coro: Coroutine[Any, Any, T]) -> T:
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await coro
    return await asyncio.wait_for(coro, seconds)  # pragma: no cover (3.10)


async def send(
    client: httpx.AsyncClient,
    method: str,
    path: str | httpx.URL,
    *,
    body: bytes | None,
    request_id: str,
    evaluator: str,
    timeout: httpx.Timeout | None = None,
    within: float | None = None,
) -> Any:
    """One request on the async client; the answer's JSON (see :func:`read_answer`).

    Args:
        client: The running loop's pooled client.
        method: ``"POST"`` or ``"GET"``.
        path: A path under the client's base URL, or an absolute URL.
        body: The JSON body, already encoded.
        request_id: Sent as ``X-Request-Id`` and checked in the answer.
        evaluator: The evaluator's name (for errors).
        timeout: Per-request timeouts (default: the client's).
        within: Seconds the whole exchange may take (``asyncio.timeout``).

    Raises:
        RemoteEvaluatorError: Translated transport failures and unusable answers.
    """
    request = client.request(
        method,
        path,
        content=body,
        headers={"X-Request-Id": request_id},
        timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
    )
    try:
        response = await (request if within is None else _within(within, request))
    except httpx.TransportError as exc:
        raise translate(exc, request_id, evaluator) from exc
    except httpx.DecodingError as exc:
        raise _undecodable(exc, request_id, evaluator) from exc
    except asyncio.TimeoutError:
        raise RemoteTimeoutError(
            "decision deadline ran out",
            phase="deadline",
            request_id=request_id,
            evaluator=evaluator,
        ) from None
    return read_answer(response, request_id, evaluator)


def send_sync(
    client: httpx.Client,
    method: str,
    path: str | httpx.URL,
    *,
    body: bytes | None,
    request_id: str,
    evaluator: str,
    timeout: httpx.Timeout | None = None,
) -> Any:
    """:func:`send` on the sync client (per-socket-operation timeouts only).

    Raises:
        RemoteEvaluatorError: Translated transport failures and unusable answers.
    """
    try:
        response = client.request(
            method,
            path,
            content=body,
            headers={"X-Request-Id": request_id},
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
    except httpx.TransportError as exc:
        raise translate(exc, request_id, evaluator) from exc
    except httpx.DecodingError as exc:
        raise _undecodable(exc, request_id, evaluator) from exc
    return read_answer(response, request_id, evaluator)


def _undecodable(exc: httpx.DecodingError, request_id: str, evaluator: str) -> MalformedAnswerError:
    """A body httpx could not decode (e.g. broken gzip) is a malformed answer."""
    return MalformedAnswerError(
        f"answer body could not be decoded: {exc}", request_id=request_id, evaluator=evaluator
    )
