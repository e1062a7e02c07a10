"""The approval rules of the governed-call pipeline, driven through a bot (issue 10 §2).

Four eyes, handler failures and their fail modes, expiry from the handler path, the
pending-approval cap, edits and suggested edits, and binding. Each table row states what
happens and what the model is told.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from openai_trigger_bot import Approval, ApprovalRequest, Bot, BotSettings, RunResult, action
from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.governance import Decision, ProposedAction
from openai_trigger_bot.runs import ApproverError, InMemoryRunStore
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from . import _ops_bot
from ._ops_bot import Clock, ran, restart, start
from ._ops_bot import clear_ran as clear_ran  # autouse: each test starts with nothing ran


@action(risk="high", approvals_required=2)
def drop_table(table: str) -> str:
    """Drop a table (four eyes).

    Args:
        table: Table name.
    """
    ran.append(f"drop:{table}")
    return f"dropped {table}"


def make_bot(scripted: ScriptedResponses, **options: Any) -> Bot:
    """The ops bot with this file's actions: the four-eyes ``drop_table`` and ``restart``."""
    return _ops_bot.make_bot(
        scripted, actions=(drop_table, restart), prompt="Handle it.", **options
    )


def calls(*items: tuple[str, dict[str, Any]], rounds: int = 2) -> ScriptedResponses:
    script: list[Any] = [[function_call(name, args) for name, args in items]]
    script += [[message("done")] for _ in range(rounds - 1)]
    return ScriptedResponses(script)


def outputs(scripted: ScriptedResponses, request: int = 1) -> list[str]:
    return [i["output"] for i in scripted.requests[request]["input"] if "output" in i]


# -- 1. four eyes ---------------------------------------------------------------------------


def ann_approves(request: ApprovalRequest) -> Approval:
    return Approval(approved=True, approver="ann")


def test_a_handlers_yes_is_one_vote_of_two_and_the_run_waits_for_the_second() -> None:
    scripted = calls(("drop_table", {"table": "t1"}))
    with make_bot(scripted, approval_handler=ann_approves) as bot:
        first = start(bot)
        assert first.status == "approval_required"
        (pending,) = first.pending_approvals
        assert (pending.approvals_required, pending.approvals) == (2, 1)
        assert ran == []
        result = bot.resume(first.run_id, {pending.id: Approval(approved=True, approver="bob")})
    assert result.status == "completed"
    assert ran == ["drop:t1"]
    assert result.events[0].status == "executed"


@pytest.mark.parametrize(
    "second",
    [
        Approval(approved=True, approver="ann"),  # the same person again
        Approval(approved=True, approver=" ANN "),  # ...however spelt
        Approval(approved=True),  # no name: cannot be told apart
        True,
    ],
    ids=["same", "same-spelt-otherwise", "unnamed-approval", "bare-true"],
)
def test_a_second_vote_that_is_not_a_distinct_person_is_refused(second: Any) -> None:
    scripted = calls(("drop_table", {"table": "t1"}))
    with make_bot(scripted, approval_handler=ann_approves) as bot:
        first = start(bot)
        approval = first.pending_approvals[0].id
        with pytest.raises(ApproverError):
            bot.resume(first.run_id, {approval: second})
        assert ran == []
        assert len(scripted.requests) == 1
        still = bot.resume(first.run_id, {})  # nothing lost: it still waits with one vote
    assert still.status == "approval_required"
    assert still.pending_approvals[0].approvals == 1


def test_one_denial_denies_a_four_eyes_call() -> None:
    scripted = calls(("drop_table", {"table": "t1"}))
    with make_bot(scripted, approval_handler=ann_approves) as bot:
        first = start(bot)
        deny = Approval(approved=False, approver="bob", comment="no")
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: deny})
    assert ran == []
    assert result.events[0].status == "denied"
    assert outputs(scripted)[0].startswith("Not run: a reviewer declined")


