"""The server's resumer: continues a suspended run once its approvals are decided.

``trigger-bot serve --bot module:attribute`` hands the imported bot to a :class:`Resumer`.
After an approval request closes an approval, the server submits the run; one worker thread
(owned by the resumer, stopped by :meth:`Resumer.close` when the app shuts down) calls
``bot.resume(run_id, {})``: the votes are already in the run store. A run submitted while it
waits in the queue is not queued twice. What a resume gives is recorded per run (the last
:data:`MAX_RECORDS` runs) and shown by ``GET /v1/runs/{id}``; a failure is logged and recorded,
never raised: the server keeps serving.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..exceptions import TriggerBotError
from ..runs.errors import RunBusy

__all__ = ["MAX_RECORDS", "ResumeRecord", "Resumer"]

logger = logging.getLogger("openai_trigger_bot.server")

MAX_RECORDS = 1000
"""How many runs' last resume the resumer remembers."""

Outcome = Literal["resumed", "busy", "failed"]


@dataclass(frozen=True)
class ResumeRecord:
    """What the server's last resume of a run gave.

    Attributes:
        run_id: The run.
        at: When the resume ended (epoch seconds).
        outcome: ``resumed`` (``status`` says how the run stands now: ``completed``, or
            ``approval_required`` while a call of the round still waits), ``busy`` (another
            process is resuming it) or ``failed`` (``error`` says why; the server log has the
            traceback).
        status: The run's status after the resume (``resumed`` only).
        error: The error's type, and its message when it is the library's own.
    """

    run_id: str
    at: float
    outcome: Outcome
    status: str | None = None
    error: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The record as JSON data."""
        return asdict(self)


class Resumer:
    """Resumes runs in one worker thread that it owns.

    Args:
        bot: A ``Bot`` or ``GovernedClient`` (anything with ``resume(run_id, decisions)``
            and a ``name``). It is not closed here: it belongs to whoever created it.
        clock: Epoch seconds, for the records.
    """

    def __init__(self, bot: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.bot_name: str | None = getattr(bot, "name", None)
        self._clock = clock
        self._lock = threading.Lock()
        self._queued: set[str] = set()
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._records: collections.OrderedDict[str, ResumeRecord] = collections.OrderedDict()
        self._closed = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="trigger-bot-resume"
        )

    def submit(self, run_id: str) -> bool:
        """Resume ``run_id`` in the worker (unless it is queued already).

        Returns:
            Whether the run is queued; ``False`` once the resumer is closed.
        """
        with self._lock:
            if self._closed:
                return False
            if run_id in self._queued:
                return True
            self._queued.add(run_id)
            future = self._executor.submit(self._resume, run_id)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return True

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _resume(self, run_id: str) -> None:
        with self._lock:
            # Taken off the queue before it runs: a decision made during this resume queues
            # the run again, so the run goes on once that decision is in too.
            self._queued.discard(run_id)
        try:
            result = self.bot.resume(run_id, {})
        except RunBusy:
            logger.info("run %s: another process is resuming it", run_id)
            record = ResumeRecord(run_id, self._clock(), "busy")
        except Exception as exc:
            logger.exception("run %s: the resume failed", run_id)
            error = type(exc).__name__
            if isinstance(exc, TriggerBotError):
                error = f"{error}: {exc}"
            record = ResumeRecord(run_id, self._clock(), "failed", error=error)
        else:
            status = getattr(result, "status", None)
            logger.info("run %s resumed: %s", run_id, status)
            record = ResumeRecord(run_id, self._clock(), "resumed", status=status)
        with self._lock:
            self._records[run_id] = record
            self._records.move_to_end(run_id)
            while len(self._records) > MAX_RECORDS:
                self._records.popitem(last=False)

    def last(self, run_id: str) -> ResumeRecord | None:
        """The run's last resume by this server, if it remembers one."""
        with self._lock:
            return self._records.get(run_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every submitted resume ended; whether they did within ``timeout``."""
        with self._lock:
            pending = set(self._futures)
        _, not_done = concurrent.futures.wait(pending, timeout=timeout)
        return not not_done

    def close(self) -> None:
        """Stop: queued resumes are dropped (logged), a resume in progress is waited for.

        The dropped runs stay suspended with their decisions recorded; ``trigger-bot runs
        resume`` (or the next server) continues them. Idempotent.
        """
        with self._lock:
            self._closed = True
            dropped = sorted(self._queued)
        if dropped:
            logger.warning("shutting down: runs not resumed: %s", ", ".join(dropped))
        self._executor.shutdown(wait=True, cancel_futures=True)
