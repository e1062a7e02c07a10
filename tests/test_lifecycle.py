"""Explicit lifecycles: a bot closes what it started, and only that (issue 10 §1).

No timing: threads and loops are checked by identity after the owner's ``close()`` returned,
and the one cross-thread case is sequenced with events.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from pathlib import Path
from typing import Any

import openai
import pytest

from openai_trigger_bot import Bot, BotSettings, GovernedClient, action
from openai_trigger_bot.exceptions import UsageError
from openai_trigger_bot.memory import HashingEmbedder, MemoryManager, SQLiteMemoryStore
from openai_trigger_bot.testing import ScriptedResponses, function_call, message


class _Seen:
    """What the actions saw: the threads they ran on and the loops they ran under."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.loops: list[asyncio.AbstractEventLoop] = []


def _bot(scripted: ScriptedResponses, seen: _Seen, **options: Any) -> Bot:
    @action(global_action=True)
    def note(text: str) -> str:
        """Write a note (sync: runs in the bot's worker pool).

        Args:
            text: The note.
        """
        seen.threads.append(threading.current_thread())
        return "noted"

    @action(global_action=True)
    async def ping(text: str) -> str:
        """Ping (async: runs on the run's event loop).

        Args:
            text: What to send.
        """
        seen.loops.append(asyncio.get_running_loop())
        return "pong"

    bot = Bot("lifecycle", settings=BotSettings(model="gpt-5.2"), **options)
    bot.register_actions(note, ping)

    @bot.trigger("go", prompt="Note and ping.")
    def go(text: str) -> str:
        return text

    return bot


def _script() -> ScriptedResponses:
    return ScriptedResponses(
        [
            [function_call("note", {"text": "a"}), function_call("ping", {"text": "b"})],
            [message("done")],
        ]
    )


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


def test_with_bot_run_leaves_no_thread_and_closes_its_loops() -> None:
    before = set(threading.enumerate())
    seen = _Seen()
    scripted = _script()
    with _bot(scripted, seen, client=scripted.client()) as bot:
        result = bot.run(bot.triggers["go"]("hi"))

    assert result.status == "completed"
    assert [e.status for e in result.events] == ["executed", "executed"]
    (worker,) = seen.threads
    assert worker is not threading.current_thread()  # the sync action ran off the loop
    assert not worker.is_alive()
    assert _new_threads(before) == []
    (loop,) = seen.loops
    assert loop.is_closed()
    assert bot.closed


def test_async_with_bot_arun_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    seen = _Seen()
    scripted = _script()

    async def main() -> str:
        async with _bot(scripted, seen, client=scripted.async_client()) as bot:
            result = await bot.arun(bot.triggers["go"]("hi"))
        assert bot.closed
        return result.status

    # asyncio.run owns its loop and that loop's default executor; the bot owns the rest.
    assert asyncio.run(main()) == "completed"
    (worker,) = seen.threads
    assert not worker.is_alive()
    assert _new_threads(before) == []


def test_runs_from_several_threads_close_every_loop() -> None:
    seen = _Seen()
    scripted = ScriptedResponses([*[[function_call("ping", {"text": "x"})], [message("ok")]] * 3])
    bot = _bot(scripted, seen, client=scripted.client())
    results: list[str] = []

    def run() -> None:
        results.append(bot.run(bot.triggers["go"]("hi")).status)

    for _ in range(2):
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    # the loops of ended threads are closed as soon as the bot makes its next loop
    assert seen.loops[0].is_closed()
    run()
    bot.close()
    assert results == ["completed"] * 3
    assert len(set(map(id, seen.loops))) == 3
    assert all(loop.is_closed() for loop in seen.loops)


def test_close_twice_is_fine_and_a_closed_bot_refuses_to_run() -> None:
    seen = _Seen()
    scripted = _script()
    bot = _bot(scripted, seen, client=scripted.client())
    invocation = bot.triggers["go"]("hi")
    bot.close()
    bot.close()
    with pytest.raises(UsageError, match="bot 'lifecycle' is closed"):
        bot.run(invocation)
    with pytest.raises(UsageError, match="is closed"):
        asyncio.run(bot.arun(invocation))
    assert scripted.requests == [] and seen.threads == []


