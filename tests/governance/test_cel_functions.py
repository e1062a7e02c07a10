"""A ``when:`` calling a function the ``cel`` package lacks is a load error (file:line).

``cel`` compiles ``args.l.sort()`` and fails only when it runs, so such a condition passed
``policy check`` ("OK: valid") and then failed every decision (second hostile review of
issue 8). The allowed set is probed from the installed package, so these tests ask the package
too: whatever it cannot run is refused at load, whatever it runs is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cel
import pytest

from openai_trigger_bot import Bot, PolicyError
from openai_trigger_bot.cli import main
from openai_trigger_bot.governance import LocalRulesEvaluator, PolicyLoadError
from openai_trigger_bot.governance.rules import compile_condition
from openai_trigger_bot.governance.rules._cel_functions import (
    PROBES,
    call_line,
    supported_functions,
)
from openai_trigger_bot.governance.rules._cel_scan import STEP_FUNCTION
from openai_trigger_bot.governance.rules.cel import ConditionError
from openai_trigger_bot.testing import ScriptedResponses

from ._helpers import proposal

DATA: dict[str, Any] = {"args": {"l": [2, 1], "s": " A "}}

# Each runs on DATA when the function exists; most are missing from cel 0.10 (the review's
# `sort()` and `lowerAscii()` among them), a few are there.
CONDITIONS = [
    "args.l.sort().size() > 0",
    'args.s.lowerAscii() == " a "',
    'args.s.upperAscii() == " A "',
    'args.s.trim() == "A"',
    'args.s.split(" ").size() > 0',
    'args.s.replace("A", "b") != ""',
    'args.s.indexOf("A") >= 0',
    "args.l.distinct().size() > 0",
    "max(args.l) > 0",
    "args.l.frobnicate() > 0",
    "args.s.size() > 0",
    'args.s.startsWith(" ")',
    'args.s.matches("A")',
    'string(size(args.l)) == "2"',
    'timestamp("2020-01-01T00:00:00Z").getDayOfWeek() >= 0',
]


def runs(condition: str) -> bool:
    try:
        cel.compile(condition).execute(cel.Context(variables=DATA))
    except Exception:
        return False
    return True


@pytest.mark.parametrize("condition", CONDITIONS)
def test_load_agrees_with_what_the_cel_package_runs(condition: str) -> None:
    if runs(condition):
        compiled = compile_condition(condition)
        assert isinstance(compiled.execute(DATA), bool)
    else:
        with pytest.raises(ConditionError, match="does not provide"):
            compile_condition(condition)


def test_the_reviewers_conditions_are_refused_with_what_is_available() -> None:
    for condition, name in [
        ("args.l.sort().size() > 0", "sort()"),
        ('args.s.lowerAscii() == "a"', "lowerAscii()"),
    ]:
        assert not runs(condition), "this cel runs it now: pick another missing function"
        with pytest.raises(ConditionError) as info:
            compile_condition(condition)
        message = str(info.value)
        assert f"calls {name}" in message
        assert "Available: " in message and "size" in message and "startsWith" in message
        assert STEP_FUNCTION not in message and "_==_" not in message


def test_every_allowed_function_really_runs() -> None:
    # The allowed names are exactly those of the probes that ran (plus the cost counter).
    names: set[str] = {STEP_FUNCTION}
    for probe in PROBES:
        if runs(probe):
            names |= set(cel.compile(probe).references()["functions"])
    assert supported_functions() == frozenset(names)
    assert {"size", "contains", "startsWith", "timestamp", "getHours", "_==_", "@in"} <= names


def test_conditions_with_comprehensions_keep_their_cost_counter() -> None:
    compiled = compile_condition("args.l.exists(x, x > 1) && args.l.map(x, x).size() == 2")
    assert compiled.loops and compiled.execute(DATA) is True


POLICY = """\
policy: odd
version: "1"
default: {recommendation: proceed}
rules:
  - id: fine
    actions: [deploy]
    when: 'size(args.envs) > 3'
    decision: do_not_proceed
  - id: sorted
    actions: [deploy]
    when: |
      size(args.envs) > 0 &&
        args.envs.sort()[0] == "prod"
    decision: do_not_proceed
"""


def test_a_policy_calling_a_missing_function_fails_at_load_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(POLICY)
    where = f"{path}:13"  # the `sort()` line inside the block scalar
    with pytest.raises(PolicyLoadError) as info:
        LocalRulesEvaluator.from_directory(tmp_path)
    assert (info.value.path, info.value.line) == (str(path), 13)
    assert "rule 'sorted'" in str(info.value) and "sort()" in str(info.value)
    with pytest.raises(PolicyError, match="sort"):
        Bot(name="b", client=ScriptedResponses([]).client(), policy=tmp_path)
    assert main(["policy", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert where in out and "sort()" in out and "OK" not in out


def test_a_policy_calling_only_provided_functions_still_loads(tmp_path: Path) -> None:
    (tmp_path / "fine.yaml").write_text(POLICY.split("  - id: sorted")[0])
    rules = LocalRulesEvaluator.from_directory(tmp_path)
    decision = rules.evaluate(proposal("deploy", {"envs": ["a", "b", "c", "d"]}))
    assert decision.matched_rules == ("fine",)


@pytest.mark.parametrize(
    ("source", "name", "line"),
    [
        ("a.sort()", "sort", 1),
        ("size(a) > 0 &&\n  a.sort() == []", "sort", 2),
        ("a.resort() > 0 &&\n a.sort ()", "sort", 2),
        ("no call here", "sort", 1),
    ],
)
def test_call_line(source: str, name: str, line: int) -> None:
    assert call_line(source, name) == line
