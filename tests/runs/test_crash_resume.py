"""Crash tests (issue 10, "Tests"): a resume SIGKILLed at each point, then resumed in a new
process, runs every approved action exactly once (or leaves it ``unknown``, never twice) and
loses nothing recorded; two processes resuming one run at once: exactly one executes; a
resumer that read the run before another process finished it (or moved it on) is refused.

Every process is a fresh interpreter building the same bot (``_crash_bot``) against one run
store file and one scripted Responses API served over HTTP by this process (the real API keeps
responses server-side; so does the one fake instance here, strict as ever). Executions are
counted from the side-effect file the actions append to, not from any process's memory.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot import Bot
from openai_trigger_bot.cli import main
from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.runs import ApprovalVote, LedgerEntry, SQLiteRunStore
from openai_trigger_bot.testing import ScriptedResponses, ScriptedServer, function_call, message

from ._crash_bot import make_bot
from ._procs import Child, child_argv, crash_env, effects, outcome

BOT = "tests.runs._crash_bot:bot"
ARGUMENTS = {"pay": {"invoice": "A-1"}, "refresh": {"cache": "rates"}}


def script(risky: str) -> ScriptedResponses:
    """Round 1: a lookup (runs at once) and a risky call (waits for approval); then text."""
    return ScriptedResponses(
        [
            [function_call("lookup", {"query": "A-1"}), function_call(risky, ARGUMENTS[risky])],
            [message("Settled.")],
        ]
    )


@pytest.fixture
def served() -> Iterator[tuple[ScriptedResponses, ScriptedServer]]:
    scripted = script("pay")
    with scripted.serve() as server:
        yield scripted, server


@contextlib.contextmanager
def local_bot(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    """The same bot, built in this process (the children build theirs from ``env`` too)."""
    for name in ("CRASH_BASE_URL", "CRASH_STORE", "CRASH_EFFECTS"):
        monkeypatch.setenv(name, env[name])
    made = make_bot()
    try:
        with made:
            yield made
    finally:
        made.run_store.close()  # passed in, so the bot does not own it


def start(
    env: dict[str, str], tmp: Path, risky: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], str]:
    """Start the run (here: only resumes need new processes); the suspended result and its
    one approval id."""
    with local_bot(env, monkeypatch) as made:
        first = made.run(made.triggers["invoice"]()).model_dump(mode="json")
    assert first["status"] == "approval_required"
    (pending,) = first["pending_approvals"]
    assert pending["action"] == risky
    assert [(e["tool"], e["status"]) for e in first["events"]] == [
        ("lookup", "executed"),
        (risky, "approval_required"),
    ]
    assert effects(tmp) == ["lookup:A-1"]
    return first, pending["id"]


def ledger_of(tmp: Path, run_id: str) -> dict[str, LedgerEntry]:
    with SQLiteRunStore(tmp / "runs.db") as store:
        return {e.action: e for e in store.ledger_for_run(run_id)}


def outputs(request: dict[str, Any]) -> dict[str, str]:
    """The tool outputs a request sends, by call id."""
    return {
        i["call_id"]: i["output"]
        for i in request["input"]
        if i.get("type") == "function_call_output"
    }


# point where the resuming process dies -> (run status then, ledger status of the risky call)
AT_CRASH = {
    "decided": ("suspended", None),  # decision stored; nothing claimed or run
    "claimed": ("running", None),  # lease held by the (now dead) process; not run
    "started": ("running", "started"),  # the action ran (its effect is written)
    "finished": ("running", "finished"),  # the result recorded; the model not asked yet
}

CASES = [
    # (point, risky action, its final event, how many times it ran in all)
    ("decided", "pay", "executed", 1),
    ("claimed", "pay", "executed", 1),
    ("started", "pay", "unknown", 1),
    ("finished", "pay", "executed", 1),
    ("started", "refresh", "executed", 2),  # @action(idempotent=True): safe to run again
]


@pytest.mark.parametrize(("point", "risky", "final", "runs"), CASES)
def test_a_resume_killed_at_any_point_never_runs_an_approved_action_twice(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    risky: str,
    final: str,
    runs: int,
) -> None:
    scripted = script(risky)
    with scripted.serve() as server:
        env = crash_env(server.base_url, tmp_path)
        first, approval_id = start(env, tmp_path, risky, monkeypatch)
        run_id = first["run_id"]

        doomed = Child(
            child_argv(tmp_path, "doomed", "resume", run_id, approval_id),
            env,
            tmp_path,
            "doomed",
            pause=[point],
        )
        doomed.reach(point)
        doomed.kill()

        # What the killed process left: the decision, and the ledger as far as it got.
        with SQLiteRunStore(tmp_path / "runs.db") as store:
            assert store.load(run_id).status == AT_CRASH[point][0]
            (row,) = store.list_approvals(status=None, run_id=run_id)
            assert (row.id, row.status, [v.approver for v in row.votes]) == (
                approval_id,
                "approved",
                ["ann"],
            )
        ledger = ledger_of(tmp_path, run_id)
        assert ledger["lookup"].status == "finished"
        assert (ledger[risky].status if risky in ledger else None) == AT_CRASH[point][1]
        assert len(scripted.requests) == 1  # the model never heard from the killed process

        # A new process resumes it, as an operator would: the decision is already stored.
        revived = Child(
            ["-m", "openai_trigger_bot.cli", "runs", "resume", run_id, "--bot", BOT],
            env,
            tmp_path,
            "revived",
        )
        assert revived.finish() == 0, revived.output()

    # Executions, counted from the side-effect file.
    name = next(iter(ARGUMENTS[risky].values()))
    assert effects(tmp_path).count(f"{risky}:{name}") == runs
    assert effects(tmp_path).count("lookup:A-1") == 1

    # The model heard the round once, on top of the stored response, with one output per call.
    assert len(scripted.requests) == 2
    second = scripted.requests[1]
    assert second["previous_response_id"] == first["last_response_id"]
    lookup_call, risky_call = (e["call_id"] for e in first["events"])
    told = outputs(second)
    assert list(told) == [lookup_call, risky_call]
    assert told[lookup_call] == "found A-1"

    # Nothing recorded is lost: the run, its approval, its ledger, one event per proposed call.
    with SQLiteRunStore(tmp_path / "runs.db") as store:
        record = store.load(run_id)
        (row,) = store.list_approvals(status=None, run_id=run_id)
    assert record.status == "completed"
    assert record.lease_owner is None
    assert (row.status, [v.approver for v in row.votes]) == ("approved", ["ann"])
    result = record.state["result"]
    assert result["status"] == "completed" and result["text"] == "Settled."
    assert [(e["call_id"], e["tool"], e["status"]) for e in result["events"]] == [
        (lookup_call, "lookup", "executed"),
        (risky_call, risky, final),
    ]
    ledger = ledger_of(tmp_path, run_id)
    assert sorted(ledger) == sorted(["lookup", risky])
    assert ledger["lookup"].status == "finished"

    if final == "unknown":
        # Not run again; the model is told so, and the operator sees it.
        assert ledger[risky].status == "started"
        assert told[risky_call].startswith("Unknown:")
        monkeypatch.setenv("COLUMNS", "250")
        assert main(["runs", "show", run_id, "--store", str(tmp_path / "runs.db")]) == 0
        shown = capsys.readouterr().out
        assert "started (unknown if interrupted)" in shown
    else:
        entry = ledger[risky]
        assert entry.status == "finished" and entry.result is not None
        recorded = entry.result["output_item"]["output"]  # what the model receives, as recorded
        assert told[risky_call] == recorded == f"{'paid' if risky == 'pay' else 'refreshed'} {name}"


def test_two_processes_resuming_one_run_at_once_execute_it_once(
    tmp_path: Path,
    served: tuple[ScriptedResponses, ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripted, server = served
    env = crash_env(server.base_url, tmp_path)
    first, approval_id = start(env, tmp_path, "pay", monkeypatch)
    run_id = first["run_id"]
    with SQLiteRunStore(tmp_path / "runs.db") as store:  # approved from the CLI's side, say
        now = time.time()
        store.decide(approval_id, ApprovalVote(approved=True, approver="ann", at=now), now=now)

    both = [
        Child(
            child_argv(tmp_path, name, "resume", run_id),
            env,
            tmp_path,
            name,
            pause=["claim", "started"],
        )
        for name in ("left", "right")
    ]
    for child in both:  # both about to claim the run's lease
        child.reach("claim")
    for child in both:
        child.go()
    # One claims it and stops inside the action; the other is refused and exits meanwhile.
    points = {child.name: child.next_point() for child in both}
    assert sorted(points.values(), key=str) == [None, "started"], points
    (winner,) = (c for c in both if points[c.name] == "started")
    (loser,) = (c for c in both if points[c.name] is None)
    assert loser.finish() == 3, loser.output()
    refused = outcome(tmp_path, loser.name)
    assert refused["error"] == "RunBusy"
    assert f"run {run_id} is being resumed by" in refused["message"]
    assert effects(tmp_path).count("pay:A-1") == 1

    winner.go()
    assert winner.finish() == 0, winner.output()
    result = outcome(tmp_path, winner.name)["result"]
    assert result["status"] == "completed"
    assert [(e["tool"], e["status"]) for e in result["events"]] == [
        ("lookup", "executed"),
        ("pay", "executed"),
    ]

    # Late comers find it ended; nothing ran twice; the model heard the round once.
    with local_bot(env, monkeypatch) as made, pytest.raises(UsageError, match="already ended"):
        made.resume(run_id, {})
    assert effects(tmp_path) == ["lookup:A-1", "pay:A-1"]
    assert len(scripted.requests) == 2


def test_a_resumer_that_read_the_run_before_another_finished_it_is_refused(
    tmp_path: Path,
    served: tuple[ScriptedResponses, ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The slow one read the suspended run, then the other finished it and gave the lease back:
    the slow one must not claim the ended run (asking the model that round again and saving
    over the finished result)."""
    scripted, server = served
    env = crash_env(server.base_url, tmp_path)
    first, approval_id = start(env, tmp_path, "pay", monkeypatch)
    run_id = first["run_id"]
    slow = Child(
        child_argv(tmp_path, "slow", "resume", run_id, approval_id),
        env,
        tmp_path,
        "slow",
        pause=["claim"],
    )
    slow.reach("claim")  # decided and read the run; about to claim it
    with local_bot(env, monkeypatch) as made:
        done = made.resume(run_id, {})
    assert done.status == "completed"
    with SQLiteRunStore(tmp_path / "runs.db") as store:
        before = store.load(run_id)

    assert slow.finish() == 3, slow.output()
    refused = outcome(tmp_path, "slow")
    assert "already ended" in refused["message"], refused
    assert effects(tmp_path) == ["lookup:A-1", "pay:A-1"]
    assert len(scripted.requests) == 2  # the model was not asked that round again
    with SQLiteRunStore(tmp_path / "runs.db") as store:
        after = store.load(run_id)
    assert (after.status, after.version, after.state) == ("completed", before.version, before.state)