def test_an_edit_by_one_of_two_approvers_needs_the_others_agreement() -> None:
    """Four eyes: the second approver sees the model's arguments; one person's edit must not
    run on the strength of another's yes to something else."""
    scripted = calls(("drop_table", {"table": "t1"}))

    def ann_edits(request: ApprovalRequest) -> Approval:
        return Approval(approved=True, approver="ann", arguments={"table": "everything"})

    with make_bot(scripted, approval_handler=ann_edits) as bot:
        first = start(bot)
        (pending,) = first.pending_approvals
        assert pending.arguments == {"table": "t1"}  # what bob is shown
        result = bot.resume(first.run_id, {pending.id: Approval(approved=True, approver="bob")})
    assert "drop:everything" not in ran
    event = result.events[0]
    assert (event.status, event.failure) == ("blocked", "invalid_edit")


def test_an_edit_both_approvers_agree_on_runs() -> None:
    scripted = calls(("drop_table", {"table": "t1"}))
    edit = {"table": "t2"}

    def ann_edits(request: ApprovalRequest) -> Approval:
        return Approval(approved=True, approver="ann", arguments=edit)

    with make_bot(scripted, approval_handler=ann_edits) as bot:
        first = start(bot)
        bob = Approval(approved=True, approver="bob", arguments=edit)
        result = bot.resume(first.run_id, {first.pending_approvals[0].id: bob})
    assert ran == ["drop:t2"]
    assert result.events[0].arguments == edit


# -- 2. handler forms and failure -------------------------------------------------------------


def never_answers() -> Callable[[ApprovalRequest], Any]:
    async def handler(request: ApprovalRequest) -> bool:
        await asyncio.Event().wait()  # no one ever answers
        return True

    return handler


def test_a_handler_that_times_out_blocks_with_approval_error() -> None:
    scripted = calls(("restart", {"cluster": "prod"}))
    settings = BotSettings(approval_timeout_s=0.01)
    with make_bot(scripted, settings=settings, approval_handler=never_answers()) as bot:
        result = start(bot)
    event = result.events[0]
    assert (event.status, event.failure) == ("blocked", "approval_error")
    assert event.error is not None and "did not answer" in event.error
    assert ran == []
    assert outputs(scripted)[0].startswith("Not run: no valid approval could be obtained")


def test_a_failing_handler_can_leave_the_call_to_a_person() -> None:
    scripted = calls(("restart", {"cluster": "prod"}))
    settings = BotSettings(approval_timeout_s=0.01, approval_error="suspend")
    with make_bot(scripted, settings=settings, approval_handler=never_answers()) as bot:
        first = start(bot)
        assert first.status == "approval_required"
        (pending,) = first.pending_approvals
        assert bot.run_store.get_approval(pending.id).status == "pending"  # waits in the store
        assert ran == []
        result = bot.resume(first.run_id, {pending.id: True})
    assert ran == ["restart:prod"]
    assert result.status == "completed"


def test_a_sync_handler_runs_off_the_event_loop() -> None:
    seen: list[threading.Thread] = []
    loops: list[threading.Thread] = []

    def handler(request: ApprovalRequest) -> bool:
        seen.append(threading.current_thread())
        return True

    async def go() -> RunResult:
        loops.append(threading.current_thread())
        scripted = calls(("restart", {"cluster": "prod"}))
        bot = Bot(
            "ops",
            client=scripted.async_client(),
            approval_handler=handler,
            wall_clock=Clock(),
        )

        @bot.trigger("incident", prompt="Handle it.", hidden_actions=[restart])
        def incident() -> dict[str, str]:
            return {}

        async with bot:
            return await bot.arun(bot.triggers["incident"]())

    result = asyncio.run(go())
    assert result.events[0].status == "executed"
    assert len(seen) == 1 and seen[0] is not loops[0]


# -- 3. expiry from the handler path ----------------------------------------------------------


def test_an_answer_given_after_the_request_expired_is_expired() -> None:
    clock = Clock()

    def slow(request: ApprovalRequest) -> bool:
        clock.now = request.expires_at + 1  # the person answered too late
        return True

    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted, clock=clock, approval_handler=slow) as bot:
        result = start(bot)
    assert ran == []
    event = result.events[0]
    assert event.status == "expired"
    assert event.approval is not None and event.approval.resolution == "expired"
    told = outputs(scripted)[0]
    assert told.startswith("Not run: the approval for this call expired")
    assert not told.startswith(("Not run: a reviewer declined", "Not run: blocked"))


