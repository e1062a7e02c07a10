"""``trigger-bot serve`` with a run store: approvals and runs over HTTP, and resuming runs.

Real servers on 127.0.0.1 (started and stopped by each test), real SQLite run stores in
``tmp_path``; the resuming bot answers from :mod:`._approval_bot`'s scripted model.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.exceptions import ConfigurationError
from openai_trigger_bot.runs import ApprovalVote, SQLiteRunStore
from openai_trigger_bot.server import create_app, serve_in_thread
from openai_trigger_bot.server._handlers import MAX_BODY_BYTES

from ..runs._helpers import approval, run
from . import _approval_bot
from .conftest import SHIPPED_POLICIES, TOKEN, authed_client

RESUME_WAIT = 60.0  # an upper bound for a scripted resume, not a performance figure


@contextlib.contextmanager
def serving(tmp_path: Path, store: Any, bot: Any = None) -> Iterator[tuple[str, Any]]:
    """A server on ``store`` (and ``bot``); yields the base URL and the app."""
    app = create_app(
        SHIPPED_POLICIES,
        token=TOKEN,
        db_path=tmp_path / "reports.db",
        reload_interval=None,
        run_store=store,
        bot=bot,
    )
    with serve_in_thread(app) as base_url:
        yield base_url, app


@contextlib.contextmanager
def serving_bot(tmp_path: Path, bot: Any) -> Iterator[tuple[Any, httpx.Client]]:
    """A server resuming ``bot``'s runs (in ``tmp_path/runs.db``), and a client of it."""
    store = tmp_path / "runs.db"
    with serving(tmp_path, store, bot) as (base_url, app), authed_client(base_url) as http:
        yield app, http


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A run waiting on a one-approver and a four-eyes approval, and a finished run."""
    now = time.time()
    path = tmp_path / "runs.db"
    with SQLiteRunStore(path) as store:
        store.create(
            run("run-waiting", at=now),
            [
                approval("ap-grant", "run-waiting", expires_at=now + 3600),
                approval(
                    "ap-rotate",
                    "run-waiting",
                    action="rotate_credentials",
                    required=2,
                    expires_at=now + 3600,
                ),
            ],
        )
        store.create(run("run-old", at=now - 10), [approval("ap-old", "run-old", expires_at=1)])
        store.create(run("run-done", status="completed", at=now - 20), [])
    return path


@pytest.fixture
def http(tmp_path: Path, store_path: Path) -> Iterator[httpx.Client]:
    with serving(tmp_path, store_path) as (base_url, _), authed_client(base_url) as client:
        yield client


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def test_every_approval_endpoint_needs_the_token(tmp_path: Path, store_path: Path) -> None:
    with serving(tmp_path, store_path) as (base_url, _), httpx.Client(base_url=base_url) as anon:
        for method, path in [
            ("GET", "/v1/approvals"),
            ("GET", "/v1/approvals/ap-grant"),
            ("POST", "/v1/approvals/ap-grant/approve"),
            ("POST", "/v1/approvals/ap-grant/deny"),
            ("GET", "/v1/runs"),
            ("GET", "/v1/runs/run-waiting"),
        ]:
            response = anon.request(method, path, headers={"Authorization": "Bearer wrong"})
            _error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"] == "Bearer"
    with SQLiteRunStore(store_path) as store:
        assert store.get_approval("ap-grant").status == "pending"


def test_without_a_run_store_the_endpoints_are_not_served(tmp_path: Path) -> None:
    with serving(tmp_path, None) as (base_url, app), authed_client(base_url) as client:
        assert client.get("/v1/approvals").status_code == 404
        assert app.state.run_store is None and app.state.resumer is None


def test_list_is_pending_by_default_and_filters(http: httpx.Client) -> None:
    pending = http.get("/v1/approvals").json()["approvals"]
    assert {a["id"] for a in pending} == {"ap-grant", "ap-rotate", "ap-old"}
    old = next(a for a in pending if a["id"] == "ap-old")
    assert old["expired"] is True and old["status"] == "pending"
    rotate = next(a for a in pending if a["id"] == "ap-rotate")
    assert (rotate["approvals_required"], rotate["approvals_given"]) == (2, 0)
    assert rotate["arguments"]["token"] == "[redacted]"
    assert rotate["decision"] == {"recommendation": "review", "risk": "high"}
    assert "data" not in rotate  # the runner's serialised request stays in the store
    assert http.get("/v1/approvals", params={"bot": "nobody"}).json() == {"approvals": []}
    only = http.get("/v1/approvals", params={"run_id": "run-old"}).json()["approvals"]
    assert [a["id"] for a in only] == ["ap-old"]
    http.post("/v1/approvals/ap-grant/deny", json={"approver": "bob"})
    denied = http.get("/v1/approvals", params={"status": "denied"}).json()["approvals"]
    assert [a["id"] for a in denied] == ["ap-grant"]
    every = http.get("/v1/approvals", params={"status": "all", "limit": "10"}).json()
    assert len(every["approvals"]) == 3


@pytest.mark.parametrize(
    "params",
    [{"status": "maybe"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"bot": "a\x00b"}],
)
def test_a_bad_query_is_400(http: httpx.Client, params: dict[str, str]) -> None:
    _error(http.get("/v1/approvals", params=params), 400, "invalid_query")


def test_show_an_approval(http: httpx.Client) -> None:
    body = http.get("/v1/approvals/ap-grant").json()["approval"]
    assert (body["id"], body["run_id"], body["action"], body["status"]) == (
        "ap-grant",
        "run-waiting",
        "grant_access",
        "pending",
    )
    assert body["votes"] == [] and body["decided_at"] is None
    _error(http.get("/v1/approvals/nope"), 404, "approval_not_found")


def test_approve_records_the_approver_and_is_single_use(
    http: httpx.Client, store_path: Path
) -> None:
    response = http.post(
        "/v1/approvals/ap-grant/approve", json={"approver": "ann", "comment": "ticket 42"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approval"]["status"] == "approved"
    assert body["resume"] == "manual"  # no --bot: trigger-bot runs resume continues the run
    (vote,) = body["approval"]["votes"]
    assert (vote["approved"], vote["approver"], vote["comment"]) == (True, "ann", "ticket 42")
    again = _error(http.post("/v1/approvals/ap-grant/approve", json={}), 409, "approval_closed")
    assert again["details"] == {"status": "approved"}
    _error(http.post("/v1/approvals/ap-grant/deny"), 409, "approval_closed")
    with SQLiteRunStore(store_path) as store:
        row = store.get_approval("ap-grant")
    assert row.status == "approved" and [v.approver for v in row.votes] == ["ann"]


def test_deny_with_an_empty_body(http: httpx.Client) -> None:
    response = http.post("/v1/approvals/ap-grant/deny")
    assert response.status_code == 200, response.text
    assert response.json()["approval"]["status"] == "denied"


def test_four_eyes_needs_two_named_approvers(http: httpx.Client) -> None:
    path = "/v1/approvals/ap-rotate/approve"
    _error(http.post(path, json={"comment": "fine"}), 422, "approver_required")
    assert http.get("/v1/approvals/ap-rotate").json()["approval"]["votes"] == []
    first = http.post(path, json={"approver": "ada"}).json()
    assert first["approval"]["status"] == "pending" and first["resume"] == "waiting_for_approvers"
    _error(http.post(path, json={"approver": " ADA "}), 409, "duplicate_approver")
    second = http.post(path, json={"approver": "bob"}).json()
    assert second["approval"]["status"] == "approved"
    assert second["approval"]["approvals_given"] == 2


def test_an_expired_approval_is_409_and_marked(http: httpx.Client) -> None:
    error = _error(
        http.post("/v1/approvals/ap-old/approve", json={"approver": "ann"}),
        409,
        "approval_expired",
    )
    assert error["details"] == {"expires_at": 1.0}
    assert http.get("/v1/approvals/ap-old").json()["approval"]["status"] == "expired"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'["approver"]', 400, "invalid_request"),
        (b"[" * 100 + b"]" * 100, 400, "too_deep"),
        (b'{"approver": 7}', 422, "invalid_vote"),
        (b'{"approver": ""}', 422, "invalid_vote"),
        (b'{"approver": "a\\u0000b"}', 422, "invalid_vote"),
        (b'{"approver": "' + b"a" * 201 + b'"}', 422, "invalid_vote"),
        (b'{"comment": "' + b"c" * 4001 + b'"}', 422, "invalid_vote"),
        (b'{"approver": "ann", "arguments": {"password": "hunter2-secret"}}', 422, "invalid_vote"),
    ],
)
def test_a_malformed_body_changes_nothing(
    http: httpx.Client, content: bytes, status: int, code: str
) -> None:
    response = http.post(
        "/v1/approvals/ap-grant/approve",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    _error(response, status, code)
    assert "hunter2" not in response.text  # validation details never echo the input
    assert http.get("/v1/approvals/ap-grant").json()["approval"]["status"] == "pending"


def test_an_oversized_body_is_413(http: httpx.Client) -> None:
    big = b'{"comment": "' + b"a" * MAX_BODY_BYTES + b'"}'
    _error(http.post("/v1/approvals/ap-grant/approve", content=big), 413, "too_large")
    assert http.get("/v1/approvals/ap-grant").json()["approval"]["status"] == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/approvals/..%2F..%2Fetc%2Fpasswd/approve",
        "/v1/approvals/%2E%2E/approve",
        "/v1/approvals/ap-grant%00/approve",
        "/v1/approvals/" + "a" * 300 + "/approve",
        "/v1/approvals/ap-grant%27%20OR%20%271%27=%271/approve",
        "/v1/runs/..%2Frun-waiting",
    ],
)
def test_hostile_ids_are_404_and_not_echoed(http: httpx.Client, path: str) -> None:
    response = http.post(path, json={}) if path.endswith("/approve") else http.get(path)
    assert response.status_code == 404, response.text
    assert "a" * 300 not in response.text and "passwd" not in response.text
    assert http.get("/v1/approvals/ap-grant").json()["approval"]["status"] == "pending"


def test_runs_list_and_show(http: httpx.Client) -> None:
    runs = http.get("/v1/runs").json()["runs"]
    assert [(r["run_id"], r["status"], r["pending_approvals"]) for r in runs] == [
        ("run-waiting", "suspended", 2),
        ("run-old", "suspended", 1),
        ("run-done", "completed", 0),
    ]
    assert "state" not in runs[0]  # the runner's state stays in the store
    done = http.get("/v1/runs", params={"status": "completed"}).json()["runs"]
    assert [r["run_id"] for r in done] == ["run-done"]
    shown = http.get("/v1/runs/run-waiting").json()
    assert shown["run"]["status"] == "suspended"
    assert {a["id"] for a in shown["approvals"]} == {"ap-grant", "ap-rotate"}
    assert shown["ledger"] == [] and shown["last_resume"] is None
    _error(http.get("/v1/runs/nope"), 404, "run_not_found")


def test_a_locked_store_is_503_and_changes_nothing(tmp_path: Path, store_path: Path) -> None:
    import sqlite3

    store = SQLiteRunStore(store_path, busy_timeout=0.05)  # passed in: the test closes it
    try:
        with serving(tmp_path, store) as (base_url, _), authed_client(base_url) as http:
            blocker = sqlite3.connect(store_path, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
            try:
                response = http.post("/v1/approvals/ap-grant/approve", json={"approver": "ann"})
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            error = _error(response, 503, "run_store_unavailable")
            assert str(store_path) not in error["message"]
            assert http.get("/v1/approvals/ap-grant").json()["approval"]["status"] == "pending"
    finally:
        store.close()


# -- resuming ---------------------------------------------------------------------------------


@pytest.fixture
def suspended(tmp_path: Path) -> Iterator[tuple[Any, str, dict[str, str]]]:
    """The test bot, a run of it waiting on restart and rotate, and the approval ids."""
    bot = _approval_bot.build(tmp_path / "runs.db")
    with bot:
        result = bot.run(bot.triggers["incident"]())
        assert result.status == "approval_required"
        ids = {p.action: p.id for p in result.pending_approvals}
        yield bot, result.run_id, ids


def test_the_server_resumes_a_run_once_its_round_is_decided(
    tmp_path: Path, suspended: tuple[Any, str, dict[str, str]]
) -> None:
    bot, run_id, ids = suspended
    with serving_bot(tmp_path, bot) as (app, http):
        answer = http.post(f"/v1/approvals/{ids['restart']}/approve", json={"approver": "ann"})
        assert answer.json()["resume"] == "waiting_for_approvals"  # rotate still waits
        rotate = f"/v1/approvals/{ids['rotate']}/approve"
        answer = http.post(rotate, json={"approver": "ada"})
        assert answer.json()["resume"] == "waiting_for_approvers"
        answer = http.post(rotate, json={"approver": "bob", "comment": "checked"})
        assert answer.json()["resume"] == "scheduled"
        assert app.state.resumer.wait(RESUME_WAIT)
        shown = http.get(f"/v1/runs/{run_id}").json()
    assert shown["run"]["status"] == "completed"
    assert shown["last_resume"]["outcome"] == "resumed"
    assert shown["last_resume"]["status"] == "completed"
    assert sorted(_approval_bot.ran) == ["restart:prod", "rotate:billing"]  # each once
    assert {(e["action"], e["status"]) for e in shown["ledger"]} == {
        ("restart", "finished"),
        ("rotate", "finished"),
    }
    assert len(_approval_bot.scripted.requests) == 2  # the model heard the round once
    outputs = [i["output"] for i in _approval_bot.scripted.requests[1]["input"]]
    assert outputs == ["restarted prod", "rotated"]


def test_a_denied_round_is_resumed_too(
    tmp_path: Path, suspended: tuple[Any, str, dict[str, str]]
) -> None:
    bot, run_id, ids = suspended
    with serving_bot(tmp_path, bot) as (app, http):
        http.post(f"/v1/approvals/{ids['restart']}/deny", json={"comment": "not now"})
        answer = http.post(f"/v1/approvals/{ids['rotate']}/deny")
        assert answer.json()["resume"] == "scheduled"
        assert app.state.resumer.wait(RESUME_WAIT)
        shown = http.get(f"/v1/runs/{run_id}").json()
    assert shown["run"]["status"] == "completed"
    assert _approval_bot.ran == []
    outputs = [i["output"] for i in _approval_bot.scripted.requests[1]["input"]]
    assert all(o.startswith("Not run: a reviewer declined") for o in outputs)


def test_an_approval_that_expired_settles_the_round_too(
    tmp_path: Path, suspended: tuple[Any, str, dict[str, str]]
) -> None:
    import sqlite3

    bot, run_id, ids = suspended
    bot.run_store.decide(  # restart denied elsewhere (the CLI, say) while no server ran
        ids["restart"], ApprovalVote(approved=False, at=time.time()), now=time.time()
    )
    with contextlib.closing(sqlite3.connect(tmp_path / "runs.db")) as conn, conn:
        conn.execute("UPDATE approvals SET expires_at = 1 WHERE id = ?", (ids["rotate"],))
    with serving_bot(tmp_path, bot) as (app, http):
        late = http.post(f"/v1/approvals/{ids['rotate']}/approve", json={"approver": "ada"})
        _error(late, 409, "approval_expired")  # and the round is settled: resumed
        assert app.state.resumer.wait(RESUME_WAIT)
        shown = http.get(f"/v1/runs/{run_id}").json()
    assert shown["run"]["status"] == "completed"
    assert shown["last_resume"]["outcome"] == "resumed"
    assert _approval_bot.ran == []
    outputs = [i["output"] for i in _approval_bot.scripted.requests[1]["input"]]
    assert outputs[1].startswith("Not run: the approval for this call expired")


class FailingBot:
    """A bot whose resume fails: the server records it and keeps serving."""

    name = "helpdesk"

    def __init__(self, path: Path) -> None:
        self.run_store = SQLiteRunStore(path)
        self.calls: list[str] = []

    def resume(self, run_id: str, decisions: dict[str, Any]) -> Any:
        self.calls.append(run_id)
        raise RuntimeError("boom: token=sk-should-not-be-shown")


def test_a_failed_resume_is_logged_and_recorded_not_raised(
    tmp_path: Path, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = FailingBot(store_path)
    try:
        with serving(tmp_path, store_path, bot) as (base_url, app), authed_client(base_url) as http:
            answer = http.post("/v1/approvals/ap-grant/approve", json={"approver": "ann"})
            assert answer.json()["resume"] == "waiting_for_approvals"
            rotate = "/v1/approvals/ap-rotate/deny"
            assert http.post(rotate, json={"approver": "ann"}).json()["resume"] == "scheduled"
            assert app.state.resumer.wait(RESUME_WAIT)
            shown = http.get("/v1/runs/run-waiting").json()
            assert http.get("/v1/runs").status_code == 200  # still serving
    finally:
        bot.run_store.close()
    assert bot.calls == ["run-waiting"]
    assert shown["last_resume"]["outcome"] == "failed"
    assert shown["last_resume"]["error"] == "RuntimeError"  # no message: it may hold anything
    assert "sk-should-not-be-shown" not in str(shown)
    assert any("the resume failed" in r.getMessage() for r in caplog.records)


def test_the_resumer_thread_stops_with_the_server(
    tmp_path: Path, suspended: tuple[Any, str, dict[str, str]]
) -> None:
    bot, _run_id, ids = suspended
    with serving_bot(tmp_path, bot) as (app, http):
        http.post(f"/v1/approvals/{ids['restart']}/deny")
        http.post(f"/v1/approvals/{ids['rotate']}/deny")
        resumer = app.state.resumer
    assert not resumer.submit("run-x")  # closed with the app
    assert not [t for t in threading.enumerate() if t.name.startswith("trigger-bot-resume")]


def test_create_app_refuses_a_bot_it_cannot_resume_with(tmp_path: Path, store_path: Path) -> None:
    kwargs: dict[str, Any] = {"token": TOKEN, "db_path": tmp_path / "r.db"}
    with pytest.raises(ConfigurationError, match="needs the run store"):
        create_app(SHIPPED_POLICIES, bot=object(), **kwargs)
    with pytest.raises(ConfigurationError, match="no resume method"):
        create_app(SHIPPED_POLICIES, run_store=store_path, bot=object(), **kwargs)
    other = _approval_bot.build(tmp_path / "other.db")
    with other, pytest.raises(ConfigurationError, match="not in the run store"):
        create_app(SHIPPED_POLICIES, run_store=store_path, bot=other, **kwargs)
    in_memory = _approval_bot.build(None)
    with in_memory, pytest.raises(ConfigurationError, match="in memory"):
        create_app(SHIPPED_POLICIES, run_store=store_path, bot=in_memory, **kwargs)
