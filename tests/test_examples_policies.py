"""The example bot's own policy file carries tests; they run in CI like the shipped ones."""

from __future__ import annotations

from pathlib import Path

from openai_trigger_bot.governance.rules import check_policies, run_policy_tests

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "policies"


def test_example_policies_are_valid_and_their_tests_pass() -> None:
    assert check_policies(EXAMPLES) == []
    report = run_policy_tests(EXAMPLES)
    assert report.passed == len(report.results) >= 4, report.format()
