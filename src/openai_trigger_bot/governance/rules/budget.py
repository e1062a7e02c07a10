"""The cost bound of ``when:`` conditions: refused at load when it can be, stopped at run time.

CEL evaluation runs on the caller's thread (the event loop, for a bot) and the ``cel`` package
has no cost limit of its own (see :mod:`._cel_scan` for what it lacks and why this is built
here). Comprehensions are CEL's only loops, so the bound is on them:

**At load** (a policy error with file and line):

- comprehensions nest at most :data:`MAX_NESTING` deep (``a.all(x, x.b.exists(y, ...))`` is
  2; a third level is refused);
- a condition whose comprehensions over list or map *literals* alone would cost more than
  :data:`DEFAULT_STEPS` steps is refused (that cost is a lower bound of every evaluation).

**At run time** (:class:`ConditionBudget`):

- each comprehension iteration costs 1 step; an iteration of ``map()`` or ``filter()`` also
  costs the number of iterations before it in that call, because the ``cel`` package copies
  the partial result each time (so ``map`` over n elements costs about n²/2 steps);
- one condition may take ``steps`` steps on one proposal;
- the conditions of one decision may together run for ``seconds`` (a backstop for iterations
  made slow by large data, and for many costly rules; measured at every step);
- past either, the evaluation stops: the rule raises
  :class:`~openai_trigger_bot.governance.errors.ConditionBudgetError`, failure kind
  ``over_budget``, and the gate blocks the call: the model's arguments set the cost, so
  ``fail_mode="open"`` does not apply; only ``fail_modes={"over_budget": "open"}`` does.

The step count is deterministic (the same proposal always costs the same); only the time
backstop depends on the machine. A condition without comprehension needs no counter: its cost
is linear in the size of the expression and of the proposal's data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ._cel_scan import Comprehension

__all__ = [
    "DEFAULT_SECONDS",
    "DEFAULT_STEPS",
    "MAX_NESTING",
    "ConditionBudget",
    "Meter",
    "static_cost",
    "static_costs",
]

MAX_NESTING: Final = 2
"""How deep comprehensions may nest in one condition (checked at load)."""

DEFAULT_STEPS: Final = 100_000
"""Steps one condition may take per proposal (about 25-100 ms of CPU with ``cel`` 0.10)."""

DEFAULT_SECONDS: Final = 0.25
"""Wall time the conditions of one decision may take together (the backstop; checked at each
step)."""


@dataclass(frozen=True)
class ConditionBudget:
    """What one ``when:`` condition may cost on one proposal.

    Attributes:
        steps: Comprehension steps one condition may take on one proposal (see the module
            docstring for how they are counted).
        seconds: Wall time the conditions of one decision may run for together, checked at
            every step.
        clock: Monotonic seconds for ``seconds`` (inject a fake one in tests).
    """

    steps: int = DEFAULT_STEPS
    seconds: float = DEFAULT_SECONDS
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if self.steps < 1 or not self.seconds > 0:
            raise ValueError("a condition budget needs at least 1 step and more than 0 seconds")


class Meter:
    """Counts the steps of one condition at a time, and the time of one decision's conditions.

    ``step`` is what ``_budget_step`` calls. Use one meter per decision:
    :meth:`start` before each condition, :meth:`stop` after it.

    Args:
        budget: The limits.
    """

    __slots__ = (
        "_budget",
        "_counts",
        "_deadline",
        "_left",
        "_loops",
        "_spent",
        "_started",
        "exceeded",
        "used",
    )

    def __init__(self, budget: ConditionBudget) -> None:
        self._budget = budget
        self._loops: Sequence[Comprehension] = ()
        self._counts: list[int] = []
        self._left = budget.steps
        self._deadline = 0.0
        self._started = 0.0
        self._spent = 0.0
        self.used = 0
        self.exceeded: str | None = None

    def start(self, loops: Sequence[Comprehension]) -> None:
        """Reset the steps for one evaluation of a condition with these comprehensions."""
        self._loops = loops
        self._counts = [0] * len(loops)
        self._left = self._budget.steps
        self._started = self._budget.clock()
        self._deadline = self._started + self._budget.seconds - self._spent
        self.used = 0
        self.exceeded = None

    def stop(self) -> None:
        """The condition is done: its time counts against the decision's ``seconds``."""
        self._spent += max(self._budget.clock() - self._started, 0.0)

    def step(self, loop: int) -> bool:
        """One iteration of comprehension ``loop``; ``False`` once the budget is spent."""
        if self.exceeded is not None:
            return False
        comprehension = self._loops[loop]
        for child in comprehension.children:  # each iteration runs its children afresh
            self._counts[child] = 0
        done = self._counts[loop]
        self._counts[loop] = done + 1
        cost = 1 + done if comprehension.copying else 1
        self.used += cost
        self._left -= cost
        if self._left < 0:
            self.exceeded = f"more than {self._budget.steps:,} steps"
            return False
        if self._budget.clock() > self._deadline:
            self.exceeded = (
                f"this decision's conditions ran for more than {self._budget.seconds:g} s"
            )
            return False
        return True


def static_cost(loops: Sequence[Comprehension]) -> int:
    """The steps every evaluation takes at least: literal ranges only (others count 0)."""
    return sum(static_costs(loops).values())


def static_costs(loops: Sequence[Comprehension]) -> dict[int, int]:
    """:func:`static_cost` of each top-level comprehension, by id."""

    def cost(item: Comprehension) -> int:
        size = item.literal_size or 0
        inner = sum(cost(loops[child]) for child in item.children)
        copies = size * (size - 1) // 2 if item.copying else 0
        return size * (1 + inner) + copies

    return {item.id: cost(item) for item in loops if item.parent is None}