# -- 4. the pending-approval cap --------------------------------------------------------------


def test_past_the_cap_a_call_in_the_same_round_is_blocked() -> None:
    scripted = calls(("restart", {"cluster": "a"}), ("restart", {"cluster": "b"}))
    with make_bot(scripted, settings=BotSettings(max_pending_approvals=1)) as bot:
        result = start(bot)
    assert [e.status for e in result.events] == ["approval_required", "blocked"]
    assert result.events[1].failure == "approval_cap"
    assert len(result.pending_approvals) == 1
    assert ran == []


def test_the_cap_counts_other_runs_and_deciding_one_frees_the_slot() -> None:
    store = InMemoryRunStore()
    script = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "a"})],
            [function_call("restart", {"cluster": "b"})],
            [message("done")],  # the second run, told it was blocked
            [message("done")],  # the first run, resumed
            [function_call("restart", {"cluster": "c"})],
        ]
    )
    settings = BotSettings(max_pending_approvals=1)
    with make_bot(script, store=store, settings=settings) as bot:
        first = start(bot)
        assert first.status == "approval_required"
        second = start(bot)  # another run of the same bot, sharing the store
        event = second.events[0]
        assert (event.status, event.failure) == ("blocked", "approval_cap")
        told = outputs(script, 2)[0]
        assert "too many calls are already waiting" in told
        assert second.pending_approvals == ()
        bot.resume(first.run_id, {first.pending_approvals[0].id: False})  # the slot is free
        third = start(bot)
    assert third.status == "approval_required"
    assert [p.arguments for p in third.pending_approvals] == [{"cluster": "c"}]
    assert ran == []


# -- 5. edits and suggested edits -------------------------------------------------------------


class Suggests:
    """Asks for review of any restart, suggesting staging instead; blocks ``cluster=all``."""

    def evaluate(self, proposal: ProposedAction) -> Decision:
        if proposal.arguments.get("cluster") == "all":
            return Decision(recommendation="do_not_proceed", reason="too broad")
        return Decision(
            recommendation="review_recommended",
            better_arguments={"cluster": "staging"},
        )


@pytest.mark.parametrize(
    ("edit", "status", "expected"),
    [
        ({"cluster": "staging"}, "executed", ["restart:staging"]),
        ({"cluster": "all"}, "blocked", []),  # the policy decides the edit again
        ({"cluster": 3}, "blocked", []),  # validated against the schema
    ],
)
def test_a_handlers_edit_is_validated_and_decided_again(
    edit: dict[str, Any], status: str, expected: list[str]
) -> None:
    def handler(request: ApprovalRequest) -> Approval:
        return Approval(approved=True, approver="ann", arguments=edit)

    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted, policy=Suggests(), approval_handler=handler) as bot:
        result = start(bot)
    assert ran == expected
    assert result.events[0].status == status


def test_better_arguments_are_offered_as_a_ready_edit() -> None:
    asked: list[ApprovalRequest] = []

    def handler(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval(approved=True, arguments=request.suggested_arguments)

    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted, policy=Suggests(), approval_handler=handler) as bot:
        start(bot)
    assert asked[0].suggested_arguments == {"cluster": "staging"}
    assert ran == ["restart:staging"]

    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted, policy=Suggests()) as bot:
        suspended = start(bot)
    assert suspended.pending_approvals[0].suggested_arguments == {"cluster": "staging"}


# -- 6. binding -------------------------------------------------------------------------------


def test_an_approval_of_another_run_is_refused_and_nothing_is_recorded() -> None:
    script = ScriptedResponses(
        [
            [function_call("restart", {"cluster": "a"})],
            [function_call("restart", {"cluster": "b"})],
        ]
    )
    with make_bot(script) as bot:
        one, two = start(bot), start(bot)
        mine, theirs = one.pending_approvals[0].id, two.pending_approvals[0].id
        with pytest.raises(UsageError, match=f"approval {theirs} belongs to run {two.run_id}"):
            bot.resume(one.run_id, {mine: True, theirs: True})
        # a refused resume loses nothing and records nothing: both still wait
        assert bot.run_store.get_approval(mine).status == "pending"
        assert bot.run_store.get_approval(theirs).status == "pending"
    assert ran == []


