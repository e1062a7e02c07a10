"""The one core loop: model call → validate → execute → chain, within budgets.

Both ``Bot.run`` (sync) and ``Bot.arun`` (async) drive this coroutine. Each round after the
first sends only the new ``function_call_output`` items on top of ``previous_response_id``, or,
in stateless mode (``store: false`` in the request body), the whole run so far (see
``context``); instructions and tools are resent because the API does not carry them over
(they are identical every round, so they hit the prompt cache). A budget that runs out ends
the run with a status, never an exception; API failures end it with status ``error`` and keep
every record. Only the calls of a ``completed`` response without a refusal run (see
``model_call``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..actions import Action
from ..governance.decision import ExecutionEvent
from ..governance.gate import UNAVAILABLE, Governance, Verdict, decide_all, notify
from ..governance.redaction import SecretValues
from ..memory.request import MemoryRequest
from ..models.base import ModelResponse, ResponsesModel
from ..result import ActionCall, ModelCall, RunResult, RunStatus
from .calls import (
    CallResult,
    ValidCall,
    execute_all,
    learn_secrets,
    not_run,
    scrub_action_call,
    scrub_event,
    skipped,
    validate,
)
from .context import Chained, Context, Stateless
from .model_call import call_model, response_outcome, unrun_events
from .offload import Offload, to_thread

if TYPE_CHECKING:  # a type only: memory (and numpy) load when a bot is given one
    from ..memory.manager import MemoryManager

__all__ = ["RunSpec", "run_loop"]


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs, prepared by the bot.

    Attributes:
        run_id: Unique id of the run.
        bot: The bot's name.
        trigger: The trigger's name.
        model: The Responses backend.
        base_body: The stable part of every request (model, instructions, tools, ...). With
            ``store: false`` the run is stateless: every round resends the run so far.
        first_input: The first round's input items.
        allowed: The actions offered to this trigger, by name.
        known: Whether a name is any action of the bot.
        max_model_calls: Budget of model calls.
        max_action_calls: Budget of executed actions.
        timeout_s: Wall-time budget of the run, or ``None``.
        governance: The gate's settings; ``None`` runs every valid call ungoverned.
        memory: Where memories are recalled from and outcomes captured, if anywhere.
        memory_request: What this run recalls (and where it captures); ``None``: neither.
        memory_query: The text to rank memories by when the request names no query.
        clock: Monotonic seconds, for the deadline (a fake one in tests).
        offload: Runs sync work off the event loop (the bot's worker pool): sync actions,
            the outbox's SQLite inserts, and a sync evaluator counting outcomes in a store.
        sync_io: Where the run's own blocking backends run: a sync OpenAI client's model
            calls and the memory manager's store and embedder work. ``Bot.arun``: the
            bot's worker pool; ``Bot.run``: inline on its private loop (see
            :mod:`.offload`).
        approval_ttl_s: How long an approval request holds (``BotSettings.approval_ttl_s``;
            an action's own ``approval_ttl_s`` wins).
    """

    run_id: str
    bot: str
    trigger: str
    model: ResponsesModel
    base_body: Mapping[str, Any]
    first_input: list[dict[str, Any]]
    allowed: Mapping[str, Action[Any]]
    known: Callable[[str], bool]
    max_model_calls: int
    max_action_calls: int
    timeout_s: float | None
    governance: Governance | None = None
    memory: MemoryManager | None = None
    memory_request: MemoryRequest | None = None
    memory_query: str | None = None
    clock: Callable[[], float] = time.monotonic
    offload: Offload = to_thread
    sync_io: Offload = to_thread
    approval_ttl_s: float = 3600.0
    tool_list: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_list", ", ".join(self.allowed) or "none")


