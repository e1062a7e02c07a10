"""Governance errors, added to the library's tree (see :mod:`openai_trigger_bot.exceptions`)::

    TriggerBotError
    ├── ConfigurationError
    │   └── PolicyError                 a policy file is broken (file and line)
    │       └── PolicyLoadError         ... with every problem found in the files
    └── EvaluatorError                  an evaluator could not decide; the gate applies
        ├── MalformedDecisionError      ``fail_mode`` (``closed`` blocks, ``open`` executes)
        └── RuleEvaluationError         a rule's ``when:`` failed on this proposal
            └── ConditionBudgetError    ... by spending its cost budget (``over_budget``)

``EvaluatorError`` is a runtime fault, not a developer mistake: the gate turns it into an
outcome (and records which failure happened); it never reaches the caller of ``bot.run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import PolicyError, TriggerBotError

__all__ = [
    "ConditionBudgetError",
    "EvaluatorError",
    "MalformedDecisionError",
    "PolicyLoadError",
    "PolicyProblem",
    "RuleEvaluationError",
]


class EvaluatorError(TriggerBotError):
    """An evaluator failed to produce a decision (the gate applies ``fail_mode``).

    Attributes:
        failure: The failure kind the gate records (``"evaluator_error"`` unless a subclass or
            a remote evaluator says otherwise: ``"timeout"``, ``"circuit_open"``...).
    """

    failure: str = "evaluator_error"


class MalformedDecisionError(EvaluatorError):
    """An evaluator returned something that is not a :class:`Decision`."""

    failure = "malformed"


class RuleEvaluationError(EvaluatorError):
    """A rule's ``when:`` condition raised or did not return a boolean for this proposal.

    Never a silent allow: the gate treats it as an evaluator error.

    Attributes:
        rule_id: The rule whose condition failed.
        path: The policy file.
        line: The rule's line in that file.
    """

    def __init__(self, message: str, *, rule_id: str, path: str, line: int) -> None:
        super().__init__(f"{path}:{line}: rule {rule_id!r}: {message}")
        self.rule_id = rule_id
        self.path = path
        self.line = line


class ConditionBudgetError(RuleEvaluationError):
    """A rule's ``when:`` condition spent its cost budget on this proposal (failure kind
    ``over_budget``; see :mod:`openai_trigger_bot.governance.rules.budget`).

    The evaluation was stopped, so the gate applies ``fail_mode`` as for any evaluator error.
    """

    failure = "over_budget"


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong in a policy file.

    Attributes:
        path: The file.
        line: The 1-based line, when known.
        message: What is wrong and what to do about it.
    """

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class PolicyLoadError(PolicyError):
    """One or more policy files are broken; ``problems`` lists everything found.

    ``path``, ``line`` and the first line of the message are those of the first problem.
    """

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        if not problems:
            raise ValueError("PolicyLoadError needs at least one problem")
        first = problems[0]
        message = first.message
        if len(problems) > 1:
            rest = "\n".join(f"  {problem}" for problem in problems[1:])
            message += f"\n{len(problems) - 1} more problem(s):\n{rest}"
        super().__init__(message, path=first.path, line=first.line)
        self.problems: tuple[PolicyProblem, ...] = tuple(problems)
