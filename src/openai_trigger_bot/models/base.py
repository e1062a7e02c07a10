"""The model seam: what the runner needs from a Responses API backend.

A backend takes a request body (plain JSON data, exactly what goes on the wire) and returns a
:class:`ModelResponse` parsed from the API's JSON. Failures after the backend's own retries are
raised as :class:`ModelError` so the runner can end the run with status ``error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..result import Usage

__all__ = ["FunctionCallItem", "ModelError", "ModelResponse", "ResponsesModel", "parse_response"]


class ModelError(Exception):
    """The model call failed (after the client's retries); the message says how."""


@dataclass(frozen=True, slots=True)
class FunctionCallItem:
    """A ``function_call`` output item: the model proposes one tool call."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The parts of a Responses API response the runner uses."""

    id: str
    status: str
    function_calls: tuple[FunctionCallItem, ...]
    text: str
    usage: Usage
    raw: Mapping[str, Any]
    request_bytes: int = 0


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


def parse_response(data: Any, *, request_bytes: int = 0) -> ModelResponse:
    """Parse a Responses API JSON body (see :func:`_parse`).

    Raises:
        ModelError: The body is not a response object, reports a failed response, or has
            fields of the wrong type.
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
        ModelError: The body is not a response object, or reports a failed response.
    """
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ModelError("the API returned something that is not a response object")
    status = str(data.get("status") or "completed")
    if status == "failed":
        err = data.get("error") or {}
        detail = err.get("message") if isinstance(err, dict) else None
        raise ModelError(f"the response failed: {detail or 'no detail given'}")
    calls: list[FunctionCallItem] = []
    texts: list[str] = []
    for item in data.get("output") or ():
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "function_call":
            calls.append(
                FunctionCallItem(
                    call_id=str(item.get("call_id") or ""),
                    name=str(item.get("name") or ""),
                    arguments=item.get("arguments")
                    if isinstance(item.get("arguments"), str)
                    else "",
                )
            )
        elif kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(str(part.get("text", "")))
    return ModelResponse(
        id=data["id"],
        status=status,
        function_calls=tuple(calls),
        text="\n".join(texts),
        usage=_usage(data.get("usage")),
        raw=data,
        request_bytes=request_bytes,
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
