"""Suspend and resume: a run waiting for approval is stored, then continued with the decisions,
in this process or from another bot with the same definition (issue 10 §3)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot import (
    Approval,
    ApprovalRequest,
    BotSettings,
    RunResult,
    UsageError,
    action,
)
from openai_trigger_bot._run.state import ResumeRefused
from openai_trigger_bot.governance import Decision, ProposedAction
from openai_trigger_bot.runs import ApprovalClosed, RunFinished, SQLiteRunStore
from openai_trigger_bot.testing import (
    ScriptedResponses,
    api_error,
    function_call,
    message,
    response_body,
)

from ._ops_bot import Clock, lookup, make_bot, ran, restart, rotate, start
from ._ops_bot import clear_ran as clear_ran  # autouse: each test starts with nothing ran


@action(risk="high", secret=["password"])
def set_password(user: str, password: str) -> str:
    """Set a password.

    Args:
        user: The user.
        password: The new password.
    """
    ran.append(f"set:{user}:{password}")
    return "set"


def two_calls() -> ScriptedResponses:
    return ScriptedResponses(
        [
            [
                function_call("lookup", {"query": "disk"}),
                function_call("restart", {"cluster": "prod"}),
            ],
            [message("done")],
        ]
    )


def test_a_run_waiting_for_approval_suspends_and_lists_what_waits() -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:
        result = start(bot)
    assert result.status == "approval_required"
    assert ran == ["lookup:disk"]  # the other call of the round ran; the risky one waits
    (pending,) = result.pending_approvals
    assert (pending.action, pending.arguments, pending.run_id) == (
        "restart",
        {"cluster": "prod"},
        result.run_id,
    )
    assert pending.decision is not None and pending.decision.recommendation == "review_recommended"
    assert pending.expires_at == 1_000_000.0 + 3600
    assert [e.status for e in result.events] == ["executed", "approval_required"]
    assert len(scripted.requests) == 1


def test_resume_runs_the_approved_call_once_and_answers_the_stored_response() -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        result = bot.resume(first.run_id, {approval: Approval(approved=True, approver="ann")})
    assert result.status == "completed"
    assert result.run_id == first.run_id
    assert ran == ["lookup:disk", "restart:prod"]
    # one request after the first: the round's two outputs (the one settled before the
    # suspension, kept in the state, and the approved one) on top of the stored response
    assert len(scripted.requests) == 2
    second = scripted.requests[1]
    assert second["previous_response_id"] == first.last_response_id
    assert [i["call_id"] for i in second["input"]] == [c.call_id for c in first.events]
    assert second["input"][1]["output"] == "restarted prod"
    # one event per proposed call: the approval_required one is replaced by its outcome
    assert [(e.tool, e.status) for e in result.events] == [
        ("lookup", "executed"),
        ("restart", "executed"),
    ]
    event = result.events[1]
    assert event.approval is not None and event.approval.resolution == "approved"
    assert event.approval.approver == "ann"
    assert [c.round for c in result.model_calls] == [1, 2]


def test_a_finished_run_cannot_be_resumed_again() -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:
        first = start(bot)
        bot.resume(first.run_id, {first.pending_approvals[0].id: True})
        with pytest.raises(Exception, match="already ended"):
            bot.resume(first.run_id, {})
    assert ran.count("restart:prod") == 1


def test_an_approval_is_single_use() -> None:
    scripted = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "a"}), function_call("rotate", {"service": "b"})],
            [message("done")],
        ]
    )
    with make_bot(scripted) as bot:
        first = start(bot)
        a, b = (p.id for p in first.pending_approvals)
        waiting = bot.resume(first.run_id, {a: True})  # b still waits: nothing runs
        assert waiting.status == "approval_required"
        assert [p.id for p in waiting.pending_approvals] == [b]
        assert ran == [] and len(scripted.requests) == 1
        with pytest.raises(ApprovalClosed):
            bot.resume(first.run_id, {a: False})
        result = bot.resume(first.run_id, {b: True})
    assert result.status == "completed"
    assert sorted(ran) == ["restart:a", "rotate:b"]


def test_denied_and_expired_are_told_apart() -> None:
    clock = Clock()
    scripted = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "a"}), function_call("rotate", {"service": "b"})],
            [message("done")],
        ]
    )
    with make_bot(scripted, clock=clock) as bot:
        first = start(bot)
        a, _b = (p.id for p in first.pending_approvals)
        bot.resume(first.run_id, {a: {"resolution": "denied", "comment": "not now"}})
        clock.now += 3601  # the other approval expires before anyone decides it
        result = bot.resume(first.run_id, {})
    assert ran == []
    assert [e.status for e in result.events] == ["denied", "expired"]
    assert result.events[0].approval is not None
    assert result.events[0].approval.comment == "not now"
    outputs = [i["output"] for i in scripted.requests[1]["input"]]
    assert outputs[0].startswith("Not run: a reviewer declined")
    assert outputs[1].startswith("Not run: the approval for this call expired")


def test_an_approval_given_in_time_but_used_after_expiry_is_expired() -> None:
    clock = Clock()
    scripted = two_calls()
    store_path = None
    with make_bot(scripted, clock=clock, store=store_path) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        bot.run_store.decide(
            approval, _vote(True, "ann", clock.now), now=clock.now
        )  # decided (by the CLI, say) in time...
        clock.now += 7200  # ...but the run is resumed after the approval expired
        result = bot.resume(first.run_id)
    assert result.events[1].status == "expired"
    assert "restart:prod" not in ran


def _vote(approved: bool, approver: str | None, at: float) -> Any:
    from openai_trigger_bot.runs import ApprovalVote

    return ApprovalVote(approved=approved, approver=approver, at=at)


def test_resume_from_another_bot_with_the_same_definition(tmp_path: Path) -> None:
    """A SQLite run store is shared: a second bot (another process, in production) resumes."""
    scripted = two_calls()
    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path) as bot:
        first = start(bot)
    with make_bot(scripted, store=path) as other:
        result = other.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert result.status == "completed"
    assert ran == ["lookup:disk", "restart:prod"]
    with SQLiteRunStore(path) as store:
        assert store.load(first.run_id).status == "completed"
        (entry,) = [e for e in store.ledger_for_run(first.run_id) if e.action == "restart"]
        assert entry.status == "finished"


def test_resume_against_a_changed_bot_is_refused(tmp_path: Path) -> None:
    scripted = two_calls()
    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path) as bot:
        first = start(bot)

    @action(risk="high", name="restart")
    def restart_v2(cluster: str, force: bool) -> str:
        """Restart a cluster.

        Args:
            cluster: Cluster name.
            force: Skip draining.
        """
        ran.append("v2")
        return "x"

    changed = make_bot(scripted, store=path, actions=(restart_v2, rotate, lookup))
    with changed, pytest.raises(ResumeRefused, match="restart"):
        changed.resume(first.run_id, {first.pending_approvals[0].id: True})
    gone = make_bot(scripted, store=path, actions=(rotate, lookup))
    with gone, pytest.raises(ResumeRefused, match="gone: restart"):
        gone.resume(first.run_id, {})
    assert "v2" not in ran
    # the run still waits, untouched, for the right definition
    with make_bot(scripted, store=path) as bot:
        assert bot.resume(first.run_id).status == "approval_required"


def test_cancel_ends_a_suspended_run(tmp_path: Path) -> None:
    scripted = two_calls()
    with make_bot(scripted, store=tmp_path / "runs.db") as bot:
        first = start(bot)
        bot.cancel(first.run_id)
        with pytest.raises(Exception, match="cancelled"):
            bot.resume(first.run_id, {first.pending_approvals[0].id: True})
        with pytest.raises(RunFinished):
            bot.cancel(first.run_id)
        assert bot.run_store.get_approval(first.pending_approvals[0].id).status == "cancelled"
    assert "restart:prod" not in ran


def test_the_policy_is_asked_again_before_an_approved_call_runs() -> None:
    class Switch:
        def __init__(self) -> None:
            self.block = False

        def evaluate(self, proposal: ProposedAction) -> Decision:
            if proposal.action == "lookup":
                return Decision(recommendation="proceed")
            if self.block:
                return Decision(recommendation="do_not_proceed", reason="change freeze")
            return Decision(recommendation="review_recommended", policy_version="1")

    policy = Switch()
    scripted = two_calls()
    with make_bot(scripted, policy=policy) as bot:
        first = start(bot)
        policy.block = True  # a change freeze starts while the approval waits
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert result.events[1].status == "blocked"
    assert "restart:prod" not in ran


def test_an_approval_does_not_hold_under_another_policy_version() -> None:
    class Versioned:
        version = "1"

        def evaluate(self, proposal: ProposedAction) -> Decision:
            if proposal.action == "lookup":
                return Decision(recommendation="proceed")
            return Decision(recommendation="review_recommended", policy_version=self.version)

    policy = Versioned()
    scripted = two_calls()
    with make_bot(scripted, policy=policy) as bot:
        first = start(bot)
        policy.version = "2"
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    event = result.events[1]
    assert (event.status, event.failure) == ("blocked", "approval_stale")
    assert "restart:prod" not in ran


@pytest.mark.parametrize(
    ("edit", "status", "expected_run"),
    [
        ({"cluster": "staging"}, "executed", "restart:staging"),
        ({"cluster": 7}, "blocked", None),  # not valid for the schema
        ({"nodes": 3}, "blocked", None),  # unknown parameter
    ],
)
def test_an_edit_is_validated_and_decided_again(
    edit: dict[str, Any], status: str, expected_run: str | None
) -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:
        first = start(bot)
        answer = Approval(approved=True, approver="ann", arguments=edit)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: answer})
    event = result.events[1]
    assert event.status == status
    if expected_run:
        assert expected_run in ran and "restart:prod" not in ran
        assert event.arguments == edit
    else:
        assert not any(r.startswith("restart") for r in ran)
        assert event.failure == "invalid_edit"


def test_an_edit_the_policy_blocks_is_blocked() -> None:
    class NoProd:
        def evaluate(self, proposal: ProposedAction) -> Decision:
            if proposal.action == "lookup":
                return Decision(recommendation="proceed")
            if proposal.arguments.get("cluster") == "all":
                return Decision(recommendation="do_not_proceed", reason="too broad")
            return Decision(recommendation="review_recommended")

    scripted = two_calls()
    with make_bot(scripted, policy=NoProd()) as bot:
        first = start(bot)
        answer = Approval(approved=True, arguments={"cluster": "all"})
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: answer})
    assert result.events[1].status == "blocked"
    assert not any(r.startswith("restart") for r in ran)


def test_stateless_resume_resends_the_run_with_the_round_outputs() -> None:
    scripted = two_calls()
    with make_bot(scripted, settings=BotSettings(store=False)) as bot:
        first = start(bot)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert result.status == "completed"
    second = scripted.requests[1]
    assert "previous_response_id" not in second
    kinds = [i.get("type", i.get("role")) for i in second["input"]]
    assert kinds[-4:] == ["function_call", "function_call", "function_call_output"] * 1 + [
        "function_call_output"
    ]


def test_arun_and_aresume() -> None:
    scripted = two_calls()

    async def go() -> RunResult:
        async with make_bot(scripted) as bot:
            first = await bot.arun(bot.triggers["incident"]())
            return await bot.aresume(first.run_id, {first.pending_approvals[0].id: True})

    assert asyncio.run(go()).status == "completed"
    assert ran == ["lookup:disk", "restart:prod"]


def test_the_store_never_holds_a_secret_value(tmp_path: Path) -> None:
    secret = "hunter2-Xq9!"
    scripted = ScriptedResponses(
        [
            [function_call("set_password", {"user": "ann", "password": secret})],
            [message("done")],
            [message("done")],
        ]
    )
    path = tmp_path / "runs.db"
    actions = (set_password, lookup)
    with make_bot(scripted, store=path, actions=actions) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        written = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file and its WAL
        assert b"ann" in written  # the run is there...
        assert secret.encode() not in written  # ...without the secret
        # this process kept the real arguments in memory: it can run the call
        same = bot.resume(first.run_id, {approval: True})
    assert same.events[0].status == "executed"
    assert ran == [f"set:ann:{secret}"]
    assert secret not in same.model_dump_json()


def test_a_secret_call_cannot_run_after_a_restart(tmp_path: Path) -> None:
    scripted = ScriptedResponses(
        [[function_call("set_password", {"user": "ann", "password": "s3cr3t-pw"})], [message("x")]]
    )
    path = tmp_path / "runs.db"
    actions = (set_password, lookup)
    with make_bot(scripted, store=path, actions=actions) as bot:
        first = start(bot)
    with make_bot(scripted, store=path, actions=actions) as restarted:
        result = restarted.resume(first.run_id, {first.pending_approvals[0].id: True})
    event = result.events[0]
    assert (event.status, event.failure) == ("blocked", "secret_not_stored")
    assert ran == []


def test_finished_runs_are_purged_after_the_retention(tmp_path: Path) -> None:
    clock = Clock()
    scripted = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "a"})],
            [message("done")],
            [function_call("restart", {"cluster": "b"})],
            [message("done")],
        ]
    )
    settings = BotSettings(run_retention_s=3600)
    with make_bot(scripted, store=tmp_path / "runs.db", clock=clock, settings=settings) as bot:
        old = start(bot)
        bot.resume(old.run_id, {old.pending_approvals[0].id: True})
        assert bot.run_store.load(old.run_id).status == "completed"
        clock.now += 1800  # within the retention: kept
        new = start(bot)
        clock.now += 1900  # the old run is now 3700 s old; the new one's approval still holds
        bot.resume(new.run_id, {new.pending_approvals[0].id: True})
        assert [r.run_id for r in bot.run_store.list_runs()] == [new.run_id]


def test_governed_client_suspends_and_resumes_from_another_client(tmp_path: Path) -> None:
    from openai_trigger_bot import GovernedClient

    scripted = ScriptedResponses(
        [[function_call("restart", {"cluster": "prod"})], [message("restarted")]]
    )
    path = tmp_path / "runs.db"

    def client() -> GovernedClient:
        gc = GovernedClient(scripted.client(), name="ops-client", run_store=path)
        gc.register_tool(restart)
        return gc

    with client() as gc:
        first = gc.run(messages=[{"role": "user", "content": "restart prod"}], instructions="ops")
    assert first.status == "approval_required" and ran == []
    with client() as other:
        result = other.resume(first.run_id, {first.pending_approvals[0].id: True})
        assert result.status == "completed"
        with pytest.raises(RunFinished, match="is completed"):
            other.cancel(first.run_id)
    assert ran == ["restart:prod"]
    # the resumed request kept the run's instructions (from the stored request prefix)
    assert scripted.requests[1]["instructions"] == scripted.requests[0]["instructions"]


def test_without_a_run_store_only_resumed_runs_use_the_ledger() -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:  # the bot's own in-memory store
        first = start(bot)
        assert bot.run_store.ledger_for_run(first.run_id) == []  # lookup ran, unrecorded
        bot.resume(first.run_id, {first.pending_approvals[0].id: True})
        entries = bot.run_store.ledger_for_run(first.run_id)
    assert [(e.action, e.status) for e in entries] == [("restart", "finished")]


def test_repeating_a_resume_with_the_same_decision_is_not_an_error() -> None:
    """After a crash between recording the decision and running the call, the operator runs
    the same command again: the decision is recorded once, and the run goes on."""
    scripted = two_calls()
    with make_bot(scripted) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        bot.run_store.decide(approval, _vote(True, "ann", 1_000_000.0), now=1_000_000.0)
        result = bot.resume(first.run_id, {approval: Approval(approved=True, approver="ann")})
        assert len(bot.run_store.get_approval(approval).votes) == 1
    assert result.status == "completed"
    assert ran == ["lookup:disk", "restart:prod"]


NEW_SECRET = "N3w-Secr3t-Value!"


def test_an_edit_of_an_action_with_secrets_is_refused_on_resume_and_never_stored(
    tmp_path: Path,
) -> None:
    scripted = ScriptedResponses(
        [[function_call("set_password", {"user": "ann", "password": "old-pw-1"})], [message("x")]]
    )
    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path, actions=(set_password, lookup)) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        edit = Approval(approved=True, arguments={"user": "ann", "password": NEW_SECRET})
        with pytest.raises(UsageError, match="secret parameters"):
            bot.resume(first.run_id, {approval: edit})
        assert bot.run_store.get_approval(approval).status == "pending"  # nothing recorded
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert NEW_SECRET.encode() not in written
    assert ran == []


@pytest.mark.parametrize("approvals_required", [1, 2])
def test_a_handlers_edit_of_an_action_with_secrets_is_blocked(
    tmp_path: Path, approvals_required: int
) -> None:
    @action(
        risk="high", secret=["password"], approvals_required=approvals_required, name="set_password"
    )
    def set_pw(user: str, password: str) -> str:
        """Set a password.

        Args:
            user: The user.
            password: The new password.
        """
        ran.append(f"set:{user}:{password}")
        return "set"

    scripted = ScriptedResponses(
        [[function_call("set_password", {"user": "ann", "password": "old-pw-1"})], [message("x")]]
    )

    def handler(request: ApprovalRequest) -> Approval:
        return Approval(
            approved=True, approver="ann", arguments={"user": "ann", "password": NEW_SECRET}
        )

    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path, actions=(set_pw, lookup), approval_handler=handler) as bot:
        result = start(bot)
    event = result.events[0]
    assert (event.status, event.failure) == ("blocked", "invalid_edit")
    assert ran == []
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert NEW_SECRET.encode() not in written
    assert NEW_SECRET not in result.model_dump_json()


def test_an_approval_does_not_hold_once_the_action_needs_more_approvers(tmp_path: Path) -> None:
    """One person approved while the action needed one; the bot was then redeployed with the
    four-eyes rule for it: the stored single approval no longer suffices."""
    scripted = two_calls()
    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path) as bot:
        first = start(bot)
        bot.run_store.decide(
            first.pending_approvals[0].id, _vote(True, "alice", 1_000_000.0), now=1_000_000.0
        )

    @action(risk="high", name="restart", approvals_required=2)
    def restart_four_eyes(cluster: str) -> str:
        """Restart a cluster.

        Args:
            cluster: Cluster name.
        """
        ran.append(f"restart:{cluster}")
        return "restarted"

    with make_bot(scripted, store=path, actions=(restart_four_eyes, rotate, lookup)) as bot:
        result = bot.resume(first.run_id)
    event = result.events[1]
    assert (event.status, event.failure) == ("blocked", "approval_stale")
    assert "2 distinct approvers" in (event.error or "")
    assert "restart:prod" not in ran


@pytest.mark.parametrize("stateless", [False, True])
@pytest.mark.parametrize("failure", ["http", "failed_response"])
def test_a_model_error_after_the_resumed_round_keeps_the_run_for_a_retry(
    tmp_path: Path, stateless: bool, failure: str
) -> None:
    """The approved call ran, then the model call that reports it failed: the run is not over
    with the result unheard. It stays suspended; the next resume sends the same outputs again
    and the call does not run again."""
    failed = (
        api_error(400, "The server had an error.")
        if failure == "http"
        else response_body([], status="failed")
    )
    scripted = ScriptedResponses(
        [
            [
                function_call("lookup", {"query": "disk"}),
                function_call("restart", {"cluster": "prod"}),
            ],
            failed,
            [message("done")],
        ]
    )
    path = tmp_path / "runs.db"
    settings = BotSettings(store=not stateless)
    with make_bot(scripted, store=path, settings=settings) as bot:
        first = start(bot)
        broken = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
    assert broken.status == "error"
    assert "resume it" in (broken.error or "")
    assert ran == ["lookup:disk", "restart:prod"]
    with make_bot(scripted, store=path, settings=settings) as other:  # another process
        assert other.run_store.load(first.run_id).status == "suspended"
        result = other.resume(first.run_id)
    assert result.status == "completed"
    assert ran == ["lookup:disk", "restart:prod"]  # nothing ran twice
    retried, original = scripted.requests[2], scripted.requests[1]
    assert retried["input"] == original["input"]
    assert retried.get("previous_response_id") == original.get("previous_response_id")
    assert [e.status for e in result.events] == ["executed", "executed"]


def test_a_model_error_in_a_later_round_of_a_resumed_run_keeps_that_round(tmp_path: Path) -> None:
    scripted = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "prod"})],
            [function_call("lookup", {"query": "after"})],
            api_error(400, "The server had an error."),
            [message("done")],
        ]
    )
    path = tmp_path / "runs.db"
    with make_bot(scripted, store=path) as bot:
        first = start(bot)
        broken = bot.resume(first.run_id, {first.pending_approvals[0].id: True})
        assert broken.status == "error"
        result = bot.resume(first.run_id)
    assert result.status == "completed"
    assert ran == ["restart:prod", "lookup:after"]
    assert scripted.requests[3]["input"] == scripted.requests[2]["input"]
    assert (
        scripted.requests[3]["previous_response_id"] == scripted.requests[2]["previous_response_id"]
    )


def test_decisions_that_are_not_a_mapping_are_refused_clearly() -> None:
    scripted = two_calls()
    with make_bot(scripted) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        with pytest.raises(UsageError, match="must map approval ids to answers"):
            bot.resume(first.run_id, [approval])  # type: ignore[arg-type]
        assert bot.run_store.get_approval(approval).status == "pending"
    assert "restart:prod" not in ran
