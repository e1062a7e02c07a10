"""Functions run in child processes by the run-store tests (importable under spawn)."""

from __future__ import annotations

import multiprocessing.synchronize

from openai_trigger_bot.runs import SQLiteRunStore


def start_once(path: str, key: str, go: multiprocessing.synchronize.Event, out: str) -> None:
    """Wait for ``go``, then ledger_start ``key``; write "won" or "lost" to ``out``."""
    with SQLiteRunStore(path) as store:
        go.wait(60)
        found = store.ledger_start(key, run_id="run-1", call_id="c1", action="pay", now=1.0)
    with open(out, "w") as file:
        file.write("won" if found is None else "lost")
