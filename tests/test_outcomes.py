"""One canonical list of outcomes (``openai_trigger_bot.outcomes``), and every consumer of a
status accepts each of them: the event record, the docs, the OpenAPI document, policy history
counts (in process and in SQLite), outcome reports and their store, memory captures, the CLI."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml

from openai_trigger_bot.governance import (
    EVENT_STATUSES as GOVERNANCE_STATUSES,
)
from openai_trigger_bot.governance import (
    Decision,
    ExecutionEvent,
    InMemoryHistory,
    LocalRulesEvaluator,
    ProposedAction,
)
from openai_trigger_bot.outcomes import EVENT_STATUSES, STATUS_DESCRIPTIONS, EventStatus

ROOT = Path(__file__).resolve().parents[1]

CANONICAL = (
    "executed",
    "blocked",
    "approval_required",
    "denied",
    "expired",
    "needs_context",
    "unknown",
    "tool_error",
    "invalid",
    "skipped",
)


def test_the_canonical_list() -> None:
    assert EVENT_STATUSES == CANONICAL
    assert typing.get_args(EventStatus) == CANONICAL
    assert tuple(STATUS_DESCRIPTIONS) == CANONICAL
    assert all(STATUS_DESCRIPTIONS.values())
    assert GOVERNANCE_STATUSES is EVENT_STATUSES  # re-exported, not a copy


def test_the_docs_table_is_the_canonical_list() -> None:
    text = (ROOT / "docs" / "governance.md").read_text(encoding="utf-8")
    section = text.split("\n## Outcomes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|$", section, flags=re.MULTILINE)
    assert tuple(status for status, _ in rows) == EVENT_STATUSES
    assert dict(rows) == dict(STATUS_DESCRIPTIONS)


def test_the_event_record_takes_exactly_the_canonical_statuses() -> None:
    assert typing.get_args(ExecutionEvent.model_fields["status"].annotation) == EVENT_STATUSES


def test_the_openapi_document_lists_the_canonical_statuses() -> None:
    document = yaml.safe_load((ROOT / "openapi" / "decision-service.yaml").read_text("utf-8"))
    status = document["components"]["schemas"]["ExecutionEvent"]["properties"]["status"]
    assert tuple(status["enum"]) == EVENT_STATUSES


def test_history_counts_start_with_every_status_at_zero() -> None:
    from openai_trigger_bot.governance.rules.history import empty_counts

    counts = empty_counts()
    assert set(counts) == {*EVENT_STATUSES, "total"} and not any(counts.values())


@pytest.mark.parametrize("status", EVENT_STATUSES)
def test_a_rule_counts_each_status(status: str) -> None:
    """``history.<status>`` is a known key for every status, and an outcome counts there."""
    policy = f"""
policy: p
version: "1"
default: {{recommendation: proceed}}
rules:
  - id: seen
    actions: [refund]
    when: 'history.{status} >= 1'
    history: {{window: 1h}}
    decision: do_not_proceed
"""
    history = InMemoryHistory(clock=lambda: 1000.0)
    rules = LocalRulesEvaluator.from_yaml_string(policy, history=history, clock=lambda: 1000.0)
    proposal = ProposedAction(action="refund")
    assert rules.evaluate(proposal).recommendation == "proceed"
    history.record("refund", status)
    assert rules.evaluate(proposal).recommendation == "do_not_proceed"


def test_the_sqlite_history_counts_every_status(tmp_path: Path) -> None:
    from openai_trigger_bot.memory import SQLiteMemoryStore, StoreHistory

    store = SQLiteMemoryStore(tmp_path / "memory.db")
    history = StoreHistory(store, clock=lambda: 20.0)
    try:
        for status in EVENT_STATUSES:
            history.record("refund", status, at=10.0)
        history.flush()
        counts = history.counts("refund", since=0.0)
    finally:
        history.close()
        store.close()
    assert {s: counts[s] for s in EVENT_STATUSES} == dict.fromkeys(EVENT_STATUSES, 1)
    assert counts["total"] == len(EVENT_STATUSES)


def event(status: str, i: int = 0) -> ExecutionEvent:
    return ExecutionEvent(
        tool="refund",
        call_id=f"call-{i}",
        status=status,  # type: ignore[arg-type]
        decision=Decision(recommendation="review_recommended"),
        started_at=10.0,
    )


def test_outcome_reports_of_every_status_are_accepted_and_stored(tmp_path: Path) -> None:
    from openai_trigger_bot.server.reports import OutcomeReport, ReportStore

    reports = [
        OutcomeReport.model_validate(
            {"idempotency_key": f"k{i}", "event": event(s, i).model_dump(mode="json")}
        )
        for i, s in enumerate(EVENT_STATUSES)
    ]
    store = ReportStore(tmp_path / "reports.db")
    history = InMemoryHistory(clock=lambda: 20.0)
    try:
        result = store.ingest(reports, history=history)
    finally:
        store.close()
    assert [r.event.status for r in result.accepted] == list(EVENT_STATUSES)
    counts = history.counts("refund", since=0.0)
    assert {s: counts[s] for s in EVENT_STATUSES} == dict.fromkeys(EVENT_STATUSES, 1)


@pytest.mark.parametrize("status", EVENT_STATUSES)
def test_memory_captures_every_status(status: str) -> None:
    from openai_trigger_bot.memory._capture import event_capture

    capture = event_capture(event(status), bot="b", trigger="t", target="order-1")
    assert capture.metadata["status"] == status
    assert capture.kind == ("action" if status == "executed" else "tool_outcome")
    assert capture.key == f"call:call-0:{status}"


def test_the_cli_run_report_shows_every_status() -> None:
    from rich.console import Console

    from openai_trigger_bot import RunResult
    from openai_trigger_bot.cli.report import run_report

    result = RunResult(
        run_id="r",
        bot="b",
        trigger="t",
        status="completed",
        events=tuple(event(s, i) for i, s in enumerate(EVENT_STATUSES)),
    )
    console = Console(width=300, record=True, color_system=None)
    for part in run_report(result, console):
        console.print(part)
    shown = console.export_text()
    for status in EVENT_STATUSES:
        assert f" {status} " in shown, status
