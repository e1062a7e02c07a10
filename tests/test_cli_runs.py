"""``trigger-bot approvals`` and ``trigger-bot runs`` against a real run store file."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import pytest

from openai_trigger_bot.cli import _run_store as cli_store
from openai_trigger_bot.cli import main
from openai_trigger_bot.runs import ApprovalVote, SQLiteRunStore
from openai_trigger_bot.runs._schema import SCHEMA_VERSION

from .runs._helpers import approval, run
from .test_cli_error_style import STYLE


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with one suspended run waiting on two approvals, and a finished run."""
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv(cli_store.STORE_ENV, raising=False)
    path = tmp_path / "runs.db"
    now = time.time()
    with SQLiteRunStore(path) as store:
        store.create(
            run("run-waiting", at=now),
            [
                approval(
                    "ap-grant",
                    "run-waiting",
                    expires_at=now + 3600,
                    data={
                        "decision": {
                            "recommendation": "review",
                            "risk": "high",
                            "reason": "operator access to production",
                            "policy_id": "access",
                            "policy_version": "7",
                            "better_action": {"action": "grant_access", "args": {"role": "viewer"}},
                        }
                    },
                ),
                approval(
                    "ap-rotate",
                    "run-waiting",
                    action="rotate_credentials",
                    arguments={"service": "billing", "note": "x" * 200},
                    required=2,
                    expires_at=now + 3600,
                ),
            ],
        )
        store.create(run("run-done", status="completed", at=now - 10), [])
        store.ledger_start("k1", run_id="run-waiting", call_id="c0", action="lookup", now=now)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status, out, err = _run(argv, capsys)
    assert status == 2, (out, err)
    assert out == ""
    first = err.splitlines()[0]
    assert STYLE.fullmatch(first), first
    assert "Traceback" not in err
    return first


