"""The example policies in ``policies/`` load, and every test they carry passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_trigger_bot.governance import LocalRulesEvaluator, check_policies, run_policy_tests
from openai_trigger_bot.governance.rules import load_policy_file

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))


def test_the_shipped_policies_are_valid() -> None:
    assert len(FILES) >= 6
    assert check_policies(POLICIES) == []
    rules = LocalRulesEvaluator.from_directory(POLICIES)
    assert len(rules.rules) >= 30


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_policy_test_passes(path: Path) -> None:
    assert load_policy_file(path).tests, f"{path.name} carries no tests"
    report = run_policy_tests(path)
    assert report.ok, report.format()
    assert report.passed == len(report.results) >= 5