def test_a_sync_action_may_close_its_own_bot() -> None:
    scripted = ScriptedResponses([[function_call("stop", {"text": "x"})], [message("ok")]])
    workers: list[threading.Thread] = []

    @action(global_action=True)
    def stop(text: str) -> str:
        """Close the bot from inside one of its worker threads.

        Args:
            text: Ignored.
        """
        workers.append(threading.current_thread())
        bot.close()
        return "closed"

    bot = Bot("self-closing", client=scripted.client(), settings=BotSettings(model="gpt-5.2"))
    bot.register_actions(stop)

    @bot.trigger("go", prompt="Stop.")
    def go(text: str) -> str:
        return text

    result = bot.run(go("hi"))
    assert [e.status for e in result.events] == ["executed"]  # no "cannot join" error
    assert bot.closed
    workers[0].join()  # it stops once its call returned (no deadline: join waits)
    assert not workers[0].is_alive()


def test_a_closed_governed_client_refuses_to_run() -> None:
    scripted = ScriptedResponses([[message("x")]])
    with GovernedClient(scripted.client()) as gc:
        pass
    gc.close()
    with pytest.raises(UsageError, match="is closed"):
        gc.run([{"role": "user", "content": "hi"}])
    assert scripted.requests == []


def test_what_is_passed_in_stays_open(tmp_path: Path) -> None:
    memory = MemoryManager(SQLiteMemoryStore(tmp_path / "m.db"), HashingEmbedder())
    seen = _Seen()
    scripted = _script()
    client = scripted.client()
    with _bot(scripted, seen, client=client, memory=memory) as bot:
        bot.run(bot.triggers["go"]("hi"))
    assert not client.is_closed()
    memory.remember("still open", scope="s", kind="fact")  # the store was not closed
    assert memory.count(["s"]) == 1
    assert memory.history is not None
    assert memory.history.counts("note", since=0)["executed"] == 1
    memory.close()


def test_the_client_a_bot_creates_is_closed_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    bot = Bot("own-client")
    spec = bot.make_spec("r", {}, {}, [])
    client = getattr(spec.model, "client", None)
    assert isinstance(client, openai.OpenAI) and not client.is_closed()
    bot.close()
    assert client.is_closed()


def test_no_atexit_hook_and_the_history_writer_stops_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(threading.enumerate())
    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", lambda fn, *a, **k: registered.append(fn) or fn)
    memory = MemoryManager(SQLiteMemoryStore(tmp_path / "m.db"), HashingEmbedder())
    seen = _Seen()
    scripted = _script()
    with _bot(scripted, seen, client=scripted.client(), memory=memory) as bot:
        bot.run(bot.triggers["go"]("hi"))
    writers = [t for t in _new_threads(before) if t.name == "memory-history"]
    memory.close()
    assert registered == []
    assert not any(t.is_alive() for t in writers)
    with SQLiteMemoryStore(tmp_path / "m.db") as store:  # flushed before close returned
        assert store.count_outcomes("note", since=0)["executed"] == 1


def test_loop_runner_closes_a_busy_loop_when_its_run_ends() -> None:
    from openai_trigger_bot._run.sync import LoopRunner

    runner = LoopRunner("runner")
    started, release = threading.Event(), threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []

    async def wait() -> str:
        loops.append(asyncio.get_running_loop())
        started.set()
        await asyncio.to_thread(release.wait)
        return "ran"

    out: list[str] = []
    thread = threading.Thread(target=lambda: out.append(runner.run(wait())))
    thread.start()
    started.wait()
    runner.close()  # the loop is busy: left to its thread
    assert not loops[0].is_closed()
    release.set()
    thread.join()
    assert out == ["ran"] and loops[0].is_closed()

    coro = wait()
    with pytest.raises(UsageError, match="runner is closed"):
        runner.run(coro)
