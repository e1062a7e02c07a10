"""The bot: actions, triggers, and the public ``run`` / ``arun`` over the one core loop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openai

from ._bot_resume import Resuming
from ._json import dumps
from ._lifecycle import Closing
from ._run.loop import RunSpec, run_loop
from ._run.offload import WorkerPool, inline
from ._run.prompt import build_input
from ._run.request import Compiled, compile_trigger, request_body
from ._run.sync import LoopRunner
from .actions import Action, ActionRegistry
from .exceptions import ConfigurationError, TriggerDefinitionError, UsageError
from .governance.approvals import ApprovalHandler
from .governance.decision import EnforcementMode, FailMode
from .governance.evaluator import PolicyEvaluator
from .governance.gate import DecisionHook, Governance
from .governance.options import governance_for
from .memory.request import MemoryRequest
from .models.base import ResponsesModel
from .models.openai import OpenAIResponsesModel
from .result import RunResult
from .settings import BotSettings
from .triggers import Invocation, Trigger

if TYPE_CHECKING:  # imported where used: a plain bot loads neither numpy, CEL nor httpx
    from .governance.outbox import OutcomeOutbox
    from .memory.manager import MemoryManager
    from .runs.store import RunStore

__all__ = ["Bot"]


class Bot(Resuming, Closing):
    """A bot that acts only through tools.

    Args:
        name: The bot's name (part of the default ``prompt_cache_key``).
        client: An ``OpenAI`` or ``AsyncOpenAI`` client. Omit it to pass ``model=`` instead,
            or to create an ``OpenAI()`` from the environment on first run. An ``AsyncOpenAI``
            client is bound to the event loop it first ran on: use it from one loop (one
            thread's ``Bot.run``, or ``Bot.arun`` on one loop); a sync client works anywhere.
        settings: Model, instructions and budgets.
        model: A custom :class:`~openai_trigger_bot.models.ResponsesModel` (instead of a client).
        policy: The evaluator that decides on every call: a
            :class:`~openai_trigger_bot.governance.PolicyEvaluator`, or a directory of policy
            files (loaded now; a broken file raises here). Default: decide by each action's
            declared ``risk`` (``high`` and ``critical`` need approval).
        enforcement: ``enforced`` (default), ``review``, ``advisory`` or ``shadow``.
        fail_mode: What an outage of the evaluator does: ``closed`` (default) blocks the
            call, ``open`` runs it (marked). It never opens a failure the model's arguments
            caused (a rule's ``when:`` over budget or failing on them): that always blocks,
            unless ``fail_modes`` names its kind.
        fail_modes: Per failure kind (``timeout``, ``circuit_open``, ...), overriding
            ``fail_mode``; the only way to let ``over_budget`` or a failing rule condition
            (``evaluator_error``) run the call. See ``docs/governance.md``, "Fail modes".
        outbox: A durable outbox that reports every governed outcome to a decision service.
        approval_handler: Asked when a decision requires approval, as ``handler(request)``
            with an :class:`~openai_trigger_bot.ApprovalRequest` or ``handler(proposal,
            decision)``; see :mod:`openai_trigger_bot.governance.approvals` for the answers.
            Without one the run ends with status ``approval_required``.
        on_decision: Called (sync or async) with the final event of every governed call.
        actor: On whose behalf the bot acts, passed to policies.
        domain: The business domain, passed to policies.
        governance: A prebuilt :class:`~openai_trigger_bot.governance.Governance` instead of
            the options above.
        governed: ``False`` turns the gate off (every valid call runs); for tests and
            benchmarks.
        memory: Recalls memories for triggers with a ``memory_request`` and captures their
            runs and outcomes; its persistent history also backs policy ``history``
            conditions (a policy directory given as ``policy`` is wired to it).
        clock: Monotonic seconds for the run's deadline (``settings.timeout_s``); inject a
            fake clock to test deadlines without depending on the machine's speed.
        sleep: Waits between retries of a model call (``asyncio.sleep``); inject a fake one
            with a fake clock.
        run_store: Where suspended runs, their approvals and the execution ledger are kept: a
            path (a SQLite file, shared by processes: resume from any of them) or a
            :class:`~openai_trigger_bot.runs.RunStore`. Default: in memory, so a suspended run
            can only be resumed by this process.
        wall_clock: Epoch seconds, for approval expiry and stored records; inject a fake one
            to test expiry.

    Lifecycle: the bot owns what it starts — the worker threads of its sync actions, the
    private event loops of :meth:`run`, and the ``OpenAI()`` client it creates when given
    neither ``client`` nor ``model``. :meth:`close` (or leaving ``with Bot(...)`` /
    ``async with Bot(...)``; :meth:`aclose` in async code) stops and closes them; a closed bot
    refuses to run. What you pass in (``client``, ``model``, ``memory``, ``outbox``,
    ``policy``, ``governance``) stays yours: the bot never closes it.

    Raises:
        ConfigurationError: A bad combination of options, or an unknown mode.
        PolicyError: A policy directory with a broken file (file and line in the message).
    """

    def __init__(
        self,
        name: str,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        *,
        settings: BotSettings | None = None,
        model: ResponsesModel | None = None,
        policy: PolicyEvaluator | str | Path | None = None,
        enforcement: EnforcementMode = "enforced",
        fail_mode: FailMode = "closed",
        fail_modes: Mapping[str, FailMode] | None = None,
        outbox: OutcomeOutbox | None = None,
        approval_handler: ApprovalHandler | None = None,
        on_decision: DecisionHook | None = None,
        actor: str | None = None,
        domain: str | None = None,
        governance: Governance | None = None,
        governed: bool = True,
        memory: MemoryManager | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        run_store: RunStore | str | os.PathLike[str] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not name:
            raise ConfigurationError("a bot needs a name")
        if client is not None and model is not None:
            raise ConfigurationError("pass either client= or model=, not both")
        if client is not None and not isinstance(client, (openai.OpenAI, openai.AsyncOpenAI)):
            raise ConfigurationError(
                f"client must be openai.OpenAI or openai.AsyncOpenAI, got {type(client).__name__}"
            )
        self.name = name
        self.settings = settings or BotSettings()
        self.actions = ActionRegistry()
        self.triggers: dict[str, Trigger] = {}
        self._clock = clock
        self._sleep = sleep
        self._model: ResponsesModel | None = (
            model
            if model is not None
            else OpenAIResponsesModel(client, clock=clock, sleep=sleep)
            if client
            else None
        )
        self._own_client: openai.OpenAI | None = None  # created here, so closed here
        self._compiled: dict[str, Compiled] = {}
        self._workers = WorkerPool(f"trigger-bot-action:{name}")
        self._loops = LoopRunner(f"bot {name!r}")
        self._closed = False
        if memory is not None:
            from .memory.manager import MemoryManager

            if not isinstance(memory, MemoryManager):
                raise ConfigurationError(
                    f"memory must be a MemoryManager, got {type(memory).__name__}"
                )
        self.memory = memory
        self.governance: Governance | None = governance_for(
            governance,
            governed=governed,
            history=memory.history if memory is not None else None,
            policy=policy,
            enforcement=enforcement,
            fail_mode=fail_mode,
            fail_modes=fail_modes,
            outbox=outbox,
            approval_handler=approval_handler,
            on_decision=on_decision,
            actor=actor,
            domain=domain,
        )
        from .runs.inmemory import InMemoryRunStore
        from .runs.store import open_run_store

        self.run_store: RunStore = open_run_store(run_store)
        self._own_store = not _is_store(run_store)  # opened here from a path (or in memory)
        self._ledger_every_run = run_store is not None
        self._store_io = None if isinstance(self.run_store, InMemoryRunStore) else self._workers
        self._wall_clock = wall_clock
        self._secret_arguments: dict[str, dict[str, str]] = {}

    # -- definition ------------------------------------------------------------------------

    def register_actions(self, *actions: Action[Any]) -> None:
        """Make actions known to the bot (global ones are then offered to every trigger).

        Raises:
            ActionDefinitionError: Not an action, or two different actions share a name.
        """
        self.actions.extend(actions)
        self._compiled.clear()

    def trigger(
        self,
        name: str,
        *,
        prompt: str,
        default_action: Action[Any] | None = None,
        hidden_actions: Sequence[Action[Any]] = (),
        memory_request: MemoryRequest | None = None,
        prompt_cache_key: str | None = None,
    ) -> Callable[[Callable[..., Any]], Trigger]:
        """Decorate a data function to make it a trigger of this bot.

        Args:
            name: Unique trigger name.
            prompt: What the model is asked to do.
            default_action: The action the instructions push towards (registered if needed).
            hidden_actions: Hidden actions this trigger may use (registered if needed).
            memory_request: What to recall before each run.
            prompt_cache_key: Overrides the cache key for this trigger.

        Raises:
            TriggerDefinitionError: Duplicate name or inconsistent definition.
        """

        def decorate(fn: Callable[..., Any]) -> Trigger:
            if name in self.triggers:
                raise TriggerDefinitionError(f"bot {self.name!r} already has a trigger {name!r}")
            trig = Trigger(
                name,
                fn,
                prompt=prompt,
                default_action=default_action,
                hidden_actions=hidden_actions,
                memory_request=memory_request,
                prompt_cache_key=prompt_cache_key,
            )
            extra = list(trig.hidden_actions)
            if default_action is not None:
                extra.append(default_action)
            self.register_actions(*extra)
            self.triggers[name] = trig
            return trig

        return decorate

    # -- running ---------------------------------------------------------------------------

    def run(self, invocation: Invocation) -> RunResult:
        """Run a trigger invocation to its end (sync; drives the async core).

        Raises:
            UsageError: Called inside a running event loop, with a foreign invocation, or
                after :meth:`close`.
        """
        return self.run_spec(self._spec(invocation))

    async def arun(self, invocation: Invocation) -> RunResult:
        """Run a trigger invocation to its end (async). Runtime faults are outcomes, not errors.

        Raises:
            UsageError: The invocation belongs to a trigger of another bot, or the bot is
                closed.
        """
        return await run_loop(self._spec(invocation))

    def run_spec(self, spec: RunSpec) -> RunResult:
        """Run a prepared spec synchronously on this thread's private event loop.

        Nothing else runs on that loop while the run waits, so the run's blocking I/O (a sync
        client's model calls, memory's store) is given the :func:`inline` seam: it runs on this
        thread instead of in a worker thread. Sync actions still run in the bot's pool.
        """
        return self._loops.run(run_loop(dataclasses.replace(spec, sync_io=inline)))

    def request_preview(self, invocation: Invocation) -> dict[str, Any]:
        """The first request body a run of this invocation would send (for inspection)."""
        spec = self._spec(invocation)
        return {**spec.base_body, "input": spec.first_input}

    def _spec(self, invocation: Invocation) -> RunSpec:
        self._check_open()
        trig = invocation.trigger
        if self.triggers.get(trig.name) is not trig:
            raise UsageError(f"trigger {trig.name!r} is not a trigger of bot {self.name!r}")
        compiled = self._compiled.get(trig.name) or self._compile(trig)
        spec = self.make_spec(
            trig.name, compiled.base_body, compiled.allowed, build_input(invocation.data)
        )
        if self.memory is None or trig.memory_request is None:
            return spec
        query = invocation.data if isinstance(invocation.data, str) else dumps(invocation.data)
        return dataclasses.replace(
            spec, memory=self.memory, memory_request=trig.memory_request, memory_query=query
        )

    def make_spec(
        self,
        run_name: str,
        base_body: dict[str, Any],
        allowed: dict[str, Action[Any]],
        first_input: list[dict[str, Any]],
        *,
        governance: Governance | bool | None = True,
    ) -> RunSpec:
        """A run of this bot with a given request prefix (used by the message-driven layer).

        Args:
            run_name: The trigger name recorded in the result.
            base_body: The stable request fields (see :meth:`request_body`).
            allowed: The actions offered, by name.
            first_input: The first round's input items.
            governance: ``True`` for the bot's own; or a replacement (``None``: ungoverned).
        """
        self._check_open()
        s = self.settings
        return RunSpec(
            run_id=uuid.uuid4().hex,
            bot=self.name,
            trigger=run_name,
            model=self._model_backend(),
            base_body=base_body,
            first_input=first_input,
            allowed=allowed,
            known=self.actions.__contains__,
            max_model_calls=s.max_model_calls,
            max_action_calls=s.max_action_calls,
            timeout_s=s.timeout_s,
            governance=self.governance if governance is True else governance or None,
            clock=self._clock,
            offload=self._workers,
            sync_io=self._workers,
            approval_ttl_s=s.approval_ttl_s,
            run_store=self.run_store,
            store_io=self._store_io,
            now=self._wall_clock,
            max_pending_approvals=s.max_pending_approvals,
            approval_timeout_s=s.approval_timeout_s,
            on_approval_error=s.approval_error,
            run_retention_s=s.run_retention_s,
            ledger_every_run=self._ledger_every_run,
            secret_arguments=self._secret_arguments,
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Stop what the bot started; idempotent. A closed bot refuses to run.

        Waits for sync actions still running in its worker threads, closes the private event
        loops of :meth:`run` (a loop still running closes when its run ends), and closes the
        ``OpenAI()`` client the bot created itself. Objects passed in are left open.
        """
        self._closed = True
        self._loops.close()
        self._workers.close()
        if self._own_store:
            self.run_store.close()
        client, self._own_client = self._own_client, None
        if client is not None:
            client.close()

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"bot {self.name!r} is closed; create a new Bot to run again")

    def request_body(
        self,
        allowed: dict[str, Action[Any]],
        instructions: str,
        cache_key: str,
        *,
        model: str | None = None,
    ) -> dict[str, Any]:
        """The stable request fields of a run (see :func:`._run.request.request_body`)."""
        return request_body(self.settings, allowed, instructions, cache_key, model=model)

    def _compile(self, trig: Trigger) -> Compiled:
        compiled = compile_trigger(self.settings, self.name, self.actions.global_actions(), trig)
        self._compiled[trig.name] = compiled
        return compiled

    def _model_backend(self) -> ResponsesModel:
        if self._model is None:
            try:
                # A sync client works from every thread (Bot.run) and every loop (Bot.arun
                # calls it in a worker thread); an AsyncOpenAI one is bound to one event loop.
                client = openai.OpenAI()
                self._model = OpenAIResponsesModel(client, clock=self._clock, sleep=self._sleep)
                self._own_client = client
            except openai.OpenAIError as exc:
                raise ConfigurationError(
                    "no client given and none could be created from the environment "
                    f"(set OPENAI_API_KEY or pass client=): {exc}"
                ) from exc
        return self._model


def _is_store(value: object) -> bool:
    """Whether ``value`` is a store object passed in (the caller's to close)."""
    return value is not None and not isinstance(value, (str, os.PathLike))