def test_a_resumer_that_read_the_run_before_another_moved_it_on_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow one read the run at round 1; meanwhile the other resumed it, and it suspended
    again at round 2: the slow one must not continue round 1 (asking the model that round again
    and saving over round 2's state and its pending approval)."""
    scripted = ScriptedResponses(
        [
            [function_call("lookup", {"query": "A-1"}), function_call("pay", ARGUMENTS["pay"])],
            [function_call("refresh", ARGUMENTS["refresh"])],
            [message("Settled.")],
        ]
    )
    with scripted.serve() as server:
        env = crash_env(server.base_url, tmp_path)
        first, approval_id = start(env, tmp_path, "pay", monkeypatch)
        run_id = first["run_id"]
        slow = Child(
            child_argv(tmp_path, "slow", "resume", run_id, approval_id),
            env,
            tmp_path,
            "slow",
            pause=["claim"],
        )
        slow.reach("claim")
        with local_bot(env, monkeypatch) as made:
            again = made.resume(run_id, {})
        assert again.status == "approval_required"  # round 2 waits for its own approval
        with SQLiteRunStore(tmp_path / "runs.db") as store:
            before = store.load(run_id)
        status = slow.finish()

    assert status == 3, slow.output()
    assert outcome(tmp_path, "slow")["error"] == "RunConflict"
    assert len(scripted.requests) == 2  # round 1 was answered once
    assert effects(tmp_path) == ["lookup:A-1", "pay:A-1"]
    with SQLiteRunStore(tmp_path / "runs.db") as store:
        after = store.load(run_id)
        pending = store.list_approvals(status="pending", run_id=run_id)
    assert (after.status, after.state) == ("suspended", before.state)
    assert [p.action for p in pending] == ["refresh"]
