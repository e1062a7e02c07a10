"""Broken policy files fail at load with the file, the line and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_trigger_bot.exceptions import ConfigurationError, PolicyError
from openai_trigger_bot.governance import LocalRulesEvaluator, PolicyLoadError, check_policies
from openai_trigger_bot.governance.rules import load_policy_file, load_policy_string
from openai_trigger_bot.governance.rules._parse import parse_window

GOOD = """\
policy: good
version: "1"
default: proceed
rules:
  - id: r1
    actions: [refund]
    decision: proceed
"""

# (name, yaml, line of the first problem, words the message must contain)
BROKEN: list[tuple[str, str, int, list[str]]] = [
    (
        "unknown rule key",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n    acitons: [a]\n"
        "    decision: proceed\n",
        6,
        ["unknown key 'acitons'", "did you mean 'actions'"],
    ),
    (
        "unknown top-level key",
        "policy: p\nversion: '1'\ndefault: proceed\nrulez: []\n",
        4,
        ["unknown key 'rulez'", "rules"],
    ),
    ("missing default", "policy: p\nversion: '1'\nrules: []\n", 1, ["required key 'default'"]),
    ("missing policy id", "version: '1'\ndefault: proceed\n", 1, ["required key 'policy'"]),
    ("empty file", "", 1, ["empty", "policy:"]),
    ("not a mapping", "- a\n- b\n", 1, ["must be a mapping"]),
    (
        "invalid yaml",
        "policy: p\nversion: '1'\ndefault: {recommendation: proceed\nrules: []\n",
        4,
        ["invalid YAML"],
    ),
    (
        "duplicate key",
        "policy: p\nversion: '1'\ndefault: proceed\ndefault: do_not_proceed\n",
        4,
        ["duplicate key 'default'"],
    ),
    (
        "unknown recommendation",
        "policy: p\nversion: '1'\ndefault: procede\n",
        3,
        ["'procede'", "did you mean 'proceed'", "do_not_proceed"],
    ),
    (
        "unknown mode",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n    decision:\n"
        "      recommendation: proceed\n      mode: manual\n",
        8,
        ["mode", "'manual'", "autonomous"],
    ),
    (
        "risk out of range",
        "policy: p\nversion: '1'\ndefault: {recommendation: proceed, risk: 1.5}\n",
        3,
        ["risk is 1.5", "from 0 to 1"],
    ),
    (
        "risk not a number",
        "policy: p\nversion: '1'\ndefault: {recommendation: proceed, risk: high}\n",
        3,
        ["risk must be a number"],
    ),
    (
        "rules not a list",
        "policy: p\nversion: '1'\ndefault: proceed\nrules: {id: r}\n",
        4,
        ["rules must be a list"],
    ),
    (
        "wrong type for a dimension",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    environment: {prod: true}\n    decision: proceed\n",
        6,
        ["environment must be a string or a list of strings"],
    ),
    (
        "unknown risk level",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n    risk: [hgih]\n"
        "    decision: proceed\n",
        6,
        ["'hgih'", "did you mean 'high'"],
    ),
    (
        "unclosed glob set",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    actions: ['grant_[ab']\n    decision: proceed\n",
        6,
        ["'grant_[ab'", "without a closing ']'"],
    ),
    (
        "glob with bad characters",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    actions: ['grant access']\n    decision: proceed\n",
        6,
        ["'grant access'", "letters, digits"],
    ),
    (
        "cel syntax error on one line",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    when: 'args.amount >'\n    decision: proceed\n",
        6,
        ["rule 'r'", "not valid CEL", "Syntax error"],
    ),
    (
        "cel syntax error in a block scalar",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n    when: |\n"
        "      args.a > 1 &&\n      (args.b\n    decision: proceed\n",
        8,
        ["not valid CEL", "missing ')'"],
    ),
    (
        "unknown cel variable",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    when: 'arg.amount > 1'\n    decision: proceed\n",
        6,
        ["unknown variable(s) arg", "available:", "args"],
    ),
    (
        "history without window",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    when: 'history.executed > 1'\n    decision: proceed\n",
        6,
        ["uses `history`", "history: {window: 1h}"],
    ),
    (
        "history window not a duration",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    when: 'history.executed > 1'\n    history: {window: soon}\n    decision: proceed\n",
        7,
        ["window must be a duration"],
    ),
    (
        "history that nothing uses",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n"
        "    when: 'args.a > 1'\n    history: {window: 1h}\n    decision: proceed\n",
        7,
        ["no `when:` condition uses `history`"],
    ),
    (
        "duplicate rule id",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - {id: r, decision: proceed}\n"
        "  - {id: r, decision: do_not_proceed}\n",
        6,
        ["duplicate rule id 'r'", "first at line 5"],
    ),
    (
        "rule without decision",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n  - id: r\n    actions: [a]\n",
        5,
        ["required key 'decision'"],
    ),
    (
        "bad rule id",
        "policy: p\nversion: '1'\ndefault: proceed\nrules:\n"
        "  - {id: 'two words', decision: proceed}\n",
        5,
        ["rule id 'two words'"],
    ),
    (
        "test with unknown outcome",
        GOOD
        + "tests:\n  - name: t\n    proposal: {action: refund}\n    expect: {outcome: allow}\n",
        11,
        ["test 't'", "expect.outcome is 'allow'", "execute"],
    ),
    (
        "test naming a rule that does not exist",
        GOOD + "tests:\n  - name: t\n    proposal: {action: refund}\n    expect: {rules: [r2]}\n",
        11,
        ["no rule 'r2' in this file"],
    ),
    (
        "test without expectations",
        GOOD + "tests:\n  - name: t\n    proposal: {action: refund}\n    expect: {}\n",
        11,
        ["expect needs at least one of"],
    ),
    (
        "test proposal without action",
        GOOD + "tests:\n  - name: t\n    proposal: {args: {}}\n    expect: {outcome: execute}\n",
        10,
        ["proposal is missing the required key 'action'"],
    ),
    (
        "test proposal with bad args",
        GOOD + "tests:\n  - name: t\n    proposal: {action: refund, args: [1]}\n"
        "    expect: {outcome: execute}\n",
        10,
        ["proposal.args", "dictionary"],
    ),
    (
        "test with bad history",
        GOOD + "tests:\n  - name: t\n    proposal: {action: refund}\n"
        "    history: {executed: many}\n    expect: {outcome: execute}\n",
        11,
        ["history must map statuses to counts"],
    ),
    (
        "test with bad time",
        GOOD + "tests:\n  - name: t\n    proposal: {action: refund}\n    now: tomorrow\n"
        "    expect: {outcome: execute}\n",
        11,
        ["now must be a timestamp"],
    ),
    (
        "test missing name",
        GOOD + "tests:\n  - proposal: {action: refund}\n    expect: {outcome: execute}\n",
        9,
        ["required key 'name'"],
    ),
]


@pytest.mark.parametrize(
    ("yaml_text", "line", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_file_names_file_line_and_fix(
    tmp_path: Path, yaml_text: str, line: int, words: list[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml_text)
    with pytest.raises(PolicyLoadError) as info:
        load_policy_file(path)
    error = info.value
    assert isinstance(error, PolicyError) and isinstance(error, ConfigurationError)
    assert (error.path, error.line) == (str(path), line)
    message = str(error)
    assert message.startswith(f"{path}:{line}: ")
    for word in words:
        assert word in message


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = (
        "policy: p\nversion: '1'\ndefault: procede\nrules:\n  - id: r\n    acitons: [a]\n"
        "    decision: proceed\n  - id: s\n    when: 'args.x >'\n    decision: proceed\n"
    )
    with pytest.raises(PolicyLoadError) as info:
        load_policy_string(text, source="many.yaml")
    lines = [problem.line for problem in info.value.problems]
    assert lines == [3, 6, 9]
    assert "2 more problem(s)" in str(info.value)
    assert "many.yaml:9:" in str(info.value)


def test_rule_and_policy_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("policy: good", "policy: other"))
    (tmp_path / "c.yml").write_text(GOOD.replace("id: r1", "id: r2"))
    problems = check_policies(tmp_path)
    messages = [str(problem) for problem in problems]
    assert len(problems) == 2
    assert messages[0].startswith(f"{tmp_path / 'b.yaml'}:5: rule id 'r1' is already used at")
    assert f"{tmp_path / 'a.yaml'}:5" in messages[0]
    assert messages[1].startswith(f"{tmp_path / 'c.yml'}:1: policy id 'good'")
    with pytest.raises(PolicyLoadError):
        LocalRulesEvaluator.from_directory(tmp_path)


def test_check_policies_is_empty_for_a_good_directory(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "notes.txt").write_text("not a policy")
    assert check_policies(tmp_path) == []
    assert check_policies(tmp_path / "a.yaml") == []
    rules = LocalRulesEvaluator.from_directory(tmp_path)
    assert [policy.id for policy in rules.policies] == ["good"]


def test_check_policies_reports_missing_and_empty_places(tmp_path: Path) -> None:
    assert "no policy files" in str(check_policies(tmp_path)[0])
    assert "no such file" in str(check_policies(tmp_path / "nope.yaml")[0])
    with pytest.raises(PolicyLoadError, match="the policy directory does not exist; create it"):
        LocalRulesEvaluator.from_directory(tmp_path / "nope")


def test_from_files_loads_a_policy_set(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text(GOOD)
    second = tmp_path / "second.yaml"
    second.write_text("policy: second\nversion: 2026-11-24\ndefault: do_not_proceed\n")
    rules = LocalRulesEvaluator.from_files(first, second)
    assert [p.version for p in rules.policies] == ["1", "2026-11-24"]
    assert [rule.order for rule in rules.rules] == [0]


def test_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyLoadError, match="cannot read the file") as info:
        load_policy_file(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        (90, 90.0),
        ("0h", None),
        ("1y", None),
        (True, None),
        (-5, None),
    ],
)
def test_windows(text: object, seconds: float | None) -> None:
    assert parse_window(text) == seconds
