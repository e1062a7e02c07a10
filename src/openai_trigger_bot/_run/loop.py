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

import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..actions import Action
from ..governance.gate import Governance
from ..memory.request import MemoryRequest
from ..models.base import ResponsesModel
from ..result import RunResult, RunStatus
from .approve import Approvals
from .context import Chained, Context, Stateless
from .durable import Durable, Resumed
from .ledger import Ledger
from .model_call import call_model, response_outcome, unrun_events
from .offload import Offload, to_thread
from .pipeline import Pipeline
from .records import RunRecords
from .settle import HistoryRecorder, MemoryCapture, OnDecision, OutboxReport, Subscriber

if TYPE_CHECKING:  # types only: memory (and numpy) load when a bot is given one
    from ..memory.manager import MemoryManager
    from ..runs.store import RunStore

__all__ = ["KEPT_FOR_RETRY", "RunSpec", "run_loop"]

KEPT_FOR_RETRY = (
    "the run is kept suspended with its settled calls: resume it (bot.resume({run_id!r})) to "
    "send their results to the model again; nothing that ran runs again"
)


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
        run_store: Where a suspended run, its approvals and the execution ledger are kept
            (``None``: no ledger and no suspension store, for ungoverned runs).
        store_io: Runs the run store's blocking calls (``None``: call it inline, for the
            in-memory store).
        now: Epoch seconds (approval expiry, records; a fake clock in tests).
        max_pending_approvals: The bot's pending-approval cap (``None``: none).
        approval_timeout_s: How long an approval handler may take (``None``: no limit).
        on_approval_error: ``block`` or ``suspend`` when the handler fails.
        run_retention_s: Finished runs older than this are purged from the run store when a
            resumed run ends.
        ledger_every_run: Every governed execution goes through the ledger (a run store was
            given); ``False``: only resumed runs' (the bot's default in-memory store).
        secret_arguments: The bot's in-process memory of secret calls' real arguments (run
            id → call id → argument text), never written anywhere.
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
    run_store: RunStore | None = None
    store_io: Offload | None = None
    now: Callable[[], float] = time.time
    max_pending_approvals: int | None = None
    approval_timeout_s: float | None = None
    on_approval_error: Literal["block", "suspend"] = "block"
    run_retention_s: float = 7 * 86400.0
    ledger_every_run: bool = True
    secret_arguments: MutableMapping[str, dict[str, str]] = field(default_factory=dict)
    tool_list: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_list", ", ".join(self.allowed) or "none")


