"""``trigger-bot policy check|test|explain`` and ``serve`` on a directory with a dangling symlink.

Each command must fail and name the unreadable entry; none may go on with the other files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot.cli import main
from openai_trigger_bot.cli.serve import add_serve_command

from ._policy_dirs import ALLOW_WITH_TEST, policy_dir


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``allow.yaml`` beside ``deny.yaml``, a symlink to a file that no longer exists."""
    folder, _, target = policy_dir(tmp_path, allow=ALLOW_WITH_TEST)
    target.unlink()
    return folder


def output(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize("command", ["check", "test"])
def test_check_and_test_fail_naming_the_dangling_symlink(
    folder: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", command, str(folder)]) != 0
    text = output(capsys)
    assert str(folder / "deny.yaml") in text
    assert "dangling symlink" in text
    assert "passed" not in text  # `test` ran nothing on the partial set


def test_explain_fails_naming_the_dangling_symlink(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal = tmp_path / "p.json"
    proposal.write_text(json.dumps({"action": "drop_database"}))
    assert main(["policy", "explain", str(folder), str(proposal)]) != 0
    text = output(capsys)
    assert str(folder / "deny.yaml") in text and "dangling symlink" in text
    assert "decision:" not in text


def test_serve_starts_unready_and_names_the_dangling_symlink(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", "a-long-enough-test-token")
    started: list[Any] = []
    parser = argparse.ArgumentParser(prog="trigger-bot")
    add_serve_command(
        parser.add_subparsers(dest="command", required=True),
        runner=lambda app, **kwargs: started.append(app),
    )
    args = parser.parse_args(["serve", "--policies", str(folder), "--db", str(tmp_path / "r.db")])
    args.func(args)
    text = output(capsys)
    assert str(folder / "deny.yaml") in text and "dangling symlink" in text
    (app,) = started
    state = app.state.policies.state
    assert state.evaluator is None  # never serves allow.yaml without deny.yaml
    assert [p.path for p in state.problems] == [str(folder / "deny.yaml")]
