"""The offload seam is explicit: ``Bot.run`` calls a sync client and SQLite memory inline on
its own thread, ``Bot.arun`` calls them off the event loop's thread (issue 10 §1).

Where each blocking call ran is recorded with ``threading.get_ident()`` in the fake HTTP
transports and in a real SQLite store; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from openai_trigger_bot import Bot, MemoryRequest, action
from openai_trigger_bot.memory import MemoryManager, OpenAIEmbedder, SQLiteMemoryStore
from openai_trigger_bot.memory.records import Memory, NewMemory
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from .memory._helpers import BASE_URL, EmbeddingsAPI


class _Threads:
    """Thread ids of the blocking calls, by what was called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: dict[str, set[int]] = {}

        self.names: set[str] = set()

    def note(self, what: str) -> None:
        with self._lock:
            self.seen.setdefault(what, set()).add(threading.get_ident())
            self.names.add(threading.current_thread().name)


class _RecordingStore(SQLiteMemoryStore):
    """A real SQLite store that notes which thread writes and reads it."""

    def __init__(self, path: Path, threads: _Threads) -> None:
        super().__init__(path)
        self.threads = threads

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        self.threads.note("store.add")
        return super().add(items, now=now)

    def recent(self, *args: Any, **kwargs: Any) -> list[Memory]:
        self.threads.note("store.recent")
        return super().recent(*args, **kwargs)


def _bot(tmp_path: Path, threads: _Threads) -> Bot:
    scripted = ScriptedResponses([[function_call("note", {"text": "hello"})], [message("done")]])

    def handle_model(request: httpx2.Request) -> httpx2.Response:
        threads.note("model")
        return scripted.handle(request)

    client = openai.OpenAI(
        api_key="sk-test",
        base_url=scripted.base_url,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle_model)),
    )
    api = EmbeddingsAPI()

    def handle_embeddings(request: httpx2.Request) -> httpx2.Response:
        threads.note("embeddings")
        return api.handle(request)

    embeddings = openai.OpenAI(
        api_key="sk-test",
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle_embeddings)),
    )
    memory = MemoryManager(
        _RecordingStore(tmp_path / "memory.db", threads), OpenAIEmbedder(embeddings, dimensions=8)
    )
    memory.remember("hello is the greeting", scope="global")
    threads.seen.clear()
    threads.names.clear()

    @action(global_action=True)
    async def note(text: str) -> str:
        """Note a text (async: the bot's worker pool is never needed).

        Args:
            text: The note.
        """
        return text

    bot = Bot(name="seam", client=client, memory=memory)
    bot.register_actions(note)

    @bot.trigger("go", prompt="Note it.", memory_request=MemoryRequest(scopes=("global",)))
    def go(text: str) -> str:
        return text

    return bot


_EXPECTED = {"model", "embeddings", "store.add", "store.recent"}


def test_bot_run_calls_a_sync_client_and_sqlite_memory_inline(tmp_path: Path) -> None:
    threads = _Threads()
    with _bot(tmp_path, threads) as bot:
        before = set(threading.enumerate())
        result = bot.run(bot.triggers["go"]("hello"))
        extra = set(threading.enumerate()) - before
    assert result.status == "completed", result.error
    assert set(threads.seen) == _EXPECTED
    here = threading.get_ident()
    assert {what: ids for what, ids in threads.seen.items() if ids != {here}} == {}
    # No worker thread (pool or default executor); only the history writer memory owns.
    assert {t.name for t in extra} <= {"memory-history"}


def test_bot_arun_calls_a_sync_client_and_sqlite_memory_off_the_loop(tmp_path: Path) -> None:
    threads = _Threads()

    async def main() -> tuple[str, int]:
        async with _bot(tmp_path, threads) as bot:
            result = await bot.arun(bot.triggers["go"]("hello"))
        return result.status, threading.get_ident()

    status, loop_thread = asyncio.run(main())
    assert status == "completed"
    assert set(threads.seen) == _EXPECTED
    assert {what: ids for what, ids in threads.seen.items() if loop_thread in ids} == {}
    # The bot's own pool (closed with the bot), not the loop's default executor.
    assert {name.split("_")[0] for name in threads.names} == {"trigger-bot-action:seam"}


def test_memory_async_api_outside_a_run_stays_off_the_loop(tmp_path: Path) -> None:
    threads = _Threads()
    memory = MemoryManager(_RecordingStore(tmp_path / "memory.db", threads))

    async def main() -> int:
        await memory.aremember("the sky is blue")
        await memory.arecall(MemoryRequest(scopes=("global",)), query="sky")
        return threading.get_ident()

    with memory:
        loop_thread = asyncio.run(main())
    assert set(threads.seen) == {"store.add", "store.recent"}
    assert {what: ids for what, ids in threads.seen.items() if loop_thread in ids} == {}


def test_the_ambient_flag_is_gone() -> None:
    module = importlib.import_module("openai_trigger_bot.models.openai")
    assert not hasattr(module, "inline_sync_calls")
    with pytest.raises(ImportError):
        exec("from openai_trigger_bot.models.openai import inline_sync_calls", {})
