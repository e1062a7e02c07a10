"""An ended run cannot be claimed: a resumer that read it before another process finished it
is refused, whatever the lease says (found by the crash tests, issue 10 §3-4)."""

from __future__ import annotations

import pytest

from openai_trigger_bot.runs import RunFinished, RunStore, new_owner

from ._helpers import run


@pytest.mark.parametrize("status", ["completed", "error", "cancelled"])
def test_an_ended_run_cannot_be_claimed(store: RunStore, status: str) -> None:
    store.create(run(), [])
    first = new_owner()
    claimed = store.claim("run-1", owner=first, lease_s=30, now=100)
    store.save("run-1", expected_version=claimed.version, status=status, state={}, now=101)
    store.release("run-1", first)  # the lease is free: only the status stops a late resumer
    with pytest.raises(RunFinished, match=f"run run-1 already ended \\(status {status}\\)"):
        store.claim("run-1", owner=new_owner(), lease_s=30, now=102)
    after = store.load("run-1")
    assert (after.status, after.lease_owner, after.version) == (status, None, 3)


@pytest.mark.parametrize("status", ["suspended", "running"])
def test_an_active_run_can_be_claimed(store: RunStore, status: str) -> None:
    store.create(run(status=status), [])
    mine = new_owner()
    assert store.claim("run-1", owner=mine, lease_s=30, now=100).lease_owner == mine
