"""What a run did: frozen records of every model call, action call and tool-call outcome."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .governance.decision import Decision, ExecutionEvent

__all__ = ["ActionCall", "ModelCall", "PendingApproval", "RunResult", "RunStatus", "Usage"]

RunStatus = Literal[
    "completed",
    "max_model_calls",
    "max_action_calls",
    "deadline",
    "error",
    "approval_required",
    "incomplete",
    "refused",
    "cancelled",
]
"""How a run ended.

- ``completed``: the model answered without a tool call (its text is recorded, never acted on).
- ``max_model_calls`` / ``max_action_calls``: a budget ran out; what ran is recorded.
- ``deadline``: the run's time budget ran out (a started action is never interrupted).
- ``error``: the OpenAI API failed after our retries within the deadline, or answered with a
  response that failed (its code and message in ``RunResult.error``), was cancelled, or is still
  ``queued`` / ``in_progress`` (background mode, which the runner does not drive).
- ``approval_required``: a governed call waits for a human decision; the run is suspended
  (``RunResult.pending_approvals``) and ``bot.resume(run_id, decisions)`` continues it.
- ``incomplete``: the API stopped the response early (``RunResult.incomplete_reason``, such as
  ``max_output_tokens`` or ``content_filter``); none of its function calls ran.
- ``refused``: the model refused (its words in ``RunResult.refusal``); none of the response's
  function calls ran.
- ``cancelled``: a suspended run was ended by ``bot.cancel`` (never returned by a run itself).
"""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Usage(BaseModel):
    """Token usage of one model call, or the sum over a run."""

    model_config = _FROZEN

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class ModelCall(BaseModel):
    """One call to the Responses API.

    Attributes:
        round: 1 for the first call of the run, then 2, 3, ...
        response_id: The response id (``None`` if the call failed).
        previous_response_id: The response this call chained on.
        usage: Token usage, including cached input tokens.
        text: The model's text output: recorded, never acted on.
        tool_calls: Names of the tools the model called, in order.
        request_bytes: Size of the request body sent.
        started_at: Epoch seconds when the call started.
        duration_ms: Wall time of the call, retries included.
        error: Why the call failed, if it did.
        status: The response's ``status`` (``completed``, ``incomplete``, ``failed``, ...);
            ``None`` when no response came back.
        commentary: Text of ``phase: "commentary"`` messages (preambles the model writes
            before acting): recorded here, never part of ``text``.
        refusal: The model's refusal, if the response holds one.
        incomplete_reason: Why an ``incomplete`` response stopped early.
        attempts: HTTP attempts made for this call (1 plus the retries).
    """

    model_config = _FROZEN

    round: int
    response_id: str | None
    previous_response_id: str | None
    usage: Usage
    text: str
    tool_calls: tuple[str, ...]
    request_bytes: int
    started_at: float
    duration_ms: float
    error: str | None = None
    status: str | None = None
    commentary: str = ""
    refusal: str | None = None
    incomplete_reason: str | None = None
    attempts: int = 1


class ActionCall(BaseModel):
    """One action the runner invoked (it ran, and returned or raised).

    Attributes:
        name: The action name.
        call_id: The model's call id.
        arguments: The validated arguments as JSON data (defaults applied).
        ok: Whether the action returned a serialisable value.
        output: The returned value as JSON data (``None`` on error).
        error: Why it failed, as recorded (the model got a shorter notice).
        started_at: Epoch seconds when the action started.
        duration_ms: Wall time of the action.
    """

    model_config = _FROZEN

    name: str
    call_id: str
    arguments: dict[str, Any]
    ok: bool
    output: Any = None
    error: str | None = None
    started_at: float
    duration_ms: float


class PendingApproval(BaseModel):
    """A call of a suspended run that waits for a person.

    Attributes:
        id: The approval's id (the key of ``bot.resume(run_id, {id: answer})``).
        run_id: The run it belongs to.
        call_id: The model's call id.
        action: The action that would run.
        arguments: Its arguments, secret values redacted.
        decision: The decision that asked for approval.
        expires_at: Epoch seconds after which it can no longer be approved.
        approvals_required: How many distinct approvers must say yes.
        approvals: How many have said yes so far.
        suggested_arguments: A ready edit the policy proposed, if any.
    """

    model_config = _FROZEN

    id: str
    run_id: str
    call_id: str
    action: str
    arguments: dict[str, Any]
    decision: Decision | None = None
    expires_at: float
    approvals_required: int = 1
    approvals: int = 0
    suggested_arguments: dict[str, Any] | None = None


class RunResult(BaseModel):
    """The frozen record of one trigger run.

    Attributes:
        run_id: Unique id of the run.
        bot: The bot's name.
        trigger: The trigger's name.
        status: How the run ended (see :data:`RunStatus`).
        model_calls: One record per model call, in order.
        action_calls: One record per executed action, in order of completion per round.
        events: One outcome per tool call the model proposed (executed, invalid, ...).
        error: For ``status == "error"``: what failed.
        text: The model's last text output (ignored by the runner; for display). Commentary
            messages and refusals are never part of it.
        last_response_id: The id of the last response. After ``approval_required``, a budget,
            ``incomplete`` or ``refused`` that response may hold function calls nobody answered:
            a request chaining from it as is gets a 400 from the API. In stateless mode
            (``BotSettings(store=False)``) the response was not stored: nothing can chain from it.
        incomplete_reason: For ``status == "incomplete"``: why the API stopped the response.
        refusal: For ``status == "refused"``: the model's refusal text.
        pending_approvals: For ``status == "approval_required"``: the calls waiting for a
            person (answer them with ``bot.resume(run_id, {approval_id: answer})``).
    """

    model_config = _FROZEN

    run_id: str
    bot: str
    trigger: str
    status: RunStatus
    model_calls: tuple[ModelCall, ...] = ()
    action_calls: tuple[ActionCall, ...] = ()
    events: tuple[ExecutionEvent, ...] = ()
    error: str | None = None
    text: str = ""
    last_response_id: str | None = None
    incomplete_reason: str | None = None
    refusal: str | None = None
    pending_approvals: tuple[PendingApproval, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the run completed (the model stopped calling tools)."""
        return self.status == "completed"

    @property
    def last(self) -> ExecutionEvent | None:
        """The last tool-call outcome, or ``None`` when the model called no tool."""
        return self.events[-1] if self.events else None

    @property
    def usage(self) -> Usage:
        """Token usage summed over all model calls."""
        total = Usage()
        for call in self.model_calls:
            total = total + call.usage
        return total

    @property
    def input_tokens(self) -> int:
        """Input tokens over the run."""
        return sum(c.usage.input_tokens for c in self.model_calls)

    @property
    def cached_input_tokens(self) -> int:
        """Input tokens served from the prompt cache over the run."""
        return sum(c.usage.cached_input_tokens for c in self.model_calls)

    @property
    def output_tokens(self) -> int:
        """Output tokens over the run."""
        return sum(c.usage.output_tokens for c in self.model_calls)

    @property
    def total_tokens(self) -> int:
        """All tokens over the run."""
        return sum(c.usage.total_tokens for c in self.model_calls)
