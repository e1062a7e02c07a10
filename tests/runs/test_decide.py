"""Deciding approvals: approve, deny, expiry, single use and the four-eyes rule (every store)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest

from openai_trigger_bot.runs import (
    ApprovalClosed,
    ApprovalExpired,
    ApprovalVote,
    ApproverError,
    RunError,
    RunStore,
)

from ._helpers import approval, run


def vote(approved: bool = True, approver: str | None = "ada", at: float = 200.0) -> ApprovalVote:
    return ApprovalVote(approved=approved, approver=approver, comment="ok", at=at)


@dataclass(frozen=True)
class Case:
    name: str
    required: int
    votes: list[tuple[ApprovalVote, float]]  # (vote, now)
    status: str  # the approval's status after the votes
    error: type[RunError] | None = None  # raised by the last vote
    counted: int = field(default=0)  # votes stored


CASES = [
    Case("approve", 1, [(vote(), 200.0)], "approved", counted=1),
    Case("deny", 1, [(vote(False), 200.0)], "denied", counted=1),
    Case(
        "approve without a name, one required",
        1,
        [(vote(approver=None), 200)],
        "approved",
        counted=1,
    ),
    Case("expired", 1, [(vote(), 1000.5)], "expired", ApprovalExpired),
    Case("at the expiry instant still holds", 1, [(vote(), 1000.0)], "approved", counted=1),
    Case(
        "single use: a second vote",
        1,
        [(vote(), 200), (vote(approver="bob"), 201)],
        "approved",
        ApprovalClosed,
        1,
    ),
    Case(
        "single use: deny after approve",
        1,
        [(vote(), 200), (vote(False), 201)],
        "approved",
        ApprovalClosed,
        1,
    ),
    Case(
        "decided after expiry was recorded",
        1,
        [(vote(), 1001), (vote(), 1002)],
        "expired",
        ApprovalClosed,
    ),
    Case("two required, one vote", 2, [(vote(), 200)], "pending", counted=1),
    Case(
        "two distinct approvers",
        2,
        [(vote(), 200), (vote(approver="bob"), 201)],
        "approved",
        counted=2,
    ),
    Case("same approver twice", 2, [(vote(), 200), (vote(), 201)], "pending", ApproverError, 1),
    Case(
        "same approver, other case and spaces",
        2,
        [(vote(), 200), (vote(approver=" ADA "), 201)],
        "pending",
        ApproverError,
        1,
    ),
    Case(
        "no approver name with two required",
        2,
        [(vote(approver=None), 200)],
        "pending",
        ApproverError,
    ),
    Case(
        "empty approver name with two required",
        2,
        [(vote(approver="  "), 200)],
        "pending",
        ApproverError,
    ),
    Case(
        "one approval then a denial",
        2,
        [(vote(), 200), (vote(False, "bob"), 201)],
        "denied",
        counted=2,
    ),
    Case("a denial needs no name", 2, [(vote(False, None), 200)], "denied", counted=1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decide(store: RunStore, case: Case) -> None:
    store.create(run(), [approval(required=case.required)])
    *first, (last, last_now) = case.votes
    for earlier, now in first:
        with contextlib.suppress(ApprovalExpired):  # an earlier vote may find it expired
            store.decide("ap-1", earlier, now=now)
    if case.error is None:
        returned = store.decide("ap-1", last, now=last_now)
        assert returned.status == case.status
    else:
        with pytest.raises(case.error):
            store.decide("ap-1", last, now=last_now)
    stored = store.get_approval("ap-1")
    assert stored.status == case.status
    assert len(stored.votes) == case.counted
    assert (stored.decided_at is None) == (case.status == "pending")


def test_an_approver_error_is_a_value_error_and_says_what_to_do(store: RunStore) -> None:
    store.create(run(), [approval(required=2)])
    with pytest.raises(ValueError, match=r"2 distinct approvers.*--approver NAME"):
        store.decide("ap-1", vote(approver=None), now=200)


def test_a_closed_approval_says_its_status(store: RunStore) -> None:
    store.create(run(), [approval()])
    store.decide("ap-1", vote(False), now=200)
    with pytest.raises(ApprovalClosed, match="already denied") as caught:
        store.decide("ap-1", vote(), now=201)
    assert caught.value.status == "denied"


def test_deciding_bumps_the_run_version_so_a_concurrent_resume_sees_it(store: RunStore) -> None:
    store.create(run(), [approval(required=2)])
    before = store.load("run-1").version
    store.decide("ap-1", vote(), now=200)
    assert store.load("run-1").version == before + 1
    with pytest.raises(ApprovalExpired):
        store.decide("ap-1", vote(approver="bob"), now=5000)
    assert store.load("run-1").version == before + 2  # marking it expired is a change too


def test_the_vote_is_stored_with_its_edit(store: RunStore) -> None:
    store.create(run(), [approval()])
    edit = ApprovalVote(approved=True, approver="ada", at=200, arguments={"role": "viewer"})
    store.decide("ap-1", edit, now=200)
    assert store.get_approval("ap-1").votes == (edit,)
