"""A rate-limit count that waits for its store never blocks the event loop of an async run
(issue 10 §1), and a response's calls still see each other's outcomes.

Nothing here is timed: the first count blocks on a ``threading.Event`` that only another
coroutine on the run's loop sets, so it is released in time only if that coroutine progresses
while the count is blocked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

from openai_trigger_bot import Bot, action
from openai_trigger_bot.governance.gate import Governance
from openai_trigger_bot.governance.rules.engine import LocalRulesEvaluator
from openai_trigger_bot.governance.rules.history import InMemoryHistory
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

GUARD_S = 10.0
"""How long a blocked count waits before giving up (a deadlock guard, never reached when the
loop stays free)."""

POLICY = """
policy: refunds
version: "1"
default: {recommendation: do_not_proceed, reason: "unlisted action"}
rules:
  - id: ok
    actions: [refund]
    decision: proceed
  - id: velocity
    actions: [refund]
    when: 'history.executed >= 1'
    history: {window: 1h}
    decision: {recommendation: do_not_proceed, reason: "one refund per hour"}
"""

ran: list[str] = []


@action
def refund(customer: str) -> str:
    """Refund a customer.

    Args:
        customer: The customer.
    """
    ran.append(customer)
    return "refunded"


class GatedHistory:
    """A history whose first count blocks until ``release`` is set (like a store's count
    waiting for a write lock); otherwise an in-memory history."""

    def __init__(self) -> None:
        self.inner = InMemoryHistory()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released_in_time: list[bool] = []
        self.threads: list[str] = []

    def record(
        self, action: str, status: str, *, target: str | None = None, at: float | None = None
    ) -> None:
        self.inner.record(action, status, target=target, at=at)

    def counts(self, action: str, *, since: float, target: str | None = None) -> Mapping[str, int]:
        self.threads.append(threading.current_thread().name)
        if not self.entered.is_set():
            self.entered.set()
            self.released_in_time.append(self.release.wait(GUARD_S))
        return self.inner.counts(action, since=since, target=target)


def test_a_blocked_history_count_leaves_the_loop_free() -> None:
    ran.clear()
    history = GatedHistory()
    policy = LocalRulesEvaluator.from_yaml_string(POLICY, history=history)
    assert Governance(evaluator=policy).decides_off_loop
    scripted = ScriptedResponses(
        [
            [
                function_call("refund", {"customer": "a"}, call_id="c1"),
                function_call("refund", {"customer": "b"}, call_id="c2"),
            ],
            [message("done")],
        ]
    )
    bot = Bot(name="shop", client=scripted.client(), policy=policy)
    bot.register_actions(refund)

    @bot.trigger("t", prompt="p", hidden_actions=[refund])
    def t() -> dict[str, str]:
        return {}

    async def main() -> tuple[object, bool]:
        run = asyncio.create_task(bot.arun(t()))
        entered = await asyncio.to_thread(history.entered.wait, GUARD_S)
        still_running = not run.done()
        history.release.set()
        return await run, entered and still_running

    with bot:
        result, progressed = asyncio.run(main())
    assert progressed
    assert history.released_in_time == [True]
    assert threading.main_thread().name not in history.threads
    # the first refund's outcome was recorded before the second was decided: the limit held
    statuses = [e.status for e in result.events]  # type: ignore[attr-defined]
    assert statuses == ["executed", "blocked"]
    assert ran == ["a"]


def test_an_in_memory_history_is_counted_on_the_loop() -> None:
    """In-process counts never wait: no thread hop for them."""
    policy = LocalRulesEvaluator.from_yaml_string(POLICY, history=InMemoryHistory())
    assert not Governance(evaluator=policy).decides_off_loop
