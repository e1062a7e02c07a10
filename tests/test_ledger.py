"""The execution ledger through a bot: a governed call runs at most once (issue 10 §4), and the
settle stage hands every governed outcome to its subscribers once, in the model's order.

A crash is simulated by pre-seeding the run store's ledger under the call's idempotency key:
the run suspends for approval (so its run id is known), the entry is written as the dead
process would have left it, then the run is resumed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot import (
    Bot,
    BotSettings,
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    SQLiteMemoryStore,
    action,
)
from openai_trigger_bot.governance import Decision, ExecutionEvent, ProposedAction
from openai_trigger_bot.governance.decision import idempotency_key
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.runs import InMemoryRunStore, LedgerEntry
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from . import _ops_bot
from ._ops_bot import clear_ran as clear_ran  # autouse: each test starts with nothing ran
from ._ops_bot import lookup, ran, restart, start


@action(risk="high", idempotent=True)
def refresh(cluster: str) -> str:
    """Refresh a cluster's cache (safe to repeat).

    Args:
        cluster: Cluster name.
    """
    ran.append(f"refresh:{cluster}")
    return f"refreshed {cluster}"


def make_bot(scripted: ScriptedResponses, store: Any, **options: Any) -> Bot:
    """The ops bot with this file's actions (the idempotent ``refresh`` too), on the real clock."""
    return _ops_bot.make_bot(
        scripted,
        actions=(restart, refresh, lookup),
        store=store,
        clock=time.time,
        prompt="Handle it.",
        **options,
    )


def one_call(name: str) -> ScriptedResponses:
    return ScriptedResponses(
        [[function_call(name, {"cluster": "prod"}, call_id="call_1")], [message("done")]]
    )


def key_of(run_id: str, name: str) -> str:
    return idempotency_key(run_id, "call_1", name, {"cluster": "prod"})


def crash_after_start(store: InMemoryRunStore, run_id: str, name: str) -> None:
    got = store.ledger_start(
        key_of(run_id, name), run_id=run_id, call_id="call_1", action=name, now=1.0
    )
    assert got is None  # the key is the one the ledger will look up


@pytest.mark.parametrize(
    ("name", "status", "expected_run", "told"),
    [
        ("restart", "unknown", [], "Unknown:"),
        ("refresh", "executed", ["refresh:prod"], "refreshed prod"),  # idempotent: runs again
    ],
)
def test_a_call_started_by_a_process_that_died(
    name: str, status: str, expected_run: list[str], told: str
) -> None:
    store = InMemoryRunStore()
    scripted = one_call(name)
    with make_bot(scripted, store) as bot:
        first = start(bot)
        crash_after_start(store, first.run_id, name)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert ran == expected_run
    assert result.events[0].status == status
    assert scripted.requests[1]["input"][0]["output"].startswith(told)


def test_a_finished_call_gives_its_recorded_result_and_does_not_run() -> None:
    store = InMemoryRunStore()
    with make_bot(one_call("restart"), store, approval_handler=lambda r: True) as bot:
        earlier = start(bot)  # a real execution, to record a real result
    (entry,) = store.ledger_for_run(earlier.run_id)
    assert entry.result is not None
    recorded = entry.result
    recorded["output_item"]["output"] = "restarted prod (recorded before the crash)"
    ran.clear()

    scripted = one_call("restart")
    with make_bot(scripted, store) as bot:
        first = start(bot)
        key = key_of(first.run_id, "restart")
        crash_after_start(store, first.run_id, "restart")
        store.ledger_finish(key, recorded, now=2.0)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert ran == []
    assert result.events[0].status == "executed"
    sent = scripted.requests[1]["input"][0]
    assert (sent["call_id"], sent["output"]) == (
        "call_1",
        "restarted prod (recorded before the crash)",
    )


class LedgerDown(InMemoryRunStore):
    """A store whose ledger cannot be written before a call runs."""

    def ledger_start(
        self, key: str, *, run_id: str, call_id: str, action: str, now: float
    ) -> LedgerEntry | None:
        raise OSError("disk I/O error")


class FinishFails(InMemoryRunStore):
    """A store whose ledger cannot be written after a call ran."""

    def ledger_finish(self, key: str, result: dict[str, Any], *, now: float) -> LedgerEntry:
        raise OSError("disk I/O error")