def test_the_events_approval_carries_the_requests_binding_hash() -> None:
    asked: list[ApprovalRequest] = []

    def handler(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted, approval_handler=handler) as bot:
        result = start(bot)
    approval = result.events[0].approval
    assert approval is not None
    assert approval.binding_hash == asked[0].binding_hash
    assert approval.id == asked[0].id


def test_a_resumed_events_approval_carries_the_stored_binding_hash() -> None:
    scripted = calls(("restart", {"cluster": "prod"}))
    with make_bot(scripted) as bot:
        first = start(bot)
        pending = first.pending_approvals[0]
        bound = bot.run_store.get_approval(pending.id).data["request"]["binding_hash"]
        result = bot.resume(first.run_id, {pending.id: True})
    approval = result.events[0].approval
    assert approval is not None and approval.binding_hash == bound and len(bound) == 64


@pytest.mark.parametrize(
    ("bad", "error"),
    [("yes please", UsageError), (Approval(approved=True, approver="ann"), ApproverError)],
    ids=["not-understood", "same-approver"],
)
def test_one_refused_decision_records_none_of_the_others(bad: Any, error: type[Exception]) -> None:
    script = calls(("restart", {"cluster": "a"}), ("drop_table", {"table": "t1"}))
    with make_bot(script, approval_handler=None) as bot:
        first = start(bot)
        a, b = (p.id for p in first.pending_approvals)
        bot.resume(first.run_id, {b: Approval(approved=True, approver="ann")})
        with pytest.raises(error):
            bot.resume(first.run_id, {a: True, b: bad})
        assert bot.run_store.get_approval(a).status == "pending"
        assert len(bot.run_store.get_approval(b).votes) == 1
    assert ran == []


@pytest.mark.parametrize(
    "answer",
    [
        True,
        {"resolution": "approved"},
        Approval(approved=True),
        Approval(approved=True, approver=" "),
    ],
    ids=["true", "dict", "unnamed", "blank-name"],
)
def test_a_handlers_yes_without_a_name_is_no_four_eyes_vote(answer: Any) -> None:
    """Four eyes needs two people told apart: an unnamed yes could be the second approver's
    own, so it is not counted (the store refuses such a vote for the same reason)."""
    scripted = calls(("drop_table", {"table": "t1"}))
    with make_bot(scripted, approval_handler=lambda request: answer) as bot:
        first = start(bot)
    event = first.events[0]
    assert (event.status, event.failure) == ("blocked", "approval_error")
    assert event.error is not None and "approver" in event.error
    assert first.pending_approvals == ()
    assert ran == []


def test_a_four_eyes_vote_from_a_handler_is_stored_without_secret_values(tmp_path: Any) -> None:
    secret = "hunter2-Zz8!"

    @action(risk="high", secret=["password"], approvals_required=2)
    def set_password(user: str, password: str) -> str:
        """Set a password.

        Args:
            user: The user.
            password: The new password.
        """
        ran.append(f"set:{user}")
        return "set"

    def handler(request: ApprovalRequest) -> Approval:
        return Approval(approved=True, approver="ann", comment=f"fine to set {secret}")

    scripted = ScriptedResponses(
        [[function_call("set_password", {"user": "ann", "password": secret})], [message("x")]]
    )
    bot = Bot(
        "ops",
        client=scripted.client(),
        run_store=tmp_path / "runs.db",
        approval_handler=handler,
    )

    @bot.trigger("incident", prompt="Handle it.", hidden_actions=[set_password])
    def incident() -> dict[str, str]:
        return {}

    with bot:
        first = start(bot)
        (vote,) = bot.run_store.get_approval(first.pending_approvals[0].id).votes
    assert vote.approver == "ann" and vote.comment is not None and "fine to set" in vote.comment
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in written
