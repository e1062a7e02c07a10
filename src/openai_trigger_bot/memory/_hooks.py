"""The capture hooks the runner calls after a run and after each governed call.

A mixin of :class:`~openai_trigger_bot.memory.MemoryManager`, kept apart so the manager
module stays about remembering and selecting. What is stored comes from :mod:`._capture`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TYPE_CHECKING

from ..governance.decision import ExecutionEvent
from ..result import RunResult
from ._capture import Capture, capture_scope, event_capture, run_capture
from .records import Memory

if TYPE_CHECKING:
    from .._run.offload import Offload

__all__ = ["CaptureHooks"]

log = logging.getLogger(__name__)


class CaptureHooks:
    """``capture_run`` / ``capture_event`` and their async twins, over ``remember``."""

    _capture_kinds: Collection[str]

    # Provided by MemoryManager (this mixin only calls them).
    remember: Callable[..., Memory]
    aremember: Callable[..., Awaitable[Memory]]

    # -- capture ----------------------------------------------------------------------------

    def _capture_target(self, capture: Capture, scopes: Sequence[str]) -> str | None:
        if capture.kind not in self._capture_kinds:
            return None
        return capture_scope(scopes)

    def _capture(self, capture: Capture, scopes: Sequence[str]) -> Memory | None:
        scope = self._capture_target(capture, scopes)
        if scope is None:
            return None
        try:
            return self.remember(
                capture.text,
                scope=scope,
                kind=capture.kind,
                source=capture.source,
                metadata=capture.metadata,
                key=capture.key,
            )
        except Exception as exc:
            log.warning("memory: capture of %s failed: %r", capture.source, exc)
            return None

    async def _acapture(
        self, capture: Capture, scopes: Sequence[str], offload: Offload | None
    ) -> Memory | None:
        scope = self._capture_target(capture, scopes)
        if scope is None:
            return None
        try:
            return await self.aremember(
                capture.text,
                scope=scope,
                kind=capture.kind,
                source=capture.source,
                metadata=capture.metadata,
                key=capture.key,
                offload=offload,
            )
        except Exception as exc:
            log.warning("memory: capture of %s failed: %r", capture.source, exc)
            return None

    def capture_run(self, result: RunResult, *, scopes: Sequence[str]) -> Memory | None:
        """Remember a run (kind ``trigger_run``): trigger, status, what each tool call did.

        Args:
            result: The run's record.
            scopes: The trigger's ``MemoryRequest.capture_scopes``; the memory goes to the
                first scope that is not ``"global"`` (else the first; none: nothing stored).

        Returns:
            The memory, or ``None`` when nothing was stored (failures are logged).
        """
        return self._capture(run_capture(result), scopes)

    async def acapture_run(
        self, result: RunResult, *, scopes: Sequence[str], offload: Offload | None = None
    ) -> Memory | None:
        """Async twin of :meth:`capture_run` (``offload``: see ``MemoryManager.aselect``)."""
        return await self._acapture(run_capture(result), scopes, offload)

    def capture_event(
        self,
        event: ExecutionEvent,
        *,
        scopes: Sequence[str],
        bot: str,
        trigger: str,
        target: str | None,
    ) -> Memory | None:
        """Remember a governed outcome: kind ``action`` when executed, else ``tool_outcome``.

        The text names the tool, the target, the status and the decision's recommendation and
        reason; arguments, outputs and raw errors are never stored (see :mod:`._capture`).
        This stores a memory only: outcomes for ``history`` conditions are recorded by the
        gate through :attr:`history`.

        Returns:
            The memory, or ``None`` when nothing was stored (failures are logged).
        """
        return self._capture(event_capture(event, bot=bot, trigger=trigger, target=target), scopes)

    async def acapture_event(
        self,
        event: ExecutionEvent,
        *,
        scopes: Sequence[str],
        bot: str,
        trigger: str,
        target: str | None,
        offload: Offload | None = None,
    ) -> Memory | None:
        """Async twin of :meth:`capture_event` (``offload``: see ``MemoryManager.aselect``)."""
        capture = event_capture(event, bot=bot, trigger=trigger, target=target)
        return await self._acapture(capture, scopes, offload)
