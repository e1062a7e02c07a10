"""Running the ``tests:`` a policy carries, and reporting failures usefully."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from openai_trigger_bot.governance import PolicyLoadError, run_policy_tests
from openai_trigger_bot.governance.rules import load_policy_string, proposal_from_dict, run_tests

POLICY = """\
policy: refunds
version: "3"
default: review_recommended
rules:
  - {id: base, actions: [refund], decision: proceed}
  - {id: big, actions: [refund], when: 'value > 100', decision: do_not_proceed}
  - id: burst
    actions: [refund]
    when: 'history.executed >= 2'
    history: {window: 1d}
    decision: review_recommended
  - id: night
    actions: [refund]
    when: 'now.getHours() < 6'
    decision: review_recommended
tests:
  - name: small passes
    proposal: {action: refund, value: 5}
    expect: {outcome: execute, recommendation: proceed, mode: autonomous, rules: [base]}
  - name: wrong expectation fails
    proposal: {action: refund, value: 500}
    expect: {outcome: execute, rules: [base]}
  - name: history is injected
    proposal: {action: refund, value: 5}
    history: {executed: 2}
    expect: {outcome: approval_required, rules: [base, burst]}
  - name: time is injected
    proposal: {action: refund, value: 5}
    now: "2026-03-03T03:00:00Z"
    expect: {rules: [base, night]}
  - name: default time is noon
    proposal: {action: refund, value: 5}
    expect: {rules: [base]}
  - name: an expected error
    proposal: {action: refund}
    expect: {error: "value > 100"}
  - name: an unexpected error fails
    proposal: {action: refund}
    expect: {outcome: block}
  - name: an expected error that does not happen fails
    proposal: {action: refund, value: 1}
    expect: {error: "boom"}
  - name: unmatched action uses the default
    proposal: {action: payout}
    expect: {outcome: approval_required, rules: []}
  - name: outcome under another enforcement mode
    proposal: {action: refund, value: 500}
    expect: {outcome: execute, enforcement: shadow}
"""


def test_results_per_test() -> None:
    report = run_tests([load_policy_string(POLICY, source="refunds.yaml")])
    results = {result.name: result for result in report.results}
    assert len(results) == 10
    failing = {r.name for r in report.failed}
    assert failing == {
        "wrong expectation fails",
        "an unexpected error fails",
        "an expected error that does not happen fails",
    }
    assert report.passed == 7 and not report.ok
    wrong = results["wrong expectation fails"]
    assert "expected outcome (enforced) execute, got block" in wrong.failures
    assert "expected rules [base] to match, got [base, big]" in wrong.failures
    assert wrong.outcome == "block" and wrong.decision is not None
    assert wrong.line == 20 and wrong.path == "refunds.yaml" and wrong.policy_id == "refunds"
    unexpected = results["an unexpected error fails"]
    assert unexpected.error is not None and unexpected.decision is None
    assert unexpected.failures[0].startswith("evaluation failed:")


def test_format_lists_every_test_and_a_summary() -> None:
    text = run_tests([load_policy_string(POLICY, source="refunds.yaml")]).format()
    assert "PASS refunds.yaml:17 small passes" in text
    assert "FAIL refunds.yaml:20 wrong expectation fails" in text
    assert text.endswith("7 passed, 3 failed")


def test_run_policy_tests_on_a_directory_and_a_file(tmp_path: Path) -> None:
    passing = POLICY.split("  - name: wrong expectation fails")[0]
    (tmp_path / "refunds.yaml").write_text(passing)
    report = run_policy_tests(tmp_path)
    assert report.ok and report.passed == 1
    assert run_policy_tests(tmp_path / "refunds.yaml").passed == 1


def test_run_policy_tests_refuses_a_broken_directory(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("policy: p\n")
    with pytest.raises(PolicyLoadError, match=r"bad\.yaml:1"):
        run_policy_tests(tmp_path)


def test_proposal_from_dict_accepts_the_test_format() -> None:
    proposal = proposal_from_dict(
        {"action": "refund", "args": {"a": 1}, "metadata": {"system": "stripe"}, "value": 3}
    )
    assert proposal.arguments == {"a": 1} and proposal.metadata.system == "stripe"
    with pytest.raises(pydantic.ValidationError):
        proposal_from_dict({"args": {}})
