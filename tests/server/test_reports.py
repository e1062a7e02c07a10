"""Outcome reports: idempotent ingestion into SQLite, concurrency, read-back, history."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from openai_trigger_bot.governance import ExecutionEvent, ProposedAction
from openai_trigger_bot.governance.rules import InMemoryHistory
from openai_trigger_bot.server import OutcomeReport, ReportStore

from .conftest import PROTOCOL, SHIPPED_POLICIES, authed_client, running_server


def report(
    key: str, *, status: str = "executed", target: str = "cus-9", at: float = 0.0
) -> dict[str, Any]:
    proposal = ProposedAction(
        action="issue_refund", arguments={"amount": 20}, value=20, target=target, run_id="run-1"
    )
    event = ExecutionEvent(tool="issue_refund", call_id=key, status=status, started_at=at)
    return {
        "idempotency_key": key,
        "event": event.model_dump(mode="json"),
        "proposal": proposal.model_dump(mode="json"),
        "bot": "billing-bot",
        "run_id": "run-1",
        "reported_at": 1_800_000_000.0,
    }


def post(http: httpx.Client, *reports: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/reports", json={"protocol": PROTOCOL, "reports": list(reports)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_same_key_twice_is_stored_once(client: httpx.Client) -> None:
    first = report("once-1")
    assert post(client, first) == {"accepted": 1, "duplicates": 0}
    assert post(client, first) == {"accepted": 0, "duplicates": 1}
    assert post(client, first, report("once-2"), report("once-2")) == {
        "accepted": 1,
        "duplicates": 2,
    }
    stored = client.get("/v1/reports", params={"limit": 1000}).json()["reports"]
    keys = [r["idempotency_key"] for r in stored]
    assert keys.count("once-1") == 1 and keys.count("once-2") == 1
    row = next(r for r in stored if r["idempotency_key"] == "once-1")
    assert row["event"] == ExecutionEvent.model_validate(first["event"]).model_dump(mode="json")
    assert row["proposal"]["target"] == "cus-9" and row["bot"] == "billing-bot"
    assert row["reported_at"] == 1_800_000_000.0


def test_invalid_report_stores_nothing(client: httpx.Client) -> None:
    good, bad = report("atomic-1"), report("atomic-2")
    bad["event"]["status"] = "exploded"
    response = client.post("/v1/reports", json={"protocol": PROTOCOL, "reports": [good, bad]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_reports"
    assert error["details"][0]["loc"] == ["reports", 1, "event", "status"]
    assert post(client, good) == {"accepted": 1, "duplicates": 0}  # it was not stored before
    missing_key = client.post(
        "/v1/reports", json={"protocol": PROTOCOL, "reports": [{"event": good["event"]}]}
    )
    assert missing_key.status_code == 422


def test_concurrent_posts_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    keys = [f"k-{i}" for i in range(60)]
    threads, results = 8, []
    lock = threading.Lock()
    with running_server(SHIPPED_POLICIES, db_path=tmp_path / "r.db", reload_interval=None) as url:

        def worker(offset: int) -> None:
            with authed_client(url) as http:
                mine = keys[offset::2] + keys[: 10 + offset]  # overlaps with every other worker
                for start in range(0, len(mine), 7):
                    answer = post(http, *(report(k) for k in mine[start : start + 7]))
                    with lock:
                        results.append(answer)

        pool = [threading.Thread(target=worker, args=(i % 2,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        with authed_client(url) as http:
            page = http.get("/v1/reports", params={"limit": 1000}).json()
    sent = sum(len(keys[i % 2 :: 2]) + 10 + i % 2 for i in range(threads))
    assert sum(r["accepted"] for r in results) == len(keys)
    assert sum(r["accepted"] + r["duplicates"] for r in results) == sent
    stored = [r["idempotency_key"] for r in page["reports"]]
    assert sorted(stored) == sorted(keys)
    assert ReportStore(tmp_path / "r.db").count() == len(keys)


def test_list_pages_with_a_cursor(tmp_path: Path) -> None:
    with running_server(SHIPPED_POLICIES, reload_interval=None) as url, authed_client(url) as http:
        post(http, *(report(f"p-{i}") for i in range(5)))
        first = http.get("/v1/reports", params={"limit": 2}).json()
        assert [r["idempotency_key"] for r in first["reports"]] == ["p-0", "p-1"]
        rest = http.get("/v1/reports", params={"after": first["next_after"]}).json()
        assert [r["idempotency_key"] for r in rest["reports"]] == ["p-2", "p-3", "p-4"]
        assert http.get("/v1/reports", params={"since": 4e9}).json()["reports"] == []
        for bad in ({"limit": 0}, {"limit": "x"}, {"since": "yesterday"}):
            assert http.get("/v1/reports", params=bad).status_code == 400


def decide_refund(http: httpx.Client, target: str) -> str:
    proposal = ProposedAction(
        action="issue_refund", arguments={"amount": 20}, value=20, target=target
    )
    body = {"protocol": PROTOCOL, "proposal": proposal.model_dump(mode="json")}
    recommendation: str = http.post("/v1/decisions", json=body).json()["decision"]["recommendation"]
    return recommendation


def test_reported_outcomes_feed_history_rules_across_restarts(tmp_path: Path) -> None:
    """refund-velocity: a third refund for one customer in a day needs review."""

    db = tmp_path / "reports.db"
    now = time.time()
    first = running_server(SHIPPED_POLICIES, db_path=db, reload_interval=None)
    with first as url, authed_client(url) as http:
        assert decide_refund(http, "cus-h") == "proceed"
        post(
            http,
            report("h-1", target="cus-h", at=now - 60),
            report("h-2", target="cus-h", at=now - 30),
        )
        post(http, report("h-2", target="cus-h", at=now - 30))  # a duplicate counts once
        post(http, report("h-3", target="cus-other", at=now - 30))
        assert decide_refund(http, "cus-h") == "review_recommended"
        assert decide_refund(http, "cus-other") == "proceed"
    history = InMemoryHistory()
    restarted = running_server(SHIPPED_POLICIES, db_path=db, reload_interval=None, history=history)
    with restarted as url, authed_client(url) as http:
        assert decide_refund(http, "cus-h") == "review_recommended"
    assert history.counts("issue_refund", since=now - 3600, target="cus-h")["executed"] == 2


def test_store_first_copy_wins(tmp_path: Path) -> None:
    store = ReportStore(tmp_path / "s.db", clock=lambda: 42.0)
    try:
        original = OutcomeReport.model_validate(report("same"))
        changed = OutcomeReport.model_validate({**report("same", status="tool_error")})
        assert len(store.ingest([original]).accepted) == 1
        result = store.ingest([changed])
        assert result.accepted == () and result.duplicates == 1
        (row,) = store.fetch()
        assert row["event"]["status"] == "executed" and row["received_at"] == 42.0
    finally:
        store.close()


def _ingest_in_process(db: str, keys: list[str], out: Any) -> None:
    store = ReportStore(db)
    try:
        accepted = 0
        for start in range(0, len(keys), 5):
            batch = [OutcomeReport.model_validate(report(k)) for k in keys[start : start + 5]]
            accepted += len(store.ingest(batch).accepted)
        out.put(accepted)
    finally:
        store.close()


def test_processes_sharing_the_database_store_each_key_once(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    keys = [f"proc-{i}" for i in range(40)]
    queue = context.Queue()
    db = str(tmp_path / "shared.db")
    ReportStore(db).close()  # create the schema once
    workers = [
        context.Process(target=_ingest_in_process, args=(db, keys[i * 5 :] + keys[: i * 5], queue))
        for i in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sum(queue.get(timeout=5) for _ in workers) == len(keys)
    store = ReportStore(db)
    try:
        assert sorted(r["idempotency_key"] for r in store.fetch(limit=1000)) == sorted(keys)
    finally:
        store.close()


def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from openai_trigger_bot.server import ReportStore

    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(sqlite3.DatabaseError, match="not an openai-trigger-bot report store"):
        ReportStore(path)
    assert path.read_bytes() == before
    ReportStore(tmp_path / "fresh.db")  # a new file is fine
    ReportStore(tmp_path / "fresh.db")  # and so is reopening it