def test_approvals_list_shows_the_pending_ones(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(["approvals", "list", "--store", str(db)], capsys)
    assert status == 0
    header, rule, *rows = out.splitlines()[:4]
    assert header.split() == ["id", "run", "action", "arguments", "status", "votes", "expires"]
    assert set(rule) <= {"-", " "}
    lines = {line.split()[0]: line for line in rows}
    assert "rotate_credentials" in lines["ap-rotate"] and "0/2" in lines["ap-rotate"]
    assert "0/1" in lines["ap-grant"] and "in 59m" in lines["ap-grant"]
    assert "x" * 200 not in out and "..." in lines["ap-rotate"]  # long arguments shortened
    assert "2 approval(s)" in out


def test_the_store_may_come_from_the_environment(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(cli_store.STORE_ENV, str(db))
    status, out, _ = _run(["approvals", "list", "--bot", "helpdesk"], capsys)
    assert status == 0 and "ap-grant" in out
    status, out, _ = _run(["approvals", "list", "--bot", "nobody"], capsys)
    assert status == 0 and "No pending approvals for bot nobody." in out


def test_approvals_show_renders_the_decision(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(["approvals", "show", "ap-grant", "--store", str(db)], capsys)
    assert status == 0
    assert "operator access to production" in out
    assert "access (version 7)" in out
    assert '"role": "viewer"' in out  # the better action, offered as an edit
    assert '"token": "[redacted]"' in out


def test_approve_records_the_os_user_and_says_how_to_go_on(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOGNAME", "ops-ada")  # getpass.getuser reads it first
    argv = ["approvals", "approve", "ap-grant", "--comment", "ticket 42", "--store", str(db)]
    status, out, _ = _run(argv, capsys)
    assert status == 0
    assert "is approved" in out and "trigger-bot runs resume run-waiting" in out
    with SQLiteRunStore(db) as store:
        row = store.get_approval("ap-grant")
    assert row.status == "approved"
    assert [(v.approver, v.comment) for v in row.votes] == [("ops-ada", "ticket 42")]


def test_two_approvers_are_needed_for_four_eyes(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["approvals", "approve", "ap-rotate", "--store", str(db)]
    status, out, _ = _run([*base, "--approver", "ada"], capsys)
    assert status == 0 and "1/2 approvals; 1 more distinct approver(s) needed" in out
    first = _error([*base, "--approver", "ada"], capsys)
    assert "already approved by 'ada'" in first
    status, out, _ = _run([*base, "--approver", "bob"], capsys)
    assert status == 0 and "is approved" in out


def test_deny_then_a_second_decision_is_refused(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["approvals", "deny", "ap-grant", "--approver", "bob", "--store", str(db)]
    status, out, _ = _run(argv, capsys)
    assert status == 0 and "is denied" in out
    first = _error(["approvals", "approve", "ap-grant", "--store", str(db)], capsys)
    assert first.startswith("trigger-bot approvals approve: error: approval ap-grant is already")


def test_an_expired_approval_is_refused_and_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "runs.db"
    with SQLiteRunStore(path) as store:
        store.create(run(), [approval(expires_at=time.time() - 120)])
    first = _error(["approvals", "approve", "ap-1", "--store", str(path)], capsys)
    assert "approval ap-1 expired" in first
    status, out, _ = _run(["approvals", "list", "--all", "--store", str(path)], capsys)
    assert status == 0 and "expired" in out.split("\n")[2]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["approvals", "list"], "no run store given"),
        (["approvals", "show", "nope", "--store", "{db}"], "no approval 'nope'"),
        (["approvals", "approve", "nope", "--store", "{db}"], "no approval 'nope'"),
        (["approvals", "list", "--store", "{tmp}/missing.db"], "does not exist"),
        (["runs", "show", "nope", "--store", "{db}"], "no run 'nope'"),
        (["runs", "cancel", "run-done", "--store", "{db}"], "run run-done is completed"),
        (["runs", "list", "--store", "{tmp}"], "it is a directory"),
        (["approvals", "approve", "ap-rotate", "--approver", " ", "--store", "{db}"], "empty"),
        (["runs", "resume", "run-waiting", "--bot", "nocolon"], "not module:attribute"),
        (["runs", "resume", "run-waiting", "--bot", "no_such_module_x:bot"], "cannot import"),
        (["runs", "resume", "run-waiting", "--bot", "json:nothing"], "has no attribute"),
        (["runs", "resume", "run-waiting", "--bot", "json:dumps"], "has no resume method"),
    ],
)
def test_errors_are_one_line_with_status_2(
    db: Path, tmp_path: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.replace("{db}", str(db)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert words in _error(argv, capsys)


def test_a_newer_store_is_refused_untouched(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    first = _error(["runs", "list", "--store", str(db)], capsys)
    assert "newer" in first and "upgrade openai-trigger-bot" in first
    assert db.read_bytes() == before


def test_a_busy_store_is_one_line(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_store, "BUSY_TIMEOUT", 0.01)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        first = _error(["approvals", "approve", "ap-grant", "--store", str(db)], capsys)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert "is busy" in first and "retry" in first


def test_runs_list_show_and_cancel(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(["runs", "list", "--store", str(db)], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["run", "bot", "trigger", "status", "pending", "updated", "lease"]
    assert lines[2].split()[:5] == ["run-waiting", "helpdesk", "ticket", "suspended", "2"]
    assert lines[3].split()[:5] == ["run-done", "helpdesk", "ticket", "completed", "0"]
    status, out, _ = _run(["runs", "list", "--status", "completed", "--store", str(db)], capsys)
    assert "run-waiting" not in out and "run-done" in out

    status, out, _ = _run(["runs", "show", "run-waiting", "--store", str(db)], capsys)
    assert status == 0
    assert "Approvals" in out and "ap-rotate" in out and "ap-grant" in out
    assert "Executions" in out and "started (unknown if interrupted)" in out

    status, out, _ = _run(["runs", "cancel", "run-waiting", "--store", str(db)], capsys)
    assert status == 0 and "Cancelled run run-waiting; 2 pending approval(s) closed." in out
    with SQLiteRunStore(db) as store:
        assert store.load("run-waiting").status == "cancelled"
        assert {a.status for a in store.list_approvals(status=None)} == {"cancelled"}
    first = _error(["approvals", "approve", "ap-grant", "--store", str(db)], capsys)
    assert "already cancelled" in first


def test_runs_resume_calls_the_bots_resume(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "resumable_bot_mod.py").write_text(
        "class FakeBot:\n"
        "    calls = []\n"
        "    def resume(self, run_id, decisions):\n"
        "        self.calls.append((run_id, decisions))\n"
        "        return 'resumed'\n"
        "bot = FakeBot()\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    status, out, _ = _run(
        ["runs", "resume", "run-waiting", "--bot", "resumable_bot_mod:bot"], capsys
    )
    assert status == 0 and "Resumed run run-waiting" in out
    assert sys.modules["resumable_bot_mod"].FakeBot.calls == [("run-waiting", {})]


def test_the_vote_arguments_show_as_an_edit(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SQLiteRunStore(db) as store:
        edit = ApprovalVote(
            approved=True, approver="ada", at=time.time(), arguments={"role": "viewer"}
        )
        store.decide("ap-grant", edit, now=time.time())
    status, out, _ = _run(["approvals", "show", "ap-grant", "--store", str(db)], capsys)
    assert status == 0 and "approve" in out and "ada" in out


def test_a_lease_of_a_process_that_is_gone_shows_as_free(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import subprocess

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = f"{socket.gethostname()}:{child.stdout.strip()}:gone"
    with SQLiteRunStore(db) as store:
        store.claim("run-waiting", owner=dead, lease_s=3600, now=time.time())
    status, out, _ = _run(["runs", "show", "run-waiting", "--store", str(db)], capsys)
    assert status == 0 and "(process gone; free)" in out
