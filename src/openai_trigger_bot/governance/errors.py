"""Governance errors, added to the library's tree (see :mod:`openai_trigger_bot.exceptions`)::

    TriggerBotError
    ├── ConfigurationError
    │   └── PolicyError                 a policy file is broken (file and line)
    │       └── PolicyLoadError         ... with every problem found in the files
    └── EvaluatorError                  an evaluator could not decide; the gate applies
        ├── MalformedDecisionError      ``fail_mode`` (``closed`` blocks, ``open`` executes)
        └── RuleEvaluationError         a rule's ``when:`` failed on this proposal: always
            │                           fails closed unless ``fail_modes`` names its kind
            └── ConditionBudgetError    ... by spending its cost budget (``over_budget``)

``EvaluatorError`` is a runtime fault, not a developer mistake: the gate turns it into an
outcome (and records which failure happened); it never reaches the caller of ``bot.run``.

``caused_by_arguments`` separates two sorts of failure. An outage (a service down or slow, a
broken answer) is not the model's doing, so the bot's ``fail_mode`` may let the call run. A
condition that fails on *this* proposal (a missing key, an over-budget list) is something the
model's arguments can cause at will: if ``fail_mode="open"`` applied, padding a list would
switch off any deny rule. Those fail closed unless the user names the kind in ``fail_modes``.
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
        caused_by_arguments: Whether the proposal itself made the evaluation fail (a rule's
            condition on these arguments), as opposed to an outage. Such a failure fails
            closed unless ``fail_modes`` names its kind; ``fail_mode`` does not apply.
    """

    failure: str = "evaluator_error"
    caused_by_arguments: bool = False


class MalformedDecisionError(EvaluatorError):
    """An evaluator returned something that is not a :class:`Decision`."""

    failure = "malformed"


class RuleEvaluationError(EvaluatorError):
    """A rule's ``when:`` condition raised or did not return a boolean for this proposal.

    Never a silent allow: the gate treats it as an evaluator error caused by the arguments
    (``caused_by_arguments``), so it blocks whatever ``fail_mode`` says, unless ``fail_modes``
    names its kind (``evaluator_error``, or ``over_budget`` for :class:`ConditionBudgetError`).

    Attributes:
        rule_id: The rule whose condition failed.
        path: The policy file.
        line: The rule's line in that file.
    """

    caused_by_arguments = True

    def __init__(self, message: str, *, rule_id: str, path: str, line: int) -> None:
        super().__init__(f"{path}:{line}: rule {rule_id!r}: {message}")
        self.rule_id = rule_id
        self.path = path
        self.line = line


class ConditionBudgetError(RuleEvaluationError):
    """A rule's ``when:`` condition spent its cost budget on this proposal (failure kind
    ``over_budget``; see :mod:`openai_trigger_bot.governance.rules.budget`).

    The evaluation was stopped; the call is blocked unless ``fail_modes={"over_budget": "open"}``
    (the model chooses how long its lists are, so ``fail_mode="open"`` alone does not apply).
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
