"""The RunStore contract: runs, CAS, cancel, leases, the ledger and purge (every store)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from openai_trigger_bot.runs import (
    ApprovalNotFound,
    ApprovalVote,
    LedgerEntryNotFound,
    RunBusy,
    RunConflict,
    RunFinished,
    RunNotFound,
    RunStore,
    new_owner,
)

from ._helpers import approval, run


def test_a_run_and_its_approvals_round_trip(store: RunStore) -> None:
    record = run(lease_owner="me", lease_until=500.0)
    rows = [approval("ap-1"), approval("ap-2", required=2, data={"decision": {"risk": "high"}})]
    store.create(record, rows)
    assert store.load("run-1") == record
    assert store.get_approval("ap-1") == rows[0]
    assert store.get_approval("ap-2") == rows[1]


def test_create_starts_at_version_one_and_refuses_a_duplicate(store: RunStore) -> None:
    store.create(run(version=7), [])
    assert store.load("run-1").version == 1
    with pytest.raises(RunConflict, match="already exists"):
        store.create(run(), [])


def test_unknown_ids_say_how_to_list_them(store: RunStore) -> None:
    with pytest.raises(RunNotFound, match="trigger-bot runs list"):
        store.load("nope")
    with pytest.raises(ApprovalNotFound, match="trigger-bot approvals list"):
        store.get_approval("nope")
    with pytest.raises(ApprovalNotFound):
        store.decide("nope", ApprovalVote(approved=True, at=1), now=1)
    with pytest.raises(RunNotFound):
        store.cancel("nope", now=1)
    with pytest.raises(RunNotFound):
        store.save("nope", expected_version=1, status="running", state={}, now=1)


def test_callers_cannot_change_stored_data_by_mutating_records(store: RunStore) -> None:
    record = run()
    store.create(record, [approval()])
    record.state["outputs"].append("sneaky")
    store.load("run-1").state["outputs"].append("sneaky")
    store.get_approval("ap-1").arguments["role"] = "admin"
    assert store.load("run-1").state["outputs"] == [{"call_id": "c0", "output": "ok"}]
    assert store.get_approval("ap-1").arguments["role"] == "operator"


def test_save_is_a_compare_and_swap(store: RunStore) -> None:
    store.create(run(), [approval()])
    read_by_a = store.load("run-1")
    read_by_b = store.load("run-1")
    saved = store.save(
        "run-1",
        expected_version=read_by_a.version,
        status="running",
        state={"round": 2},
        approvals=[approval("ap-2")],
        now=150.0,
    )
    assert (saved.version, saved.status, saved.state, saved.updated_at) == (
        2,
        "running",
        {"round": 2},
        150.0,
    )
    with pytest.raises(RunConflict, match=r"changed since it was read.*read it again"):
        store.save(
            "run-1", expected_version=read_by_b.version, status="completed", state={}, now=151
        )
    assert store.load("run-1") == saved  # the stale save changed nothing
    assert store.get_approval("ap-2").status == "pending"


def test_save_upserts_approval_rows(store: RunStore) -> None:
    store.create(run(), [approval()])
    updated = approval(data={"decision": {"risk": "low"}})
    store.save(
        "run-1", expected_version=1, status="suspended", state={}, approvals=[updated], now=2
    )
    assert store.get_approval("ap-1").data == {"decision": {"risk": "low"}}


def test_save_refuses_an_approval_of_another_run(store: RunStore) -> None:
    store.create(run(), [])
    with pytest.raises(ValueError, match="belongs to run other"):
        store.save(
            "run-1",
            expected_version=1,
            status="suspended",
            state={},
            approvals=[approval(run_id="other")],
            now=2,
        )


def test_cancel_closes_the_run_and_its_pending_approvals(store: RunStore) -> None:
    store.create(run(), [approval("ap-1"), approval("ap-2")])
    store.decide("ap-2", ApprovalVote(approved=False, at=150), now=150)
    cancelled = store.cancel("run-1", now=160.0)
    assert (cancelled.status, cancelled.version, cancelled.updated_at) == ("cancelled", 3, 160.0)
    assert store.get_approval("ap-1").status == "cancelled"
    assert store.get_approval("ap-1").decided_at == 160.0
    assert store.get_approval("ap-2").status == "denied"  # decided rows keep their answer
    with pytest.raises(RunConflict, match="cancelled run stays cancelled"):
        store.save("run-1", expected_version=3, status="running", state={}, now=170)
    with pytest.raises(RunFinished, match="is cancelled"):
        store.cancel("run-1", now=170)


@pytest.mark.parametrize("status", ["completed", "error", "deadline"])
def test_a_finished_run_cannot_be_cancelled(store: RunStore, status: str) -> None:
    store.create(run(status=status), [])
    with pytest.raises(RunFinished, match=f"run run-1 is {status}"):
        store.cancel("run-1", now=170)
    assert store.load("run-1").status == status


def test_list_runs_newest_first_with_filters(store: RunStore) -> None:
    store.create(run("old", at=1.0), [])
    store.create(run("new", at=3.0, bot="other"), [])
    store.create(run("mid", at=2.0, status="completed"), [])
    assert [r.run_id for r in store.list_runs()] == ["new", "mid", "old"]
    assert [r.run_id for r in store.list_runs(status="suspended")] == ["new", "old"]
    assert [r.run_id for r in store.list_runs(bot="helpdesk")] == ["mid", "old"]
    assert [r.run_id for r in store.list_runs(limit=1)] == ["new"]


def test_list_and_count_approvals(store: RunStore) -> None:
    store.create(run(), [approval("a", created_at=1), approval("b", created_at=2)])
    store.create(
        run("run-2", bot="other"),
        [approval("c", "run-2", bot="other", created_at=3, expires_at=50.0)],
    )
    store.decide("a", ApprovalVote(approved=True, at=10), now=10)
    assert [a.id for a in store.list_approvals()] == ["c", "b"]
    assert [a.id for a in store.list_approvals(status=None)] == ["c", "b", "a"]
    assert [a.id for a in store.list_approvals(status="approved")] == ["a"]
    assert [a.id for a in store.list_approvals(bot="helpdesk")] == ["b"]
    assert [a.id for a in store.list_approvals(status=None, run_id="run-1")] == ["b", "a"]
    assert store.count_pending("helpdesk", now=10) == 1
    assert store.count_pending("other", now=10) == 1
    assert store.count_pending("other", now=60) == 0  # expired, though not yet marked


# -- leases ---------------------------------------------------------------------------------


def test_a_live_owner_keeps_its_lease(store: RunStore) -> None:
    store.create(run(), [])
    mine, theirs = new_owner(), new_owner()  # this process is alive: both owners are
    claimed = store.claim("run-1", owner=mine, lease_s=30, now=100)
    assert (claimed.lease_owner, claimed.lease_until, claimed.version) == (mine, 130, 2)
    with pytest.raises(RunBusy, match="being resumed by") as caught:
        store.claim("run-1", owner=theirs, lease_s=30, now=110)
    assert caught.value.owner == mine
    assert store.claim("run-1", owner=mine, lease_s=30, now=110).lease_until == 140  # renewal


def test_an_expired_lease_can_be_taken(store: RunStore) -> None:
    store.create(run(), [])
    store.claim("run-1", owner=new_owner(), lease_s=30, now=100)
    other = new_owner()
    assert store.claim("run-1", owner=other, lease_s=30, now=131).lease_owner == other


def test_a_lease_of_another_host_holds_until_it_ends(store: RunStore) -> None:
    store.create(run(), [])
    store.claim("run-1", owner="elsewhere.example:1:abcd", lease_s=30, now=100)
    with pytest.raises(RunBusy):
        store.claim("run-1", owner=new_owner(), lease_s=30, now=129)


def test_a_dead_owner_on_this_host_loses_its_lease_at_once(store: RunStore) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "from openai_trigger_bot.runs import new_owner; print(new_owner())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = child.stdout.strip()  # its process has exited
    store.create(run(), [])
    store.claim("run-1", owner=dead, lease_s=3600, now=100)
    mine = new_owner()
    assert store.claim("run-1", owner=mine, lease_s=30, now=101).lease_owner == mine


def test_release_clears_only_the_owners_lease(store: RunStore) -> None:
    store.create(run(), [])
    mine = new_owner()
    store.claim("run-1", owner=mine, lease_s=30, now=100)
    store.release("run-1", "someone-else")
    assert store.load("run-1").lease_owner == mine
    store.release("run-1", mine)
    record = store.load("run-1")
    assert (record.lease_owner, record.lease_until) == (None, None)
    store.claim("run-1", owner=new_owner(), lease_s=30, now=101)  # free again


# -- ledger ---------------------------------------------------------------------------------


def test_the_ledger_records_each_execution_once(store: RunStore) -> None:
    assert store.ledger_start("k1", run_id="run-1", call_id="c1", action="pay", now=1) is None
    again = store.ledger_start("k1", run_id="run-1", call_id="c1", action="pay", now=2)
    assert again is not None
    assert (again.status, again.started_at) == ("started", 1)  # never overwritten
    done = store.ledger_finish("k1", {"output": "paid"}, now=3)
    assert (done.status, done.finished_at, done.result) == ("finished", 3, {"output": "paid"})
    after = store.ledger_start("k1", run_id="run-1", call_id="c1", action="pay", now=4)
    assert after == done
    assert store.ledger_get("k1") == done
    assert store.ledger_get("k2") is None
    with pytest.raises(RunConflict, match="already finished"):
        store.ledger_finish("k1", {"output": "again"}, now=5)
    assert store.ledger_get("k1") == done
    with pytest.raises(LedgerEntryNotFound):
        store.ledger_finish("k2", {}, now=5)


def test_ledger_for_run_in_start_order(store: RunStore) -> None:
    store.ledger_start("b", run_id="run-1", call_id="c2", action="pay", now=2)
    store.ledger_start("a", run_id="run-1", call_id="c1", action="pay", now=1)
    store.ledger_start("z", run_id="run-2", call_id="c1", action="pay", now=1)
    assert [e.key for e in store.ledger_for_run("run-1")] == ["a", "b"]


def test_ledger_start_from_many_threads_lets_exactly_one_in(store: RunStore) -> None:
    results: list[object] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(store.ledger_start("k", run_id="r", call_id="c", action="a", now=1))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(None) == 1


# -- purge ----------------------------------------------------------------------------------


def test_purge_removes_old_finished_runs_with_their_records(store: RunStore) -> None:
    for run_id, status, at in [
        ("done-old", "completed", 10.0),
        ("cancelled-old", "cancelled", 10.0),
        ("error-old", "error", 10.0),
        ("done-new", "completed", 500.0),
        ("waiting-old", "suspended", 10.0),
        ("running-old", "running", 10.0),
    ]:
        store.create(run(run_id, status=status, at=at), [approval(f"ap-{run_id}", run_id)])
        store.ledger_start(f"k-{run_id}", run_id=run_id, call_id="c", action="pay", now=at)
    assert store.purge(older_than=100.0) == 3
    left = {r.run_id for r in store.list_runs()}
    assert left == {"done-new", "waiting-old", "running-old"}
    assert {a.run_id for a in store.list_approvals(status=None)} == left
    assert store.ledger_get("k-done-old") is None
    assert store.ledger_get("k-waiting-old") is not None
    assert store.purge(older_than=100.0) == 0
