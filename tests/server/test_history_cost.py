"""``serve``'s decisions do the same work with 40 or 5,000 reported refunds (issue 8 item 11).

Measured against ``trigger-bot serve``, ``issue_refund`` decisions slowed from 1.74 ms to
4.46 ms p50 after ~43k stored reports: the server replays its reports into its history, and
each decision of the shipped ``refund-velocity`` rule walked the 24 h window. The work of one
decision (Python line events) is asserted here, not its time (see ``benchmarks/history.py``).
"""

from __future__ import annotations

import time
from pathlib import Path

from openai_trigger_bot.governance import ExecutionEvent, LocalRulesEvaluator, ProposedAction
from openai_trigger_bot.server import OutcomeReport, ReportStore, create_app

from .._cost import python_lines
from .conftest import SHIPPED_POLICIES, TOKEN


def serve_with_reports(folder: Path, n: int) -> tuple[LocalRulesEvaluator, ReportStore]:
    """``serve``'s app over a report store holding ``n`` refunds of the last hour."""
    folder.mkdir()
    now = time.time()
    db = folder / "reports.db"
    store = ReportStore(db)
    store.ingest(
        [
            OutcomeReport(
                idempotency_key=f"k{i}",
                event=ExecutionEvent(
                    tool="issue_refund",
                    call_id=f"c{i}",
                    status="executed" if i % 2 else "blocked",
                    started_at=now - 3600 + i * 1800 / n,
                ),
                proposal=ProposedAction(action="issue_refund", target=f"cus-{i % 20}"),
            )
            for i in range(n)
        ]
    )
    store.close()
    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=db)
    evaluator = app.state.policies.state.evaluator
    assert evaluator is not None
    reports: ReportStore = app.state.reports
    return evaluator, reports


def test_a_decision_does_not_walk_the_reported_history(tmp_path: Path) -> None:
    work = []
    for n in (40, 5_000):
        evaluator, reports = serve_with_reports(tmp_path / str(n), n)
        blocked_only = ProposedAction(action="issue_refund", target="cus-2", value=40)
        assert evaluator.history.counts("issue_refund", since=0, target="cus-2")["total"] == n // 20
        assert evaluator.evaluate(blocked_only).recommendation == "proceed"
        work.append(python_lines(lambda e=evaluator, p=blocked_only: e.evaluate(p)))  # type: ignore[misc]
        reports.close()
    assert work[1] == work[0], work