def test_a_ledger_that_cannot_record_the_start_blocks_the_call() -> None:
    scripted = one_call("restart")
    with make_bot(scripted, LedgerDown(), approval_handler=lambda r: True) as bot:
        result = start(bot)
    assert ran == []
    event = result.events[0]
    assert event.status == "blocked"
    assert event.error is not None and "ledger" in event.error
    assert "could not be recorded" in scripted.requests[1]["input"][0]["output"]


def test_a_ledger_that_cannot_record_the_end_keeps_the_result() -> None:
    store = FinishFails()
    scripted = one_call("restart")
    with make_bot(scripted, store, approval_handler=lambda r: True) as bot:
        result = start(bot)
    assert ran == ["restart:prod"]
    assert result.events[0].status == "executed"
    assert scripted.requests[1]["input"][0]["output"] == "restarted prod"
    (entry,) = store.ledger_for_run(result.run_id)
    assert entry.status == "started"  # a later resume would see unknown, never a re-run


def test_every_governed_execution_is_in_the_ledger_once() -> None:
    store = InMemoryRunStore()
    scripted = ScriptedResponses(
        [
            [
                function_call("lookup", {"query": "disk"}, call_id="c1"),
                function_call("restart", {"cluster": "prod"}, call_id="c2"),
            ],
            [message("done")],
        ]
    )
    with make_bot(scripted, store, approval_handler=lambda r: True) as bot:
        result = start(bot)
    entries = store.ledger_for_run(result.run_id)
    assert sorted((e.call_id, e.action, e.status) for e in entries) == [
        ("c1", "lookup", "finished"),
        ("c2", "restart", "finished"),
    ]


def test_an_ungoverned_bot_does_not_touch_the_ledger() -> None:
    store = LedgerDown()  # would block every governed call
    scripted = one_call("restart")
    with make_bot(scripted, store, governed=False) as bot:
        result = start(bot)
    assert ran == ["restart:prod"]
    assert result.events[0].status == "executed"
    assert store.ledger_for_run(result.run_id) == []


# -- settle: every subscriber sees each governed outcome once, in the model's order ------------


class Recording(MemoryManager):
    """A real memory manager that notes which events it was asked to capture."""

    captured: list[str]

    async def acapture_event(self, event: ExecutionEvent, **kw: Any) -> None:
        self.captured.append(event.call_id)
        await super().acapture_event(event, **kw)


class RecordingOutbox(OutcomeOutbox):
    """A real outbox (not started: nothing is sent) that notes what it was given."""

    added: list[str]

    def add(self, event: ExecutionEvent, proposal: ProposedAction | None, **kw: Any) -> str:
        self.added.append(event.call_id)
        return super().add(event, proposal, **kw)


class ByAction:
    name = "by-action"

    def evaluate(self, proposal: ProposedAction) -> Decision:
        if proposal.action == "restart":
            return Decision(recommendation="do_not_proceed", reason="freeze")
        return Decision(recommendation="proceed")


@pytest.mark.parametrize("hook_raises", [False, True])
def test_subscribers_see_one_settled_event_per_call_in_order(
    tmp_path: Path, hook_raises: bool
) -> None:
    memory = Recording(store=SQLiteMemoryStore(tmp_path / "m.db"), embedder=HashingEmbedder())
    memory.captured = []
    outbox = RecordingOutbox(tmp_path / "outbox.db", start=False)
    outbox.added = []
    hooked: list[str] = []

    def on_decision(event: ExecutionEvent) -> None:
        hooked.append(event.call_id)
        if hook_raises:
            raise RuntimeError("hook down")

    order = ["c3", "c1", "c2"]  # the model's order, not sorted
    scripted = ScriptedResponses(
        [
            [
                function_call("lookup", {"query": "a"}, call_id="c3"),
                function_call("restart", {"cluster": "prod"}, call_id="c1"),
                function_call("lookup", {"query": "b"}, call_id="c2"),
            ],
            [message("done")],
        ]
    )
    bot = Bot(
        "ops",
        client=scripted.client(),
        memory=memory,
        outbox=outbox,
        on_decision=on_decision,
        policy=ByAction(),
        settings=BotSettings(),
    )

    @bot.trigger(
        "incident",
        prompt="Handle it.",
        hidden_actions=[restart, lookup],
        memory_request=MemoryRequest(scopes=("global",)),
    )
    def incident() -> dict[str, str]:
        return {}

    with bot:
        result = start(bot)
    outbox.close()
    memory.close()
    assert [e.status for e in result.events] == ["executed", "blocked", "executed"]
    assert hooked == order
    assert outbox.added == order
    assert memory.captured == order
    assert ran == ["lookup:a", "lookup:b"]  # a failing hook changes no outcome


