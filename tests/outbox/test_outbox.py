"""The durable outcome outbox: nothing lost while the service is down, nothing duplicated."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from openai_trigger_bot.governance import ExecutionEvent, ProposedAction
from openai_trigger_bot.governance.outbox import REPORTS_PROTOCOL, OutcomeOutbox


class Service:
    """A decision service's report endpoint behind an httpx MockTransport; it can go down."""

    def __init__(self) -> None:
        self.up = False
        self.keys: dict[str, int] = {}
        self.requests = 0
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests += 1
            if not self.up:
                raise httpx.ConnectError("connection refused", request=request)
            body = json.loads(request.content)
            assert body["protocol"] == REPORTS_PROTOCOL
            assert request.headers["authorization"] == "Bearer t0k"
            for report in body["reports"]:
                self.keys[report["idempotency_key"]] = (
                    self.keys.get(report["idempotency_key"], 0) + 1
                )
        return httpx.Response(200, json={"accepted": len(body["reports"]), "duplicates": 0})


def _event(i: int, status: str = "executed") -> tuple[ExecutionEvent, ProposedAction]:
    proposal = ProposedAction(action="refund", arguments={"n": i}, run_id="r1", call_id=f"c{i}")
    event = ExecutionEvent(tool="refund", call_id=f"c{i}", status=status, arguments={"n": i})  # type: ignore[arg-type]
    return event, proposal


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``condition``; the generous bound only trips when something is stuck."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached: something is stuck"
        time.sleep(0.005)


def _outbox(path: Path, service: Service, **kw: object) -> OutcomeOutbox:
    return OutcomeOutbox(
        path,
        url="http://decisions.test",
        token="t0k",
        transport=httpx.MockTransport(service.handler),
        backoff_initial=0.01,
        backoff_max=0.05,
        **kw,  # type: ignore[arg-type]
    )


def test_reports_wait_while_the_service_is_down_then_arrive_once(tmp_path: Path) -> None:
    service = Service()
    box = _outbox(tmp_path / "outbox.db", service)
    for i in range(5):
        box.add(*_event(i), bot="b")
    _wait_until(lambda: service.requests >= 2)  # it keeps retrying with backoff
    assert box.stats().pending == 5
    assert box.stats().last_error is not None and "ConnectError" in box.stats().last_error
    service.up = True
    assert box.flush(timeout=5)
    box.close()
    assert sorted(service.keys) == sorted(
        f"{_event(i)[1].idempotency_key}:executed" for i in range(5)
    )
    assert set(service.keys.values()) == {1}


def test_pending_reports_survive_a_restart(tmp_path: Path) -> None:
    service = Service()
    path = tmp_path / "outbox.db"
    first = _outbox(path, service)
    first.add(*_event(1), bot="b")
    first.add(*_event(2, "blocked"), bot="b")
    first.close()  # the process stops with the service still down
    assert service.keys == {}
    service.up = True
    second = _outbox(path, service)
    assert second.flush(timeout=5)
    second.close()
    assert len(service.keys) == 2
    assert any(k.endswith(":blocked") for k in service.keys)


def test_the_same_outcome_is_stored_once(tmp_path: Path) -> None:
    service = Service()
    box = _outbox(tmp_path / "o.db", service, start=False)
    event, proposal = _event(7)
    assert box.add(event, proposal, bot="b") == box.add(event, proposal, bot="b")
    assert box.stats().pending == 1
    box.close()


def test_adding_never_waits_for_the_network(tmp_path: Path) -> None:
    """A run is held up by a local insert only, never by the network.

    The service hangs inside a delivery until the test releases it, which the test does only
    after every ``add`` returned: an ``add`` that waited for the network would wait for that
    release, and the hung request would give up after 30 s instead of being released.
    (How fast an add is goes in ``benchmarks/outbox_adds.py``.)
    """
    entered, release = threading.Event(), threading.Event()
    released: list[bool] = []

    def hanging(request: httpx.Request) -> httpx.Response:
        entered.set()
        released.append(release.wait(30))
        reports = json.loads(request.content)["reports"]
        return httpx.Response(200, json={"accepted": len(reports), "duplicates": 0})

    box = OutcomeOutbox(
        tmp_path / "o.db", url="http://d.test", transport=httpx.MockTransport(hanging)
    )
    box.add(*_event(0), bot="b")
    assert entered.wait(30)  # the sender is inside a request that hangs
    for i in range(1, 200):
        box.add(*_event(i), bot="b")
    assert box.stats().pending == 200  # every report is stored while the request hangs
    release.set()
    assert box.flush(timeout=30)
    box.close()
    assert released and all(released)  # no add waited for the hung request


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 42")
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="schema version 42"):
        OutcomeOutbox(path)


def test_without_a_url_reports_stay_in_the_file(tmp_path: Path) -> None:
    box = OutcomeOutbox(tmp_path / "o.db")
    box.add(*_event(1), bot="b")
    assert box.deliver_pending() == 0
    assert box.stats().pending == 1
    box.close()


def test_a_locked_file_never_holds_a_run_up_nor_loses_the_report(tmp_path: Path) -> None:
    service = Service()
    path = tmp_path / "o.db"
    box = _outbox(path, service)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    # add() returns while the lock is still held (it is only released below), after waiting
    # at most add_timeout (50 ms) for it: the runs' connection is configured that way, not
    # with the sender's 5 s busy timeout (white-box: SQLite does the waiting itself).
    assert box._writer.execute("PRAGMA busy_timeout").fetchone() == (50,)
    box.add(*_event(1), bot="b")
    assert box.stats().pending == 1  # kept in memory meanwhile
    locker.execute("ROLLBACK")
    locker.close()
    service.up = True
    assert box.flush(timeout=5)
    box.close()
    assert len(service.keys) == 1


def test_a_report_the_service_refuses_never_blocks_the_queue(tmp_path: Path) -> None:
    delivered: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reports = json.loads(request.content)["reports"]
        if len(request.content) > 3000:
            return httpx.Response(413, text="too large")
        if any(r["event"]["call_id"] == "c2" for r in reports):
            return httpx.Response(422, json={"error": {"code": "invalid_reports"}})
        delivered.extend(r["idempotency_key"] for r in reports)
        return httpx.Response(200, json={"accepted": len(reports), "duplicates": 0})

    box = OutcomeOutbox(
        tmp_path / "o.db", url="http://d.test", transport=httpx.MockTransport(handler), start=False
    )
    for i in range(6):
        box.add(*_event(i), bot="b")
    assert box.deliver_pending() == 5  # the batch was too large, then c2 was refused alone
    stats = box.stats()
    assert (stats.pending, stats.delivered, stats.failed) == (0, 5, 1)
    assert len(delivered) == 5 and not any(":" in k and "c2" in k for k in delivered)
    box.close()


def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(sqlite3.DatabaseError, match="not an openai-trigger-bot outbox"):
        OutcomeOutbox(path)
    assert path.read_bytes() == before
