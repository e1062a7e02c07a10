"""``resume``, ``aresume``, ``cancel`` and ``acancel`` of :class:`~openai_trigger_bot.Bot`.

A mixin, so the bot's module stays about defining and running; the work is in
:mod:`._run.resume`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._run.offload import inline

if TYPE_CHECKING:
    from ._run.loop import RunSpec
    from ._run.offload import Offload
    from ._run.request import Compiled
    from ._run.state import RunState
    from ._run.sync import LoopRunner
    from .actions import Action, ActionRegistry
    from .result import RunResult
    from .runs.store import RunStore
    from .triggers import Trigger

__all__ = ["Resuming"]


class Resuming:
    """Continue or end a suspended run of this bot (see ``docs/approvals.md``)."""

    name: str
    actions: ActionRegistry
    triggers: dict[str, Trigger]
    run_store: RunStore
    _store_io: Offload | None
    _wall_clock: Callable[[], float]
    _secret_arguments: dict[str, dict[str, str]]
    _compiled: dict[str, Compiled]
    _loops: LoopRunner

    def _check_open(self) -> None:
        raise NotImplementedError

    def _compile(self, trig: Trigger) -> Compiled:
        raise NotImplementedError

    def make_spec(
        self,
        run_name: str,
        base_body: dict[str, Any],
        allowed: dict[str, Action[Any]],
        first_input: list[dict[str, Any]],
    ) -> RunSpec:
        raise NotImplementedError

    def resume(self, run_id: str, decisions: Mapping[str, Any] | None = None) -> RunResult:
        """Continue a suspended run, from this process or another (sync twin of :meth:`aresume`).

        Raises:
            UsageError: Called inside a running event loop, or see :meth:`aresume`.
        """
        return self._loops.run(self._resume(run_id, decisions or {}, sync=True))

    async def aresume(self, run_id: str, decisions: Mapping[str, Any] | None = None) -> RunResult:
        """Continue a suspended run with the given decisions.

        Args:
            run_id: The suspended run (``RunResult.run_id``).
            decisions: Approval id → any answer an approval handler may give (``True``,
                ``False``, ``{"resolution": ..., "comment": ...}``, an ``Approval``, or
                ``None`` to leave it for later). Approvals decided elsewhere (the CLI, the
                server) need no entry.

        Returns:
            The run's result: ``approval_required`` again while a call of the suspended round
            still waits (nothing runs, the model is not called), else the run continued to its
            end (or its next suspension).

        Raises:
            RunNotFound: No such run in this bot's run store.
            ResumeRefused: The bot's definition differs from the one that started the run.
            ApprovalClosed: An approval was already decided (single use).
            RunBusy: Another live process is resuming it now.
            UsageError: The run is cancelled or ended, or a decision is not understood.
        """
        return await self._resume(run_id, decisions or {}, sync=False)

    async def _resume(self, run_id: str, decisions: Mapping[str, Any], *, sync: bool) -> RunResult:
        from ._run.resume import resume_run
        from .exceptions import UsageError

        self._check_open()
        if not isinstance(decisions, Mapping):
            raise UsageError(
                f"resume({run_id!r}, decisions): decisions must map approval ids to answers, "
                f"like {{approval_id: True}}, not a {type(decisions).__name__}; nothing was "
                "recorded"
            )

        def make(state: RunState, allowed: Mapping[str, Action[Any]]) -> RunSpec:
            spec = self.make_spec(state.trigger, dict(state.base_body), dict(allowed), [])
            return dataclasses.replace(
                spec, run_id=run_id, sync_io=inline if sync else spec.sync_io
            )

        return await resume_run(
            self.run_store,
            self._store_io,
            run_id,
            decisions,
            bot=self.name,
            allowed_for=self._allowed_for,
            make_spec=make,
            now=self._wall_clock,
        )

    def cancel(self, run_id: str) -> None:
        """End a suspended run (status ``cancelled``); its approvals can no longer be decided.

        Raises:
            RunNotFound: No such run. RunFinished: It already ended or was cancelled.
        """
        self._check_open()
        self.run_store.cancel(run_id, now=self._wall_clock())
        self._secret_arguments.pop(run_id, None)

    async def acancel(self, run_id: str) -> None:
        """The async twin of :meth:`cancel` (the store is written off the event loop)."""
        self._check_open()
        await asyncio.to_thread(self.cancel, run_id)

    def _allowed_for(self, trigger: str) -> dict[str, Action[Any]]:
        """The actions a run of ``trigger`` was offered (``messages``: every action).

        Raises:
            KeyError: The bot has no such trigger.
        """
        trig = self.triggers.get(trigger)
        if trig is not None:
            return (self._compiled.get(trig.name) or self._compile(trig)).allowed
        if trigger == "messages":
            return {a.name: a for a in self.actions}
        raise KeyError(trigger)
