"""Capture hooks: runs and governed outcomes become memories of the right kind, no secrets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from openai_trigger_bot.governance.decision import Decision, ExecutionEvent
from openai_trigger_bot.memory import (
    InMemoryMemoryStore,
    Memory,
    MemoryManager,
    MemoryRequest,
    NewMemory,
)
from openai_trigger_bot.result import ActionCall, RunResult

from ._helpers import FakeClock

SECRETS = ("4242-4242-4242-4242", "hunter2", "s3cr3t-token", "internal stack trace")


def event(status: str, **fields: Any) -> ExecutionEvent:
    values: dict[str, Any] = {
        "tool": "refund",
        "call_id": "call-1",
        "status": status,
        "arguments": {"card": "[REDACTED]", "amount": 120, "note": "hunter2"},
        "output": {"token": "s3cr3t-token"},
        "started_at": 1_800_000_000.0,
    }
    values.update(fields)
    return ExecutionEvent(**values)


def run_result(status: str = "completed") -> RunResult:
    call = ActionCall(
        name="send_message",
        call_id="c1",
        arguments={"text": "4242-4242-4242-4242"},
        ok=True,
        started_at=0.0,
        duration_ms=1.0,
    )
    return RunResult(
        run_id="run-7",
        bot="support-bot",
        trigger="reply-to-chat",
        status=status,
        action_calls=(call,),
        events=(
            event("executed", tool="send_message", call_id="c1"),
            event("blocked", call_id="c2"),
        ),
        text="model text with hunter2",
    )


def dump(memory: Memory) -> str:
    return memory.text + json.dumps(memory.metadata)


def test_a_run_is_captured_once_with_its_statuses() -> None:
    memory = MemoryManager(clock=FakeClock())
    scopes = MemoryRequest(scopes=("global", "chat:support", "user:alice")).capture_scopes
    stored = memory.capture_run(run_result(), scopes=scopes)
    assert stored is not None and stored.scope == "chat:support" and stored.kind == "trigger_run"
    assert stored.text == (
        "Run of trigger reply-to-chat: completed (executed: send_message; blocked: refund)."
    )
    assert stored.metadata["actions"] == ["send_message"] and stored.source == "run:run-7"
    assert memory.capture_run(run_result(), scopes=scopes) == stored  # same run: deduplicated
    assert memory.capture_run(run_result("error"), scopes=scopes) != stored
    assert not any(secret in dump(stored) for secret in SECRETS)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("executed", "action"),
        ("blocked", "tool_outcome"),
        ("approval_required", "tool_outcome"),
        ("denied", "tool_outcome"),
        ("expired", "tool_outcome"),
        ("tool_error", "tool_outcome"),
    ],
)
def test_every_governed_outcome_is_captured_without_secrets(status: str, kind: str) -> None:
    memory = MemoryManager(clock=FakeClock())
    decision = Decision(
        recommendation="review_recommended",
        reason="Refunds over 100 need a second pair of eyes",
        policy_id="billing",
    )
    captured = memory.capture_event(
        event(
            status,
            decision=decision,
            error="TimeoutError: POST https://pay.example/charge?key=sk-live-hunter2",
            message_to_model="Action failed: the payment provider timed out.",
        ),
        scopes=("global", "user:alice"),
        bot="support-bot",
        trigger="refunds",
        target="order-7",
    )
    assert captured is not None and captured.kind == kind and captured.scope == "user:alice"
    assert captured.text.startswith(f"refund on order-7: {status} (policy: review_recommended")
    assert "Refunds over 100 need a second pair of eyes" in captured.text
    assert captured.metadata["recommendation"] == "review_recommended"
    assert captured.metadata["target"] == "order-7" and captured.metadata["policy_id"] == "billing"
    leaked = [s for s in (*SECRETS, "[REDACTED]", "amount", "120") if s in dump(captured)]
    assert leaked == []
    # a tool error is remembered by its kind only: exception texts may hold credentials
    assert "payment provider timed out" not in captured.text
    assert ("tool_error" in captured.text) == (status == "tool_error")


def test_capture_scope_override_and_the_global_fallback() -> None:
    memory = MemoryManager(clock=FakeClock())
    own = MemoryRequest(scopes=("global", "user:alice"), capture_scope="audit")
    assert own.capture_scopes == ("audit",)
    stored = memory.capture_event(
        event("blocked"), scopes=own.capture_scopes, bot="b", trigger="t", target=None
    )
    assert stored is not None and stored.scope == "audit" and stored.text == "refund: blocked."
    only_global = memory.capture_run(run_result(), scopes=("global",))
    assert only_global is not None and only_global.scope == "global"
    assert memory.capture_run(run_result(), scopes=()) is None


def test_capture_kinds_can_be_switched_off() -> None:
    memory = MemoryManager(clock=FakeClock(), capture_kinds=("trigger_run",))
    assert (
        memory.capture_event(event("executed"), scopes=("s",), bot="b", trigger="t", target=None)
        is None
    )
    assert memory.capture_run(run_result(), scopes=("s",)) is not None
    assert memory.count() == 1


class BrokenStore(InMemoryMemoryStore):
    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        raise OSError("disk gone")


async def test_capture_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    memory = MemoryManager(BrokenStore(), clock=FakeClock())
    assert memory.capture_run(run_result(), scopes=("s",)) is None
    assert await memory.acapture_run(run_result(), scopes=("s",)) is None
    assert (
        await memory.acapture_event(
            event("denied"), scopes=("s",), bot="b", trigger="t", target="x"
        )
        is None
    )
    assert caplog.text.count("disk gone") == 3
    with pytest.raises(OSError):
        memory.remember("direct calls do raise", scope="s")


async def test_async_captures_store_the_same_memories() -> None:
    memory = MemoryManager(clock=FakeClock())
    run = await memory.acapture_run(run_result(), scopes=("chat:1",))
    outcome = await memory.acapture_event(
        event("tool_error"), scopes=("chat:1",), bot="b", trigger="t", target=None
    )
    assert run is not None and outcome is not None
    assert {m.kind for m in memory.select(MemoryRequest(scopes=("chat:1",)))} == {
        "trigger_run",
        "tool_outcome",
    }
