"""The trigger-bot command and the runnable examples."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from openai_trigger_bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_offline_and_shows_what_happened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # wide enough for one line per cell
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "status=approval_required" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("tool "))
    col = header.index("outcome")
    tools = ("grant_access", "rotate_credentials", "lookup_user", "notify")
    statuses = [line[col:].split()[0] for line in lines if line.startswith(tools)]
    assert statuses == [
        "executed",  # lookup_user
        "invalid",  # rotate_credentials: not allowed for this trigger
        "invalid",  # grant_access: role "admin" fails validation
        "blocked",  # grant_access: vague justification
        "executed",  # grant_access: read-only with a ticket
        "executed",  # notify_requester
        "approval_required",  # grant_access: operator access to production
    ]
    assert "do_not_proceed [grant-baseline," in out  # wrapped in its column, never cut
    assert "grant-needs-justification]" in out
    assert "Not run: blocked by policy." in out
    assert "Model calls" in out
    # a reviewer approves the waiting call; the run resumes and completes
    _, resumed = out.split("A reviewer (oncall-lead) approves", 1)
    assert "resumed  status=completed" in resumed
    fields = {
        line.split()[0]: line.split(None, 1)[1]
        for line in resumed.splitlines()[4:]
        if line[:1].isalpha() and "  " in line
    }
    assert fields["tool"] == "grant_access"
    assert fields["outcome"] == "executed"
    assert fields["approval"].startswith("approved by oncall-lead")


def test_demo_live_needs_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["demo", "--live"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "trigger-bot demo: error: --live needs OPENAI_API_KEY in the environment; "
    )


def test_console_script_is_installed() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "openai_trigger_bot.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "access-bot" in proc.stdout


def test_quickstart_example_runs_offline(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # it keeps its memories in ./bot-memory.json
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "status: completed" in out
    assert "[support] Of course! What do you need help with?" in out
    assert "Run of trigger reply-to-chat: completed" in out  # captured into memory
    assert (tmp_path / "bot-memory.json").is_file()
