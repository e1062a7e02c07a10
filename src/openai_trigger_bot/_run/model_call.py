"""One model call of a run, and what the response's status means for the run.

The Responses API answers with a ``status``: only a ``completed`` response without a refusal
may have its function calls run. An ``incomplete`` response (``max_output_tokens``,
``content_filter``, ...) may hold calls whose arguments were cut off; a refusal means the model
declined; ``failed`` and ``cancelled`` responses carry no usable answer; ``queued`` and
``in_progress`` ones (background mode) are not answers yet and the runner does not poll them.
Each of these ends the run with its own status, and the response's calls are recorded as
``skipped``, never run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..governance.decision import ExecutionEvent
from ..models.base import (
    FunctionCallItem,
    ModelError,
    ModelResponse,
    OffloadingModel,
    ResponsesModel,
)
from ..result import ModelCall, RunStatus, Usage
from .offload import Offload

__all__ = ["Outcome", "call_model", "response_outcome", "unrun_events"]

_MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a response ends the run (``status is None``: its calls may run).

    Attributes:
        status: The run's status, or ``None`` to go on.
        error: For ``error``: what the API said.
        reason: Why the response's calls do not run (recorded on their events).
        incomplete_reason: For ``incomplete``: the API's reason.
        refusal: The model's refusal, if any.
    """

    status: RunStatus | None
    error: str | None = None
    reason: str = ""
    incomplete_reason: str | None = None
    refusal: str | None = None


_GO_ON = Outcome(None)


def response_outcome(response: ModelResponse) -> Outcome:
    """What ``response`` means for the run (see the module docstring)."""
    status = response.status
    if status == "completed":
        if response.refusal is not None:
            return Outcome(
                "refused", reason="the model refused in the same response", refusal=response.refusal
            )
        return _GO_ON if response.function_calls else Outcome("completed")
    if status == "incomplete":
        why = response.incomplete_reason or "no reason given"
        return Outcome(
            "incomplete",
            reason=f"the response was incomplete ({why}); its calls may be cut off",
            incomplete_reason=why,
            refusal=response.refusal,
        )
    if status == "failed":
        code = response.error_code or "no code given"
        detail = response.error_message or "no detail given"
        error = f"the response failed ({code}): {detail}"
    elif status == "cancelled":
        error = "the response was cancelled"
    elif status in ("queued", "in_progress"):
        error = (
            f"the API answered with a response that is still {status} (background mode); the "
            "runner does not poll background responses: do not send 'background': true"
        )
    else:
        error = f"the API answered with an unknown response status {status[:40]!r}"
    return Outcome("error", error=error, reason=f"the response is {status[:40]}")


def unrun_events(calls: tuple[FunctionCallItem, ...], reason: str) -> list[ExecutionEvent]:
    """``skipped`` events for the calls of a response that ends the run (arguments are not
    recorded: they may be cut off, or hold secrets nobody validated)."""
    now = time.time()
    return [
        ExecutionEvent(
            tool=c.name[:_MAX_NAME],
            call_id=c.call_id,
            status="skipped",
            error=f"not run: {reason}",
            message_to_model=f"Not run: {reason}.",
            started_at=now,
        )
        for c in calls
    ]


async def call_model(
    model: ResponsesModel,
    clock: Callable[[], float],
    records: list[ModelCall],
    body: dict[str, Any],
    remaining: float | None,
    offload: Offload,
) -> tuple[ModelResponse | None, str | None, bool]:
    """One model call with ``remaining`` seconds as its whole budget, recorded in ``records``.

    A backend with the :class:`~openai_trigger_bot.models.OffloadingModel` capability is
    called with ``offload`` (the run's seam for blocking I/O); any other with ``create``.

    Returns:
        ``(response, error, timed_out)``: the response, or ``None`` with what failed and
        whether the run's deadline is why.
    """
    started_at = time.time()
    t0 = time.perf_counter()
    c0 = clock()
    round_no = len(records) + 1
    prev = body.get("previous_response_id")
    try:
        if isinstance(model, OffloadingModel):
            request = model.create_offloaded(body, timeout=remaining, offload=offload)
        else:
            request = model.create(body, timeout=remaining)
        if remaining is None:
            response = await request
        else:
            response = await asyncio.wait_for(request, timeout=remaining)
    except Exception as exc:  # the run ends with a status, whatever the backend raised
        # A sync client under Bot.run cannot be cancelled: a failure after the deadline
        # (its own timeout) is the deadline too.
        past = remaining is not None and clock() - c0 >= remaining
        timed_out = isinstance(exc, asyncio.TimeoutError) or past
        if timed_out:
            message = "the run's deadline passed during a model call"
        elif isinstance(exc, ModelError):
            message = str(exc)
        else:
            message = f"the model backend failed: {type(exc).__name__}: {exc}"[:300]
        records.append(
            ModelCall(
                round=round_no,
                response_id=None,
                previous_response_id=prev,
                usage=Usage(),
                text="",
                tool_calls=(),
                request_bytes=0,
                started_at=started_at,
                duration_ms=(time.perf_counter() - t0) * 1000,
                error=message,
                attempts=exc.attempts if isinstance(exc, ModelError) else 1,
            )
        )
        return None, message, timed_out
    records.append(
        ModelCall(
            round=round_no,
            response_id=response.id,
            previous_response_id=prev,
            usage=response.usage,
            text=response.text,
            tool_calls=tuple(c.name for c in response.function_calls),
            request_bytes=response.request_bytes,
            started_at=started_at,
            duration_ms=(time.perf_counter() - t0) * 1000,
            status=response.status,
            commentary=response.commentary,
            refusal=response.refusal,
            incomplete_reason=response.incomplete_reason,
            attempts=response.attempts,
        )
    )
    return response, None, False
