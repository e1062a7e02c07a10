"""The model seam: what the runner needs from a Responses API backend.

A backend takes a request body (plain JSON data, exactly what goes on the wire) and returns a
:class:`ModelResponse` parsed from the API's JSON, whatever the response's ``status``: the
runner decides what ``incomplete``, ``failed``, ``queued`` or a refusal mean for the run.
Failures after the backend's own retries are raised as :class:`ModelError` so the runner can
end the run with status ``error``.

A backend that blocks (a sync client) may also implement :class:`OffloadingModel`: the runner
then calls ``create_offloaded`` with the run's offload seam, which says where blocking work
runs (inline under ``Bot.run``, the bot's worker pool under ``Bot.arun``). A backend with only
``create`` is complete: it decides for itself how not to block the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..result import Usage

if TYPE_CHECKING:
    from .._run.offload import Offload

__all__ = [
    "FunctionCallItem",
    "ModelError",
    "ModelResponse",
    "OffloadingModel",
    "ResponsesModel",
    "parse_response",
]


class ModelError(Exception):
    """The model call failed (after the client's retries); the message says how.

    Args:
        message: What failed.
        retryable: Whether another attempt may succeed (rate limits, server errors, timeouts,
            connection failures), as the OpenAI SDK decides.
        retry_after: Seconds the server asked to wait before the next attempt, if it said.
        attempts: HTTP attempts made before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class FunctionCallItem:
    """A ``function_call`` output item: the model proposes one tool call."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The parts of a Responses API response the runner uses.

    Attributes:
        id: The response id.
        status: ``completed``, ``incomplete``, ``failed``, ``cancelled``, ``queued`` or
            ``in_progress`` (as the API sent it).
        function_calls: The ``function_call`` output items, in order.
        text: The ``output_text`` of the answer's messages (commentary excluded).
        usage: Token usage.
        raw: The decoded JSON body.
        request_bytes: Size of the request that produced it.
        commentary: The text of ``phase: "commentary"`` messages (preambles, not the answer).
        refusal: The ``refusal`` content parts' text, if the model refused.
        incomplete_reason: ``incomplete_details.reason`` of an ``incomplete`` response.
        error_code: ``error.code`` of a ``failed`` response.
        error_message: ``error.message`` of a ``failed`` response.
        attempts: HTTP attempts the backend made (1 plus its retries).
    """

    id: str
    status: str
    function_calls: tuple[FunctionCallItem, ...]
    text: str
    usage: Usage
    raw: Mapping[str, Any]
    request_bytes: int = 0
    commentary: str = ""
    refusal: str | None = None
    incomplete_reason: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 1


@runtime_checkable
class ResponsesModel(Protocol):
    """A Responses API backend (the OpenAI adapter, or a test double)."""

    async def create(self, body: dict[str, Any], *, timeout: float | None) -> ModelResponse:
        """Send one ``POST /responses`` request.

        Args:
            body: The request body as JSON data.
            timeout: Seconds left for this call, or ``None`` for the client's default.

        Returns:
            The parsed response.

        Raises:
            ModelError: The call failed for good.
        """
        ...


@runtime_checkable
class OffloadingModel(Protocol):
    """Optional capability of a :class:`ResponsesModel` whose I/O blocks (a sync client).

    The runner calls ``create_offloaded`` instead of ``create`` on a backend that has it,
    passing the run's offload seam; a backend without it is called with ``create``.
    """

    async def create_offloaded(
        self, body: dict[str, Any], *, timeout: float | None, offload: Offload
    ) -> ModelResponse:
        """Like :meth:`ResponsesModel.create`, running blocking work through ``offload``.

        Args:
            body: The request body as JSON data.
            timeout: Seconds left for this call, or ``None`` for the client's default.
            offload: Where blocking calls run: ``await offload(fn, *args)`` returns
                ``fn(*args)`` (inline under ``Bot.run``, a worker thread under ``Bot.arun``).
        """
        ...


def parse_response(data: Any, *, request_bytes: int = 0) -> ModelResponse:
    """Parse a Responses API JSON body (see :func:`_parse`).

    A ``failed``, ``incomplete``, ``queued`` or refused response parses like any other: its
    status and details are fields of the result.

    Raises:
        ModelError: The body is not a response object, or has fields of the wrong type.
    """
    try:
        return _parse(data, request_bytes)
    except ModelError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"the API returned a malformed response ({type(exc).__name__})") from exc


def _parse(data: Any, request_bytes: int) -> ModelResponse:
    """Parse a Responses API JSON body.

    Args:
        data: The decoded JSON body.
        request_bytes: Size of the request that produced it (recorded per model call).

    Raises:
        ModelError: The body is not a response object.
    """
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ModelError("the API returned something that is not a response object")
    status = str(data.get("status") or "completed")
    calls: list[FunctionCallItem] = []
    texts: list[str] = []
    commentary: list[str] = []
    refusals: list[str] = []
    for item in data.get("output") or ():
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "function_call":
            arguments = item.get("arguments")
            calls.append(
                FunctionCallItem(
                    call_id=str(item.get("call_id") or ""),
                    name=str(item.get("name") or ""),
                    arguments=arguments if isinstance(arguments, str) else "",
                )
            )
        elif kind == "message":
            into = commentary if item.get("phase") == "commentary" else texts
            for part in item.get("content") or ():
                part_type = part.get("type") if isinstance(part, dict) else None
                if part_type == "output_text":
                    into.append(str(part.get("text", "")))
                elif part_type == "refusal":
                    refusals.append(str(part.get("refusal", "")))
    raw_error = data.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    details = data.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    return ModelResponse(
        id=data["id"],
        status=status,
        function_calls=tuple(calls),
        text="\n".join(texts),
        usage=_usage(data.get("usage")),
        raw=data,
        request_bytes=request_bytes,
        commentary="\n".join(commentary),
        refusal="\n".join(refusals) if refusals else None,
        incomplete_reason=None if reason is None else str(reason),
        error_code=None if error.get("code") is None else str(error["code"]),
        error_message=None if error.get("message") is None else str(error["message"]),
    )


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    in_details = raw.get("input_tokens_details") or {}
    out_details = raw.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0),
        cached_input_tokens=int(in_details.get("cached_tokens") or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        reasoning_tokens=int(out_details.get("reasoning_tokens") or 0),
        total_tokens=int(raw.get("total_tokens") or 0),
    )