def test_a_run_cancelled_while_a_resume_rechecks_the_policy_runs_nothing() -> None:
    """``bot.cancel`` from another process lands after the resume read the approvals, while it
    asks the policy again: the approved call must not run, and the run stays cancelled."""
    store = InMemoryRunStore()

    class CancelsDuringTheRecheck:
        name = "cancels"
        armed = False

        def evaluate(self, proposal: ProposedAction) -> Decision:
            if self.armed:
                self.armed = False
                store.cancel(proposal.run_id, now=5.0)  # the operator, elsewhere
            return Decision(recommendation="review_recommended")

    policy = CancelsDuringTheRecheck()
    scripted = one_call("restart")
    with make_bot(scripted, store, policy=policy) as bot:
        first = start(bot)
        policy.armed = True
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert ran == []
    assert result.status == "cancelled"
    assert result.events[0].status == "skipped"
    assert len(scripted.requests) == 1  # the model is not asked again for a cancelled run
    assert store.load(first.run_id).status == "cancelled"
    assert store.ledger_for_run(first.run_id) == []


class ReviewsThenBlocksWhenArmed:
    """Asks for review; when armed, the re-check on resume cancels the run (the operator,
    elsewhere) and the policy now blocks, so nothing runs in that round."""

    name = "review-then-block"

    def __init__(self, store: InMemoryRunStore) -> None:
        self.store = store
        self.armed = False

    def evaluate(self, proposal: ProposedAction) -> Decision:
        if self.armed:
            self.armed = False
            self.store.cancel(proposal.run_id, now=5.0)
            return Decision(recommendation="do_not_proceed", reason="freeze")
        return Decision(recommendation="review_recommended")


def test_a_run_cancelled_during_its_resumed_round_does_not_ask_the_model_again() -> None:
    """Cancelled while the resumed round settles (here: nothing ran in it): the run ends
    ``cancelled`` before the next model call, with no error."""
    store = InMemoryRunStore()
    policy = ReviewsThenBlocksWhenArmed(store)
    scripted = one_call("restart")
    with make_bot(scripted, store, policy=policy) as bot:
        first = start(bot)
        policy.armed = True
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert result.status == "cancelled"
    assert result.events[0].status == "blocked"
    assert len(scripted.requests) == 1
    assert store.load(first.run_id).status == "cancelled"


def test_a_run_cancelled_while_its_approved_action_runs_ends_cancelled() -> None:
    """Cancelled while the approved action runs: it ran (once, and says so), the model is not
    asked again, the run stays cancelled and resume raises nothing."""
    store = InMemoryRunStore()

    @action(risk="high", name="restart")
    def restart_and_get_cancelled(cluster: str) -> str:
        """Restart a cluster.

        Args:
            cluster: Cluster name.
        """
        ran.append(f"restart:{cluster}")
        store.cancel(run_ids[0], now=5.0)  # the operator, elsewhere, meanwhile
        return "restarted"

    run_ids: list[str] = []
    scripted = one_call("restart")
    bot = _ops_bot.make_bot(
        scripted, actions=(restart_and_get_cancelled,), store=store, clock=time.time
    )
    with bot:
        first = start(bot)
        run_ids.append(first.run_id)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert ran == ["restart:prod"]
    assert result.status == "cancelled"
    assert result.events[0].status == "executed"
    assert len(scripted.requests) == 1
    assert store.load(first.run_id).status == "cancelled"


def test_a_run_cancelled_during_the_resumed_model_call_stays_cancelled() -> None:
    """Cancelled while the model answers the resumed round: the run's end is not stored over
    the cancellation; the result says ``cancelled`` and nothing is raised."""
    store = InMemoryRunStore()
    run_ids: list[str] = []

    def cancel_then_answer(body: dict[str, Any]) -> Any:
        store.cancel(run_ids[0], now=5.0)
        return [message("done")]

    scripted = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "prod"}, call_id="call_1")],
            cancel_then_answer,
        ]
    )
    with make_bot(scripted, store) as bot:
        first = start(bot)
        run_ids.append(first.run_id)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert ran == ["restart:prod"]
    assert result.status == "cancelled"
    assert len(scripted.requests) == 2
    record = store.load(first.run_id)
    assert record.status == "cancelled" and record.lease_owner is None
