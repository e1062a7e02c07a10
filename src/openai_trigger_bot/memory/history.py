"""A persistent :class:`~openai_trigger_bot.governance.rules.history.HistoryProvider`.

:class:`StoreHistory` keeps the outcomes of governed calls in a memory store (with SQLite:
the ``outcomes`` table, whose ranked indexes answer a window count in a few index seeks,
however many outcomes the window holds), so rules such as "at most
5 refunds per hour" or "blocked after 3 failures today" count calls made by every process
sharing the file, and still count them after a restart. Wire it as the rules engine's history
(``LocalRulesEvaluator(..., history=memory.history)``); the gate then records every outcome.

``record`` never waits for the disk: the gate calls it on the event loop, and a SQLite write
can queue behind another process's write for up to ``busy_timeout``. Records go to an
in-process buffer that a background thread writes in batches (a few milliseconds later), and
``counts`` adds the buffered records to what the store counts, so this process always sees
its own records at once; other processes see them after the write. ``flush()`` writes the
buffer now; ``close()`` flushes it and stops the writer — its owner calls it
(``MemoryManager.close()`` does). No ``atexit`` hook is registered: like a process killed
before a flush, a process that exits without closing the history loses the records of its
last few milliseconds. (The writer is a daemon thread, so an unwritable store never keeps the
process from exiting; it stops by itself after about a second idle.)
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

from ..governance.rules.history import empty_counts
from .records import OutcomeRecord
from .store import MemoryStore

__all__ = ["StoreHistory"]

log = logging.getLogger(__name__)


class StoreHistory:
    """Outcomes of governed calls, counted over a window, persisted in a memory store.

    Args:
        store: The store holding the outcomes.
        clock: Epoch seconds (inject a fake clock in tests).
        retention: Outcomes older than this many seconds are pruned (hourly).
        flush_delay: Seconds the writer waits to gather records into one transaction.
        wait_for_flush: The longest ``counts`` waits for a running flush (see there).
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        clock: Callable[[], float] = time.time,
        retention: float = 7 * 86400.0,
        flush_delay: float = 0.005,
        wait_for_flush: float = 0.05,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._delay = flush_delay
        self._wait_for_flush = wait_for_flush
        self._lock = threading.Lock()  # guards _pending and _thread
        self._flush_lock = threading.Lock()  # one flush at a time; counts never sees a half one
        self._pending: list[OutcomeRecord] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0
        self._closed = False

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        """Remember one outcome (see ``HistoryProvider.record``); returns at once."""
        entry = OutcomeRecord(action, status, target, self._clock() if at is None else at)
        with self._lock:
            self._pending.append(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=_writer, args=(weakref.ref(self),), name="memory-history", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        """Outcomes of ``action`` since ``since`` per status, zeros included, plus ``total``."""
        counts = empty_counts()
        # Usually no flush is running, or one ends within a millisecond: wait for it so that a
        # batch is counted once, from the store or from the buffer. A flush still running after
        # `wait_for_flush` is stuck behind another process's write lock, so its batch is not
        # committed yet: count it from the buffer and do not block the caller (a decision on
        # the event loop) for the whole busy timeout.
        locked = self._flush_lock.acquire(timeout=self._wait_for_flush)
        try:
            stored = self._store.count_outcomes(action, since=since, target=target)
            with self._lock:
                pending = list(self._pending)
        finally:
            if locked:
                self._flush_lock.release()
        for status, n in stored.items():
            counts[status] = counts.get(status, 0) + n
        for entry in pending:
            matches = entry.action == action and entry.at >= since
            if matches and (target is None or entry.target == target):
                counts[entry.status] = counts.get(entry.status, 0) + 1
        counts["total"] = sum(n for status, n in counts.items() if status != "total")
        return counts

    def flush(self) -> None:
        """Write buffered records now (in this thread).

        Raises:
            MemoryStoreError: The store could not be written (the records stay buffered).
        """
        with self._flush_lock:
            with self._lock:
                batch = list(self._pending)
            if batch:
                self._store.record_outcomes(batch)
                with self._lock:  # dropped from the buffer only once committed
                    del self._pending[: len(batch)]
        now = self._clock()
        if now >= self._next_prune:
            self._next_prune = now + 3600.0
            self._store.prune_outcomes(before=now - self._retention)

    @property
    def pending(self) -> int:
        """Records not yet written to the store."""
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Flush and stop the writer (idempotent); failures are logged."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        try:
            self.flush()
        except Exception as exc:  # at shutdown there is no one left to raise to
            log.warning("memory history: %d outcomes not written: %r", self.pending, exc)


def _writer(ref: weakref.ref[StoreHistory]) -> None:
    """The background writer: flushes soon after records arrive, exits after ~1 s idle.

    It holds the history only weakly while it waits, so an unused history can be collected.
    It clears ``_thread`` under the lock before exiting, so ``record`` starts a new writer
    whenever none will see its record.
    """
    idle = 0
    while True:
        history = ref()
        if history is None:
            return
        wake, delay = history._wake, history._delay
        del history
        woke = wake.wait(timeout=0.05)
        history = ref()
        if history is None:
            return
        if woke:
            wake.clear()
            time.sleep(delay)  # gather a burst into one transaction
        with history._lock:
            if not history._pending:
                idle += 1
                if idle >= 20 or history._closed:
                    history._thread = None
                    return
                continue
        idle = 0
        try:
            history.flush()
        except Exception as exc:
            log.warning("memory history: write failed, will retry: %r", exc)
            time.sleep(0.1)
        del history