async def run_loop(spec: RunSpec, resumed: Resumed | None = None) -> RunResult:
    """Run one trigger to its end (or to a suspension) and return the record.

    Never raises for runtime faults. With ``resumed``, the run continues a suspended one: the
    suspended round is finished first (the stored answers decide its waiting calls), then the
    loop goes on as usual; the model is never asked again for that round.
    """
    records = RunRecords()
    deadline = None if spec.timeout_s is None else spec.clock() + spec.timeout_s
    remembering = spec.memory is not None and spec.memory_request is not None
    pipe = _pipeline(spec, records, remembering, resumed=resumed is not None)
    durable = Durable(spec, records, pipe, resumed)
    status: RunStatus | None = None
    error: str | None = None
    incomplete_reason: str | None = None
    refusal: str | None = None
    context: Context
    if resumed is not None:
        context, status = await durable.finish_round(deadline)
    else:
        input_items = await _with_memories(spec) if remembering else spec.first_input
        stateless = spec.base_body.get("store") is False
        context = Stateless(input_items) if stateless else Chained(input_items)
    while status is None:
        if len(records.model_calls) >= spec.max_model_calls:
            status = "max_model_calls"
            break
        remaining = None if deadline is None else deadline - spec.clock()
        if remaining is not None and remaining <= 0:
            status = "deadline"
            break
        if resumed is not None and await durable.cancelled():  # cancelled from elsewhere
            status = "cancelled"
            break
        body = context.request(spec.base_body)
        response, error, timed_out = await call_model(
            spec.model, spec.clock, records.model_calls, body, remaining, spec.sync_io
        )
        if timed_out:
            status = "deadline"
            break
        if response is None:
            status = "error"
            if resumed is not None and await durable.keep_for_retry():
                error = f"{error}; {KEPT_FOR_RETRY.format(run_id=spec.run_id)}"
            break
        records.last_response_id = response.id
        if response.text:
            records.text = response.text
        outcome = response_outcome(response)
        if outcome.status is not None:
            status, error = outcome.status, outcome.error
            incomplete_reason, refusal = outcome.incomplete_reason, outcome.refusal
            await pipe.settle_unrun(unrun_events(response.function_calls, outcome.reason))
            if status == "error" and resumed is not None and await durable.keep_for_retry():
                error = f"{error}; {KEPT_FOR_RETRY.format(run_id=spec.run_id)}"
            break
        rnd = await pipe.round(response.function_calls, deadline)
        if rnd.stop == "approval_required":
            status = await durable.suspend(context, response, rnd)
            break
        if rnd.stop is not None:
            status = rnd.stop
            break
        if resumed is not None:
            durable.settled(context, response, rnd)
        context.advance(response, [r.output_item for r in rnd.results])
    records.scrubbed()
    result = RunResult(
        run_id=spec.run_id,
        bot=spec.bot,
        trigger=spec.trigger,
        status=status,
        model_calls=tuple(records.model_calls),
        action_calls=tuple(records.action_calls),
        events=tuple(records.events),
        error=error,
        text=records.text,
        last_response_id=records.last_response_id,
        incomplete_reason=incomplete_reason,
        refusal=None if refusal is None else records.secrets.text(refusal),
        pending_approvals=durable.pending,
    )
    result = await durable.finished(result)
    if remembering:
        assert spec.memory is not None and spec.memory_request is not None
        await spec.memory.acapture_run(
            result, scopes=spec.memory_request.capture_scopes, offload=spec.sync_io
        )
    return result


def _pipeline(spec: RunSpec, records: RunRecords, remembering: bool, *, resumed: bool) -> Pipeline:
    """The run's pipeline with its subscribers: the record first, then the observers.

    The ledger is the run store's, for every governed execution; with the bot's default
    in-memory store (no ``run_store`` given: ``spec.ledger_every_run`` is false) only a resumed
    run uses it: nothing outside this process can run its calls, and a run that never
    suspended never runs a call twice, so recording every execution would only cost time and
    memory.
    """
    gov = spec.governance
    history = HistoryRecorder(gov.recorders if gov is not None else ())
    subscribers: list[Subscriber] = [records, history]
    if gov is not None and gov.outbox is not None:
        subscribers.append(OutboxReport(gov.outbox, bot=spec.bot, offload=spec.offload))
    if gov is not None and gov.on_decision is not None:
        subscribers.append(OnDecision(gov.on_decision))
    if remembering:
        assert spec.memory is not None and spec.memory_request is not None
        subscribers.append(
            MemoryCapture(
                spec.memory,
                spec.memory_request.capture_scopes,
                bot=spec.bot,
                trigger=spec.trigger,
                sync_io=spec.sync_io,
            )
        )
    store = spec.run_store if gov is not None else None
    ledger = Ledger(
        store if resumed or spec.ledger_every_run else None,
        spec.run_id,
        offload=spec.offload,
        store_io=spec.store_io,
        now=spec.now,
    )
    pipe = Pipeline(spec, records.secrets, subscribers, history, ledger)
    if gov is not None:
        pending_elsewhere = None
        if store is not None:
            bot = spec.bot

            async def pending_elsewhere() -> int:
                assert store is not None
                if spec.store_io is None:
                    return store.count_pending(bot, spec.now())
                return await spec.store_io(store.count_pending, bot, spec.now())

        pipe.approvals = Approvals(
            spec,
            pipe.decide_one,
            records.secrets,
            now=spec.now,
            pending_elsewhere=pending_elsewhere,
            max_pending=spec.max_pending_approvals,
            timeout_s=spec.approval_timeout_s,
            on_error=spec.on_approval_error,
        )
    return pipe


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