@dataclass
class _State:
    model_calls: list[ModelCall] = field(default_factory=list)
    action_calls: list[ActionCall] = field(default_factory=list)
    events: list[ExecutionEvent] = field(default_factory=list)
    actions_used: int = 0
    text: str = ""
    last_response_id: str | None = None
    secrets: SecretValues = field(default_factory=SecretValues)
    """Every secret value the model passed in this run (see ``governance.redaction``)."""

    def add(self, results: list[CallResult]) -> None:
        for r in results:
            self.events.append(r.event)
            if r.action_call is not None:
                self.action_calls.append(r.action_call)

    def scrubbed(self) -> None:
        """Scrub every record with all secret values of the run: a value that became known
        as secret in a later round is removed from the earlier rounds' records too."""
        secrets = self.secrets
        if not secrets:
            return
        self.events = [scrub_event(e, secrets) for e in self.events]
        self.action_calls = [scrub_action_call(c, secrets) for c in self.action_calls]
        self.model_calls = [
            c.model_copy(
                update={
                    "text": secrets.text(c.text),
                    "commentary": secrets.text(c.commentary),
                    "refusal": None if c.refusal is None else secrets.text(c.refusal),
                }
            )
            for c in self.model_calls
        ]
        self.text = secrets.text(self.text)


async def run_loop(spec: RunSpec) -> RunResult:
    """Run one trigger to its end and return the record (never raises for runtime faults)."""
    state = _State()
    deadline = None if spec.timeout_s is None else spec.clock() + spec.timeout_s
    input_items: list[dict[str, Any]] = spec.first_input
    remembering = spec.memory is not None and spec.memory_request is not None
    if remembering:
        input_items = await _with_memories(spec)
    stateless = spec.base_body.get("store") is False
    context: Context = Stateless(input_items) if stateless else Chained(input_items)
    status: RunStatus
    error: str | None = None
    incomplete_reason: str | None = None
    refusal: str | None = None
    while True:
        if len(state.model_calls) >= spec.max_model_calls:
            status = "max_model_calls"
            break
        remaining = None if deadline is None else deadline - spec.clock()
        if remaining is not None and remaining <= 0:
            status = "deadline"
            break
        body = context.request(spec.base_body)
        response, error, timed_out = await call_model(
            spec.model, spec.clock, state.model_calls, body, remaining, spec.sync_io
        )
        if timed_out:
            status = "deadline"
            break
        if response is None:
            status = "error"
            break
        state.last_response_id = response.id
        if response.text:
            state.text = response.text
        outcome = response_outcome(response)
        if outcome.status is not None:
            status, error = outcome.status, outcome.error
            incomplete_reason, refusal = outcome.incomplete_reason, outcome.refusal
            state.events.extend(unrun_events(response.function_calls, outcome.reason))
            break
        results, stop = await _run_calls(spec, state, response, deadline)
        state.add(results)
        if remembering:
            await _capture_events(spec, results)
        if stop is not None:
            status = stop
            break
        context.advance(response, [r.output_item for r in results])
    state.scrubbed()
    result = RunResult(
        run_id=spec.run_id,
        bot=spec.bot,
        trigger=spec.trigger,
        status=status,
        model_calls=tuple(state.model_calls),
        action_calls=tuple(state.action_calls),
        events=tuple(state.events),
        error=error,
        text=state.text,
        last_response_id=state.last_response_id,
        incomplete_reason=incomplete_reason,
        refusal=None if refusal is None else state.secrets.text(refusal),
    )
    if remembering:
        assert spec.memory is not None and spec.memory_request is not None
        await spec.memory.acapture_run(
            result, scopes=spec.memory_request.capture_scopes, offload=spec.sync_io
        )
    return result


async def _with_memories(spec: RunSpec) -> list[dict[str, Any]]:
    """The first input with the recalled memories placed before the trigger's data.

    The block goes in as a ``user`` item, not ``developer``: memories can hold text that users
    wrote, so they must not carry instruction authority (the block's header says so too).
    """
    assert spec.memory is not None and spec.memory_request is not None
    block = await spec.memory.arecall(
        spec.memory_request, query=spec.memory_query, offload=spec.sync_io
    )
    if not block:
        return spec.first_input
    return [{"role": "user", "content": block}, *spec.first_input]


