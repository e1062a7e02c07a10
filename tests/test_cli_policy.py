"""``trigger-bot policy check|test|explain``."""

from __future__ import annotations

import json
import re
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
    captured = capsys.readouterr()
    assert captured.out == ""
    first, *details = captured.err.splitlines()
    assert first == (
        f"trigger-bot policy test: error: the policies in {tmp_path} do not load (1 problem(s)); "
        f"fix them, then run again (trigger-bot policy check {tmp_path} lists them too)"
    )
    assert len(details) == 1
    assert details[0].startswith(f"  {tmp_path / 'p.yaml'}:1")


def test_explain_shows_matches_and_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    proposal.write_text(json.dumps({"action": "pay", "value": 3}))
    assert main(["policy", "explain", str(tmp_path), str(proposal)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^MATCH \(decides\) +small ", out, re.MULTILINE), out
    assert "outcome (enforced): execute" in out


def test_explain_says_a_failing_condition_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    proposal.write_text(json.dumps({"action": "pay"}))  # no value: `value < 10` fails on null
    main(["policy", "explain", str(tmp_path), str(proposal)])
    out = " ".join(capsys.readouterr().out.split())
    assert "outcome: blocked" in out, out
    assert "fail_modes" in out


def test_explain_with_a_bad_proposal_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    proposal.write_text('{"args": {}}')
    assert main(["policy", "explain", str(tmp_path), str(proposal)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"trigger-bot policy explain: error: the proposal in {proposal} is not valid: "
        "action: field required; write a JSON object such as "
        '{"action": "issue_refund", "args": {"amount": 40}, "value": 40} '
        "(keys: trigger-bot policy explain --help)\n"
    )
    assert "http" not in captured.err and "input_value" not in captured.err


@pytest.mark.parametrize("command", ["check", "test", "explain"])
def test_a_missing_path_is_worded_the_same_by_every_command(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./policies here: the default path is missing too
    proposal = tmp_path / "p.json"
    proposal.write_text('{"action": "pay"}')
    extra = [str(proposal)] if command == "explain" else []
    for given in (["nope"], []):
        assert main(["policy", command, *given, *extra]) == 2
        captured = capsys.readouterr()
        name = given[0] if given else "policies"
        assert captured.out == ""
        assert captured.err == (
            f"trigger-bot policy {command}: error: the policy directory or file {name} does not "
            "exist; "
            f"pass one (the default is policies), or create it with: "
            f"trigger-bot policy init {name}\n"
        )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (None, "cannot read the proposal file {p}: No such file or directory"),
        (
            "{",
            "the proposal file {p} is not JSON (Expecting property name enclosed in "
            "double quotes at line 1 column 2)",
        ),
        ("[1]", "the proposal file {p} holds a JSON list"),
        (
            '{"action": "pay", "metadata": {"tags": 7}}',
            "the proposal in {p} is not valid: metadata.tags: input should be ",
        ),
        ('{"action": "pay", "args": 3}', "the proposal in {p} is not valid: args: "),
        ('{"action": "pay", "value": ' + "9" * 5000 + "}", "the proposal file {p} is not usable"),
    ],
    ids=["missing", "bad-json", "not-object", "bad-field", "bad-args", "huge-int"],
)
def test_explain_words_every_bad_proposal_in_one_line(
    content: str | None,
    what: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "p.yaml").write_text(GOOD)
    proposal = tmp_path / "proposal.json"
    if content is not None:
        proposal.write_text(content)
    assert main(["policy", "explain", str(tmp_path), str(proposal)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trigger-bot policy explain: error: {what.format(p=proposal)}"), err
    assert err.count("\n") == 1 and "; write a JSON object such as " in err
    assert "http" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "default"),
    [
        (["policy", "check"], "(default: policies)"),
        (["policy", "test"], "(default: policies)"),
        (["policy", "explain"], "(default: policies)"),
        (["policy", "explain"], "(default: enforced)"),
        (["policy", "init"], "(default: policies)"),
        (["demo"], "(default: gpt-5.2)"),
    ],
)
def test_help_states_the_defaults_and_exit_status(
    argv: list[str], default: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert default in out
    if argv[0] == "policy":
        assert "Exit status: 0 " in out and "; 2 could not run (" in out
