"""Tool-call handling for one model response: validate every call, then execute the valid ones.

Validation is pure and runs first for all calls of a response, so the action budget is reserved
in the model's order before anything runs; the valid calls then execute concurrently. Bad model
output never executes and never raises: each case becomes an ``invalid`` event with a short,
actionable ``function_call_output`` for the model.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._json import MAX_DEPTH, UnserialisableOutput, deeper_than, output_text, to_jsonable
from ..actions import Action
from ..exceptions import ActionError, ArgumentsError
from ..governance.decision import Decision, ExecutionEvent
from ..governance.gate import Verdict
from ..governance.redaction import SecretValues, redact_arguments
from ..models.base import FunctionCallItem
from ..outcomes import EventStatus
from ..result import ActionCall
from .offload import Offload, to_thread

__all__ = [
    "CallResult",
    "ValidCall",
    "execute",
    "learn_secrets",
    "not_run",
    "result_for",
    "scrub_action_call",
    "scrub_event",
    "skipped",
    "validate",
]

_MAX_ERROR_CHARS = 240
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True, slots=True)
class ValidCall:
    """A call that passed validation: a known, allowed action with validated arguments."""

    call: FunctionCallItem
    action: Action[Any]
    kwargs: dict[str, Any]
    arguments: dict[str, Any]
    """The validated arguments as JSON data, secret parameters redacted."""
    secrets: SecretValues
    """The run's secret values, to scrub from anything that leaves the action."""

    def clean(self, text: str) -> str:
        """``text`` without secret values."""
        return self.secrets.text(text)


@dataclass(frozen=True, slots=True)
class CallResult:
    """What one proposed call produced."""

    output_item: dict[str, str]
    event: ExecutionEvent
    action_call: ActionCall | None = None
    target: str | None = None
    """The resource the call affects (from the action's target extractor), when known."""


def _short(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _result(
    call: FunctionCallItem,
    status: EventStatus,
    message: str,
    *,
    arguments: Mapping[str, Any] | None = None,
    output: Any = None,
    error: str | None = None,
    started_at: float | None = None,
    duration_ms: float = 0.0,
    action_call: ActionCall | None = None,
    verdict: Verdict | None = None,
) -> CallResult:
    decision: Decision | None = None
    failure: str | None = None
    decision_ms = 0.0
    if verdict is not None:
        decision, failure, decision_ms = verdict.decision, verdict.failure, verdict.decision_ms
        if error is None:
            error = verdict.error
    # Built from the runner's own checked data on every call: no re-validation needed.
    event = ExecutionEvent.model_construct(
        tool=call.name,
        call_id=call.call_id,
        status=status,
        decision=decision,
        arguments=dict(arguments or {}),
        output=output,
        error=error,
        message_to_model=message,
        failure=failure,
        approval=verdict.approval if verdict is not None else None,
        started_at=started_at if started_at is not None else time.time(),
        decision_ms=decision_ms,
        duration_ms=duration_ms,
    )
    item = {"type": "function_call_output", "call_id": call.call_id, "output": message}
    proposal = verdict.proposal if verdict is not None else None
    target = proposal.target if proposal is not None else None
    return CallResult(output_item=item, event=event, action_call=action_call, target=target)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} does not fit a float")
    return value