async def _capture_events(spec: RunSpec, results: list[CallResult]) -> None:
    """Remember every proposed call's outcome (budget skips aside) in the capture scopes."""
    assert spec.memory is not None and spec.memory_request is not None
    scopes = spec.memory_request.capture_scopes
    for r in results:
        if r.event.status != "skipped":
            await spec.memory.acapture_event(
                r.event,
                scopes=scopes,
                bot=spec.bot,
                trigger=spec.trigger,
                target=r.target,
                offload=spec.sync_io,
            )


async def _run_calls(
    spec: RunSpec, state: _State, response: ModelResponse, deadline: float | None
) -> tuple[list[CallResult], RunStatus | None]:
    """Validate every call of a response, pass the valid ones through the gate, reserve the
    action budget in the model's order, then execute what may run, concurrently.

    With a history recorder (rules with ``history`` conditions), the calls of one response are
    decided one after another and each admitted call is recorded as ``executed`` before the
    next decision, so a rate limit sees the earlier calls of the same response.

    Returns the results in the model's order and the status to stop with, if any.
    """
    calls = response.function_calls
    learn_secrets(calls, spec.allowed, state.secrets)
    checked = [validate(c, spec.allowed, spec.known, spec.tool_list, state.secrets) for c in calls]
    valid = [c for c in checked if isinstance(c, ValidCall)]
    gov = spec.governance
    recorders = gov.recorders if gov is not None else ()
    sequential = bool(recorders) and len(valid) > 1
    verdicts = await _decide(spec, valid, deadline) if gov is not None and not sequential else {}
    stop: RunStatus | None = None
    runs: list[tuple[ValidCall, Verdict | None]] = []
    decided: dict[int, CallResult] = {}
    recorded: set[int] = set()
    for item in valid:
        if sequential:
            verdicts.update(await _decide(spec, [item], deadline))
        verdict = verdicts.get(id(item))
        late = deadline is not None and spec.clock() >= deadline
        if verdict is not None and verdict.outcome != "execute":
            decided[id(item)] = not_run(item, verdict)
            if verdict.outcome == "approval_required" and stop is None:
                stop = "approval_required"
        elif late:
            decided[id(item)] = skipped(item, "the run's deadline passed", verdict)
            stop = "deadline"
        elif state.actions_used < spec.max_action_calls:
            state.actions_used += 1
            runs.append((item, verdict))
            if recorders and verdict is not None:
                target = verdict.proposal.target if verdict.proposal is not None else None
                for recorder in recorders:
                    recorder.record(item.action.name, "executed", target=target)
                recorded.add(id(item))
        else:
            decided[id(item)] = skipped(item, "the run's action budget is used up", verdict)
            stop = stop or "max_action_calls"
    if runs:
        for (item, _), result in zip(
            runs, await execute_all(runs, offload=spec.offload), strict=True
        ):
            decided[id(item)] = result
    results = [decided[id(c)] if isinstance(c, ValidCall) else c for c in checked]
    if gov is not None:
        for item in valid:
            proposal = verdicts[id(item)].proposal
            event = decided[id(item)].event
            await notify(
                gov,
                event,
                proposal,
                bot=spec.bot,
                offload=spec.offload,
                recorded=id(item) in recorded,
            )
    return results, stop


async def _decide(
    spec: RunSpec, valid: list[ValidCall], deadline: float | None
) -> dict[int, Verdict]:
    """The gate's verdicts (one batch for several calls, when the evaluator can), bounded by
    the run's deadline: a decision or approval still pending then blocks the call."""
    gov = spec.governance
    assert gov is not None
    if not valid:
        return {}
    work = decide_all(
        gov,
        valid,
        bot=spec.bot,
        trigger=spec.trigger,
        run_id=spec.run_id,
        allowed=spec.allowed,
        offload=spec.offload,
        approval_ttl_s=spec.approval_ttl_s,
    )
    try:
        if deadline is None:
            verdicts = await work
        else:
            verdicts = await asyncio.wait_for(work, max(deadline - spec.clock(), 0.0))
    except asyncio.TimeoutError:
        late = Verdict(
            "block",
            None,
            failure="timeout",
            error="the run's deadline passed during the decision",
            message=UNAVAILABLE,
        )
        return {id(v): late for v in valid}
    return {id(v): verdict for v, verdict in zip(valid, verdicts, strict=True)}
