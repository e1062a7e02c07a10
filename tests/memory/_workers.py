"""Functions run in child processes by the concurrency tests (importable under spawn)."""

from __future__ import annotations

import threading
from typing import Any

from openai_trigger_bot.memory import MemoryManager, OutcomeRecord, SQLiteMemoryStore


def write_memories(path: str, worker: str, threads: int, per_thread: int) -> None:
    """Remember ``threads * per_thread`` distinct memories from several threads at once."""
    with MemoryManager(path) as memory:

        def run(thread: int) -> None:
            for i in range(per_thread):
                memory.remember(f"note {worker}-{thread}-{i}", scope=f"scope-{i % 3}")

        pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()


def remember_one(path: str, text: str, scope: str) -> None:
    """Remember one memory and exit."""
    with MemoryManager(path) as memory:
        memory.remember(text, scope=scope)


def forget_scope(path: str, scope: str) -> None:
    """Delete a scope's memories and exit."""
    with MemoryManager(path) as memory:
        memory.forget_scope(scope)


def record_outcomes(path: str, action: str, status: str, count: int, target: str) -> None:
    """Record outcomes through the persistent history; closing flushes them."""
    with MemoryManager(path) as memory:
        for _ in range(count):
            memory.history.record(action, status, target=target)


def outcome_batch(worker: int, batch: int, size: int) -> list[OutcomeRecord]:
    """A deterministic batch of outcomes, times out of order and shared between workers."""
    statuses = ("executed", "blocked", "tool_error")
    out = []
    for i in range(size):
        n = batch * size + i
        target = None if n % 5 == 0 else f"cus-{n % 4}"
        at = float((n * 37 + worker * 11) % 200)  # out of order, with ties across workers
        out.append(OutcomeRecord("refund", statuses[(n + worker) % 3], target, at))
    return out


def open_and_record(path: str, worker: int, start: Any, batches: int, size: int) -> None:
    """Open the store once ``start`` lets every worker go, then record ``batches`` batches."""
    start.wait(60)
    store = SQLiteMemoryStore(path)
    try:
        for batch in range(batches):
            store.record_outcomes(outcome_batch(worker, batch, size))
    finally:
        store.close()
