"""The bot of the crash tests, importable by every process (``tests.runs._crash_bot:bot``).

Each process builds the same bot from environment variables the test sets:

- ``CRASH_BASE_URL``: the scripted Responses API served on 127.0.0.1 by the test process;
- ``CRASH_STORE``: the run store file; ``CRASH_EFFECTS``: the side-effect file: every action
  appends one line to it (``O_APPEND``, one ``write``), so the test counts executions across
  processes from the file, not from memory;
- ``CRASH_PAUSE``: comma-separated points where this process stops (see :func:`pause`), with
  ``CRASH_READY_FD`` (where it says which point it reached) and ``CRASH_GO_FD`` (what it
  reads before going on; the test never writes it when it means to SIGKILL the process).

The points, in the order a resume reaches them:

- ``decided``: the decision is recorded in the store (``store.decide`` returned), nothing else;
- ``claim``: about to claim the run's lease (the two-resumers test lines both up here);
- ``claimed``: lease claimed, run saved as ``running``, about to write the ledger's ``started``;
- ``started``: inside the action: the ledger says ``started``, the side effect is written;
- ``finished``: the ledger says ``finished``, the model not yet asked again.
"""

from __future__ import annotations

import os
from typing import Any

import openai

from openai_trigger_bot import Bot, action
from openai_trigger_bot.runs import (
    ApprovalRow,
    ApprovalVote,
    LedgerEntry,
    RunRecord,
    SQLiteRunStore,
)


def pause(point: str) -> None:
    """At a point named in ``CRASH_PAUSE``: say so on the ready pipe, block on the go pipe."""
    if point not in os.environ.get("CRASH_PAUSE", "").split(","):
        return
    os.write(int(os.environ["CRASH_READY_FD"]), f"{point}\n".encode())
    os.read(int(os.environ["CRASH_GO_FD"]), 1)  # b"" (EOF) if the test closes it: go on too


def effect(line: str) -> None:
    """Append one line to the side-effect file, atomically with respect to other processes."""
    fd = os.open(os.environ["CRASH_EFFECTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


class PausingStore(SQLiteRunStore):
    """The SQLite run store, with the pause points of a resume around its calls."""

    def decide(self, approval_id: str, vote: ApprovalVote, *, now: float) -> ApprovalRow:
        row = super().decide(approval_id, vote, now=now)
        pause("decided")
        return row

    def claim(self, run_id: str, *, owner: str, lease_s: float, now: float) -> RunRecord:
        pause("claim")
        return super().claim(run_id, owner=owner, lease_s=lease_s, now=now)

    def ledger_start(
        self, key: str, *, run_id: str, call_id: str, action: str, now: float
    ) -> LedgerEntry | None:
        if action != "lookup":
            pause("claimed")
        return super().ledger_start(key, run_id=run_id, call_id=call_id, action=action, now=now)

    def ledger_finish(self, key: str, result: dict[str, Any], *, now: float) -> LedgerEntry:
        entry = super().ledger_finish(key, result, now=now)
        if entry.action != "lookup":
            pause("finished")
        return entry


@action
def lookup(query: str) -> str:
    """Look an invoice up (low risk: runs without approval).

    Args:
        query: What to look up.
    """
    effect(f"lookup:{query}")
    return f"found {query}"


@action(risk="high")
def pay(invoice: str) -> str:
    """Pay an invoice (high risk: needs approval; not safe to repeat).

    Args:
        invoice: The invoice id.
    """
    effect(f"pay:{invoice}")
    pause("started")
    return f"paid {invoice}"


@action(risk="high", idempotent=True)
def refresh(cache: str) -> str:
    """Refresh a cache (high risk: needs approval; safe to repeat).

    Args:
        cache: The cache name.
    """
    effect(f"refresh:{cache}")
    pause("started")
    return f"refreshed {cache}"


def make_bot() -> Bot:
    """The bot, from the environment (see the module docstring)."""
    client = openai.OpenAI(base_url=os.environ["CRASH_BASE_URL"], api_key="x", max_retries=0)
    made = Bot("billing", client=client, run_store=PausingStore(os.environ["CRASH_STORE"]))

    @made.trigger("invoice", prompt="Settle the invoice.", hidden_actions=[lookup, pay, refresh])
    def invoice() -> dict[str, str]:
        return {"invoice": "A-1"}

    return made


bot = make_bot() if "CRASH_STORE" in os.environ else None
