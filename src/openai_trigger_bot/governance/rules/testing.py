"""Running the test cases that policy files carry (``tests:``), for the CLI and for CI.

Each file's tests run against that file alone, so a file's tests keep passing when other files
join its directory. A test sets the proposal, optionally the ``history`` counts (the same for
every window) and ``now`` (default 2026-01-01T12:00:00Z, a Thursday), and states what it
expects: the ``outcome`` under an ``enforcement`` mode (default ``enforced``), the
``recommendation``, the ``mode``, exactly which ``rules`` match, or an ``error``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..decision import Decision, Outcome, ProposedAction
from ..enforcement import outcome_for
from ..errors import RuleEvaluationError
from .engine import LocalRulesEvaluator
from .history import empty_counts
from .loader import load_policies, policy_files
from .model import Policy, PolicyTest

__all__ = [
    "DEFAULT_TEST_TIME",
    "PolicyTestReport",
    "PolicyTestResult",
    "proposal_from_dict",
    "run_policy_tests",
    "run_tests",
]

DEFAULT_TEST_TIME = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc).timestamp()
"""``now`` in a policy test that does not set it: 2026-01-01T12:00:00Z (a Thursday)."""


@dataclass(frozen=True)
class PolicyTestResult:
    """The result of one policy test.

    Attributes:
        policy_id: The policy under test.
        path: Its file.
        line: The test's line.
        name: The test's name.
        passed: Whether every expectation held.
        failures: One sentence per expectation that did not hold.
        decision: The decision made (``None`` when evaluation failed).
        outcome: The outcome under the test's enforcement mode (``None`` on error).
        error: The evaluation error, if any.
    """

    __test__ = False  # not a pytest test class

    policy_id: str
    path: str
    line: int
    name: str
    passed: bool
    failures: tuple[str, ...] = ()
    decision: Decision | None = None
    outcome: Outcome | None = None
    error: str | None = None


@dataclass(frozen=True)
class PolicyTestReport:
    """The results of the tests of one or more policy files.

    Attributes:
        results: One per test, in file and test order.
    """

    results: tuple[PolicyTestResult, ...]

    @property
    def passed(self) -> int:
        """How many tests passed."""
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[PolicyTestResult, ...]:
        """The tests that failed."""
        return tuple(result for result in self.results if not result.passed)

    @property
    def ok(self) -> bool:
        """True when no test failed."""
        return not self.failed

    def format(self) -> str:
        """Plain text for a terminal: one line per test, failures explained, a summary."""
        lines = []
        for result in self.results:
            status = "PASS" if result.passed else "FAIL"
            lines.append(f"{status} {result.path}:{result.line} {result.name}")
            lines.extend(f"     {failure}" for failure in result.failures)
        lines.append(f"{self.passed} passed, {len(self.failed)} failed")
        return "\n".join(lines)


def proposal_from_dict(data: Mapping[str, Any]) -> ProposedAction:
    """A proposal from the mapping a policy test (or ``trigger-bot policy explain``) uses.

    Keys: ``action`` (required), ``args``, ``metadata`` (``system``, ``risk``,
    ``environment``, ``tags``), ``trigger``, ``value``, ``target``, ``extra``, ``bot``,
    ``actor``, ``domain`` (and any other :class:`ProposedAction` field).

    Raises:
        pydantic.ValidationError: The mapping does not describe a proposal.
    """
    fields = dict(data)
    if "args" in fields:
        fields["arguments"] = fields.pop("args")
    return ProposedAction.model_validate(fields)


class _TestHistory:
    """The counts of the running test, for every window."""

    def __init__(self) -> None:
        self.current: dict[str, int] = empty_counts()

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        """Policy tests do not record outcomes."""

    def counts(self, action: str, *, since: float, target: str | None = None) -> dict[str, int]:
        """The running test's counts."""
        return self.current


class _TestClock:
    def __init__(self) -> None:
        self.now = DEFAULT_TEST_TIME

    def __call__(self) -> float:
        return self.now


def _check(test: PolicyTest, evaluator: LocalRulesEvaluator) -> PolicyTestResult:
    expect = test.expect
    failures: list[str] = []
    decision: Decision | None = None
    outcome: Outcome | None = None
    error: str | None = None
    try:
        decision = evaluator.evaluate(test.proposal)
    except RuleEvaluationError as exc:
        error = str(exc)
    if error is not None:
        if expect.error is None:
            failures.append(f"evaluation failed: {error}")
        elif expect.error not in error:
            failures.append(f"expected an error containing {expect.error!r}, got: {error}")
    elif expect.error is not None:
        failures.append(f"expected an error containing {expect.error!r}, but it decided")
    if decision is not None:
        outcome = outcome_for(decision, expect.enforcement)
        for label, wanted, actual in (
            (f"outcome ({expect.enforcement})", expect.outcome, outcome),
            ("recommendation", expect.recommendation, decision.recommendation),
            ("mode", expect.mode, decision.mode),
        ):
            if wanted is not None and wanted != actual:
                failures.append(f"expected {label} {wanted}, got {actual}")
        if expect.rules is not None and set(expect.rules) != set(decision.matched_rules):
            failures.append(
                f"expected rules [{', '.join(expect.rules)}] to match, "
                f"got [{', '.join(decision.matched_rules)}]"
            )
        if failures:
            failures.append(
                f"decision: {decision.recommendation}/{decision.mode}: {decision.reason}"
            )
    return PolicyTestResult(
        policy_id=evaluator.policies[0].id,
        path=test.path,
        line=test.line,
        name=test.name,
        passed=not failures,
        failures=tuple(failures),
        decision=decision,
        outcome=outcome,
        error=error,
    )


def run_tests(policies: Iterable[Policy]) -> PolicyTestReport:
    """Run the tests of already loaded policies, each against its own policy."""
    results: list[PolicyTestResult] = []
    for policy in policies:
        if not policy.tests:
            continue
        history = _TestHistory()
        clock = _TestClock()
        evaluator = LocalRulesEvaluator([policy], history=history, clock=clock)
        for test in policy.tests:
            history.current = {**empty_counts(), **test.history}
            clock.now = test.now if test.now is not None else DEFAULT_TEST_TIME
            results.append(_check(test, evaluator))
    return PolicyTestReport(tuple(results))


def run_policy_tests(path: str | Path) -> PolicyTestReport:
    """Load a policy file or directory and run every test it carries.

    This is what ``trigger-bot policy test`` runs.

    Raises:
        PolicyLoadError: A file is broken (fix it first; ``check_policies`` lists why).
    """
    target = Path(path)
    files = policy_files(target) if target.is_dir() else [target]
    return run_tests(load_policies(files))
