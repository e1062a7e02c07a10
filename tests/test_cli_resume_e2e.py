"""End to end: a run suspends, a person approves with the CLI, the CLI resumes it with the bot
definition imported from ``module:attribute`` (issue 10 §5)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from openai_trigger_bot.cli import main
from openai_trigger_bot.runs import SQLiteRunStore

BOT_MODULE = textwrap.dedent(
    '''
    import os
    from openai_trigger_bot import Bot, action
    from openai_trigger_bot.testing import ScriptedResponses, function_call, message

    ran = []
    scripted = ScriptedResponses(
        [[function_call("rotate", {"service": "billing"})], [message("rotated, done")]]
    )

    @action(risk="high")
    def rotate(service: str) -> str:
        """Rotate a service's credentials.

        Args:
            service: The service.
        """
        ran.append(service)
        return "rotated"

    bot = Bot("ops", client=scripted.client(), run_store=os.environ["OPS_RUN_STORE"])

    @bot.trigger("rotate_now", prompt="Rotate billing.", hidden_actions=[rotate])
    def rotate_now() -> dict:
        return {}
    '''
)


def test_approve_with_the_cli_then_resume_with_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.db"
    (tmp_path / "e2e_ops_bot.py").write_text(BOT_MODULE)
    monkeypatch.setenv("OPS_RUN_STORE", str(db))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    monkeypatch.delitem(sys.modules, "e2e_ops_bot", raising=False)
    import e2e_ops_bot  # type: ignore[import-not-found]

    first = e2e_ops_bot.bot.run(e2e_ops_bot.rotate_now())
    assert first.status == "approval_required" and e2e_ops_bot.ran == []
    approval = first.pending_approvals[0].id

    assert main(["approvals", "approve", approval, "--approver", "ada", "--store", str(db)]) == 0
    assert e2e_ops_bot.ran == []  # deciding does not run it: resuming does
    capsys.readouterr()
    assert main(["runs", "resume", first.run_id, "--bot", "e2e_ops_bot:bot"]) == 0
    out = capsys.readouterr().out
    assert "completed" in out
    assert e2e_ops_bot.ran == ["billing"]
    with SQLiteRunStore(db) as store:
        assert store.load(first.run_id).status == "completed"
        assert [e.status for e in store.ledger_for_run(first.run_id)] == ["finished"]
    # a second resume is refused in one line, and runs nothing
    assert main(["runs", "resume", first.run_id, "--bot", "e2e_ops_bot:bot"]) == 2
    assert "already ended" in capsys.readouterr().err
    assert e2e_ops_bot.ran == ["billing"]
    e2e_ops_bot.bot.close()
