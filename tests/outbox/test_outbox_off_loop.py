"""The outbox's SQLite insert never blocks the event loop of an async run (issue 10 §1).

Nothing here is timed: the insert blocks on a ``threading.Event`` that only another coroutine
on the run's loop sets, so the run finishes only if that coroutine progresses while the insert
is blocked. (On the event loop, the insert would hold the loop until its guard timeout, and the
release would come too late.)
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from openai_trigger_bot import Bot, action
from openai_trigger_bot._run.calls import CallResult
from openai_trigger_bot._run.offload import WorkerPool
from openai_trigger_bot._run.settle import OutboxReport, Settled
from openai_trigger_bot.governance import Decision
from openai_trigger_bot.governance.decision import ExecutionEvent, ProposedAction
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.testing import ScriptedResponses, StaticEvaluator, function_call, message

GUARD_S = 10.0
"""How long a blocked insert waits before giving up (a deadlock guard, never reached when the
loop stays free)."""


@action
def restart(service: str) -> str:
    """Restart a service.

    Args:
        service: The service.
    """
    return "restarted"


class GatedOutbox(OutcomeOutbox):
    """An outbox whose first insert blocks until ``release`` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released_in_time: list[bool] = []
        self.order: list[str] = []
        self.threads: list[str] = []

    def add(self, event: ExecutionEvent, proposal: ProposedAction | None, *, bot: str) -> str:
        self.threads.append(threading.current_thread().name)
        if not self.entered.is_set():
            self.entered.set()
            self.released_in_time.append(self.release.wait(GUARD_S))
        key = super().add(event, proposal, bot=bot)
        self.order.append(event.call_id)
        return key


def _bot(outbox: OutcomeOutbox) -> Bot:
    scripted = ScriptedResponses(
        [
            [
                function_call("restart", {"service": "a"}, call_id="c1"),
                function_call("restart", {"service": "b"}, call_id="c2"),
            ],
            [message("done")],
        ]
    )
    bot = Bot(
        name="ops",
        client=scripted.client(),
        policy=StaticEvaluator(Decision(recommendation="proceed")),
        outbox=outbox,
    )
    bot.register_actions(restart)
    return bot


def test_a_blocked_outbox_insert_leaves_the_loop_free(tmp_path: Path) -> None:
    outbox = GatedOutbox(tmp_path / "outbox.db")
    bot = _bot(outbox)

    @bot.trigger("t", prompt="p", hidden_actions=[restart])
    def t() -> dict[str, str]:
        return {}

    async def main() -> tuple[object, bool]:
        run = asyncio.create_task(bot.arun(t()))
        # Wait for the insert to start without blocking this loop, then prove the loop still
        # runs this coroutine while the insert is blocked: it is the one that releases it.
        entered = await asyncio.to_thread(outbox.entered.wait, GUARD_S)
        still_running = not run.done()
        outbox.release.set()
        return await run, entered and still_running

    with bot, outbox:
        result, progressed = asyncio.run(main())
        assert progressed
        assert outbox.released_in_time == [True]
        # both reports are in the file when the run returns, in the model's order, and were
        # written off the loop's thread
        assert result.status == "completed"  # type: ignore[attr-defined]
        assert outbox.stats().pending == 2
        assert outbox.order == ["c1", "c2"]
        assert threading.main_thread().name not in outbox.threads


def test_a_report_is_stored_even_when_the_pool_is_closed(tmp_path: Path) -> None:
    """A bot closed under a running run refuses new work on its pool: the report is stored on
    the loop instead of being lost."""
    pool = WorkerPool("closed-pool")
    pool.close()
    with OutcomeOutbox(tmp_path / "outbox.db") as outbox:
        event = ExecutionEvent(call_id="c1", tool="restart", status="executed", started_at=1.0)
        result = CallResult(output_item={}, event=event)
        report = OutboxReport(outbox, bot="ops", offload=pool)
        asyncio.run(report.settled(Settled(result, None, governed=True)))
        assert outbox.stats().pending == 1
