"""``trigger-bot policy check|test|explain``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openai_trigger_bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICIES = str(ROOT / "policies")

GOOD = """
policy: p
version: "1"
default: {recommendation: do_not_proceed}
rules:
  - id: small
    actions: [pay]
    when: 'value < 10'
    decision: proceed
tests:
  - name: small payment proceeds
    proposal: {action: pay, value: 5}
    expect: {outcome: execute}
"""


def test_check_shipped_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", POLICIES]) == 0
    assert "is valid" in capsys.readouterr().out


def test_check_reports_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(GOOD.replace("'value < 10'", "'value <'"))
    assert main(["policy", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'bad.yaml'}:8" in out


def test_test_runs_the_shipped_policy_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", POLICIES]) == 0
    out = capsys.readouterr().out
    assert ", 0 failed" in out


def test_test_fails_on_a_failing_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD.replace("outcome: execute", "outcome: block"))
    assert main(["policy", "test", str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_test_on_a_broken_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text("policy: [")
    assert main(["policy", "test", str(tmp_path)]) == 2
    assert "cannot load policies" in capsys.readouterr().out


def test_explain_shows_matches_and_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    proposal.write_text(json.dumps({"action": "pay", "value": 3}))
    assert main(["policy", "explain", str(tmp_path), str(proposal)]) == 0
    out = capsys.readouterr().out
    assert "MATCH small (decides)" in out
    assert "outcome (enforced): execute" in out


def test_explain_with_a_bad_proposal_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    proposal.write_text('{"args": {}}')
    assert main(["policy", "explain", str(tmp_path), str(proposal)]) == 2
    assert "cannot read the proposal" in capsys.readouterr().out