def _parse(arguments: str) -> Any:
    """The model's argument text as JSON data.

    Raises:
        ValueError: Not JSON (``json.JSONDecodeError``), JSON that Python refuses to decode
            (an integer of more than 4,300 digits), or a string holding a lone surrogate
            (``"\\ud800"`` is valid JSON but not text: it could never be sent back or stored).
        RecursionError: Nested too deeply (deeper than :data:`~.._json.MAX_DEPTH` levels).

    ``NaN``, ``Infinity`` and numbers too large for a float (``1e999``) are refused too: they
    are not JSON numbers, and an action must never be called with one.
    """
    if not arguments.strip():
        return {}
    data = json.loads(arguments, parse_constant=_no_constant, parse_float=_finite_float)
    if deeper_than(data):
        raise RecursionError(f"the arguments nest deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(arguments):  # rare: check precisely only then
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate, which is not text") from None
    return data


def learn_secrets(
    calls: Sequence[FunctionCallItem], allowed: Mapping[str, Action[Any]], secrets: SecretValues
) -> None:
    """Learn the secret values of every call of a response before any of them is recorded.

    A value the model passed to a secret parameter is secret for the whole run, so it is
    scrubbed from the other calls of the response too (valid or not), whatever key holds it.
    """
    for call in calls:
        action = allowed.get(call.name)
        if action is None or not action.secret:
            continue
        try:
            raw = _parse(call.arguments)
        except (ValueError, RecursionError):
            continue  # the call is invalid; nothing in it is recorded
        if isinstance(raw, dict):
            secrets.learn(raw, action.secret)


def validate(
    call: FunctionCallItem,
    allowed: Mapping[str, Action[Any]],
    known: Callable[[str], bool],
    tool_list: str,
    secrets: SecretValues,
) -> ValidCall | CallResult:
    """Check one call: known and allowed tool, JSON object arguments, schema-valid values.

    Never raises because of what the model sent: any failure makes the call ``invalid``.

    Args:
        call: The model's function call.
        allowed: The actions this trigger offers, by name.
        known: Whether a name is an action the bot has at all (to say "not allowed here").
        tool_list: The allowed names, comma-separated, for error messages.
        secrets: The run's secret values (learns this call's; scrubs what is recorded).

    Returns:
        The validated call, or the ``invalid`` result to send back.
    """
    try:
        return _validate(call, allowed, known, tool_list, secrets)
    except Exception as exc:  # hostile input must never crash the run
        name = _short(call.name)
        msg = (
            f"Error: the arguments for {name} could not be read. Send one JSON object with "
            "plain values that matches the tool's parameters."
        )
        return _result(call, "invalid", msg, error=f"arguments unreadable ({type(exc).__name__})")


def _validate(
    call: FunctionCallItem,
    allowed: Mapping[str, Action[Any]],
    known: Callable[[str], bool],
    tool_list: str,
    secrets: SecretValues,
) -> ValidCall | CallResult:
    action = allowed.get(call.name)
    if action is None:
        if known(call.name):
            msg = (
                f"Error: tool '{call.name}' is not available for this task. "
                f"Tools you may call: {tool_list}."
            )
            return _result(call, "invalid", msg, error="tool not allowed for this trigger")
        msg = (
            f"Error: there is no tool named '{_short(call.name)}'. Tools you may call: {tool_list}."
        )
        return _result(call, "invalid", msg, error="unknown tool")
    try:
        raw = _parse(call.arguments)
    except json.JSONDecodeError as exc:
        msg = (
            f"Error: the arguments for {call.name} are not valid JSON ({exc.msg} at position "
            f"{exc.pos}). Send one JSON object that matches the tool's parameters."
        )
        return _result(call, "invalid", msg, error="arguments are not JSON")
    except ValueError as exc:  # valid JSON that Python will not decode (a huge integer)
        msg = (
            f"Error: the arguments for {call.name} hold a value that cannot be read "
            f"({_short(str(exc))}). Send plain values of reasonable size."
        )
        return _result(call, "invalid", msg, error="arguments hold an unreadable value")
    except RecursionError:
        msg = f"Error: the arguments for {call.name} nest too deeply. Send a flat JSON object."
        return _result(call, "invalid", msg, error="arguments nest too deeply")
    if not isinstance(raw, dict):
        msg = (
            f"Error: the arguments for {call.name} must be a JSON object, not {type(raw).__name__}."
        )
        return _result(call, "invalid", msg, error="arguments are not a JSON object")
    if action.secret:
        secrets.learn(raw, action.secret)
    try:
        kwargs = action.schema.validate(raw, scrub=secrets.text)
        arguments = action.schema.to_jsonable(kwargs)
    except Exception as exc:  # ArgumentsError, or a user validator that raised something else
        detail = (
            str(exc)
            if isinstance(exc, ArgumentsError)
            else (f"a validator rejected them ({type(exc).__name__})")
        )
        detail = secrets.text(detail)
        msg = f"Error: invalid arguments for {call.name}: {detail}. Fix them and call it again."
        args = secrets.data(redact_arguments(raw, action.secret))
        return _result(call, "invalid", msg, arguments=args, error=f"invalid arguments: {detail}")
    if action.secret:
        secrets.learn(arguments, action.secret)  # the validated forms too (coerced numbers...)
    return ValidCall(
        call, action, kwargs, secrets.data(redact_arguments(arguments, action.secret)), secrets
    )


def scrub_event(event: ExecutionEvent, secrets: SecretValues) -> ExecutionEvent:
    """``event`` without any secret value known now (values learned after it was built)."""
    return event.model_copy(
        update={
            "arguments": secrets.data(event.arguments),
            "output": secrets.data(event.output),
            "error": None if event.error is None else secrets.text(event.error),
            "message_to_model": secrets.text(event.message_to_model),
        }
    )


def scrub_action_call(record: ActionCall, secrets: SecretValues) -> ActionCall:
    """``record`` without any secret value known now."""
    return record.model_copy(
        update={
            "arguments": secrets.data(record.arguments),
            "output": secrets.data(record.output),
            "error": None if record.error is None else secrets.text(record.error),
        }
    )


def skipped(valid: ValidCall, reason: str, verdict: Verdict | None = None) -> CallResult:
    """The result for a valid call that is not run (for example, the budget is used up)."""
    return _result(
        valid.call,
        "skipped",
        f"Not run: {reason}.",
        arguments=valid.arguments,
        error=reason,
        verdict=verdict,
    )


_NOT_RUN_STATUS: dict[str, EventStatus] = {
    "block": "blocked",
    "approval_required": "approval_required",
    "needs_context": "needs_context",
    "denied": "denied",
    "expired": "expired",
    "tool_error": "tool_error",
}


def not_run(valid: ValidCall, verdict: Verdict) -> CallResult:
    """The result for a call the gate did not let through (blocked, pending, denied...)."""
    return _result(
        valid.call,
        _NOT_RUN_STATUS[verdict.outcome],
        verdict.message,
        arguments=valid.arguments,
        verdict=verdict,
        error=valid.clean(verdict.error) if verdict.error else None,
    )


def result_for(
    valid: ValidCall,
    status: EventStatus,
    message: str,
    verdict: Verdict | None,
    *,
    error: str | None = None,
) -> CallResult:
    """The result for a valid call that ends as ``status`` without running (``unknown``...)."""
    return _result(
        valid.call, status, message, arguments=valid.arguments, verdict=verdict, error=error
    )


async def execute(
    valid: ValidCall, verdict: Verdict | None = None, *, offload: Offload = to_thread
) -> CallResult:
    """Run one validated action; failures become ``tool_error`` results, never exceptions.

    Sync actions run through ``offload`` (the run's worker pool, with the caller's context
    variables) so they never block the event loop.
    """
    action, call = valid.action, valid.call
    started_at = time.time()
    t0 = time.perf_counter()
    try:
        if action.is_async:
            value = await action.fn(**valid.kwargs)
        else:
            value = await offload(functools.partial(action.fn, **valid.kwargs))
        output: Any = valid.clean(value) if isinstance(value, str) else to_jsonable(value)
        output = valid.secrets.data(output)
        text = output_text(output)
    except ActionError as exc:
        error = valid.clean(str(exc))
        return _failed(valid, error or "the action failed", error, started_at, t0, verdict)
    except UnserialisableOutput as exc:
        error = f"{call.name} returned {exc}"
        return _failed(valid, f"Error: {error}.", error, started_at, t0, verdict)
    except Exception as exc:
        error = _short(valid.clean(f"{type(exc).__name__}: {exc}"))
        msg = f"Error: {call.name} failed ({error})."
        return _failed(valid, msg, error, started_at, t0, verdict)
    duration_ms = (time.perf_counter() - t0) * 1000
    record = ActionCall(
        name=call.name,
        call_id=call.call_id,
        arguments=valid.arguments,
        ok=True,
        output=output,
        started_at=started_at,
        duration_ms=duration_ms,
    )
    return _result(
        call,
        "executed",
        text,
        arguments=valid.arguments,
        output=output,
        started_at=started_at,
        duration_ms=duration_ms,
        action_call=record,
        verdict=verdict,
    )


def _failed(
    valid: ValidCall,
    message: str,
    error: str,
    started_at: float,
    t0: float,
    verdict: Verdict | None,
) -> CallResult:
    duration_ms = (time.perf_counter() - t0) * 1000
    record = ActionCall(
        name=valid.call.name,
        call_id=valid.call.call_id,
        arguments=valid.arguments,
        ok=False,
        error=error,
        started_at=started_at,
        duration_ms=duration_ms,
    )
    return _result(
        valid.call,
        "tool_error",
        message,
        arguments=valid.arguments,
        error=error,
        started_at=started_at,
        duration_ms=duration_ms,
        action_call=record,
        verdict=verdict,
    )
