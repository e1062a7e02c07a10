"""The SQLite store: schema checks, WAL, and real threads and processes on one file."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from openai_trigger_bot.memory import (
    Memory,
    MemoryManager,
    MemoryRequest,
    MemorySchemaError,
    NewMemory,
    SQLiteMemoryStore,
)

from . import _workers

SPAWN = multiprocessing.get_context("spawn")


def run_processes(*jobs: tuple[object, tuple[object, ...]]) -> None:
    procs = [SPAWN.Process(target=target, args=args) for target, args in jobs]  # type: ignore[arg-type]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_a_new_file_gets_wal_and_the_schema_version_in_its_header(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLiteMemoryStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x4F54424D
    conn.close()


def test_a_schema_version_mismatch_is_refused_and_the_file_left_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    with SQLiteMemoryStore(path) as store:
        store.record_outcomes([])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(MemorySchemaError, match=r"version 99.*newer openai-trigger-bot"):
        SQLiteMemoryStore(path)
    assert path.read_bytes() == before


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('alice')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(MemorySchemaError, match="another application"):
        MemoryManager(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text('{"this": "is json, not sqlite"}' * 10)
    before = path.read_bytes()
    with pytest.raises(MemorySchemaError, match="cannot be opened"):
        SQLiteMemoryStore(path)
    assert path.read_bytes() == before


def test_threads_and_processes_writing_one_file_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    SQLiteMemoryStore(path).close()
    local = threading.Thread(target=_workers.write_memories, args=(path, "main", 2, 40))
    local.start()
    run_processes(*[(_workers.write_memories, (path, f"p{n}", 2, 40)) for n in range(3)])
    local.join()
    with MemoryManager(path) as memory:
        assert memory.count() == 4 * 2 * 40
        texts = {m.text for m in memory.store.recent(["scope-0", "scope-1", "scope-2"], 999, now=0)}
    assert texts == {
        f"note {w}-{t}-{i}" for w in ("main", "p0", "p1", "p2") for t in (0, 1) for i in range(40)
    }


def test_the_vector_cache_sees_writes_and_deletes_of_another_process(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    request = MemoryRequest(scopes=("s",), query="zebra crossing", recent_limit=0)
    with MemoryManager(path) as memory:
        memory.remember("the alpha release shipped", scope="s")
        assert memory.select(request) == []
        assert memory.cache_info().loads == 1
        run_processes((_workers.remember_one, (path, "a zebra crossing ahead", "s")))
        assert [m.text for m in memory.select(request)] == ["a zebra crossing ahead"]
        info = memory.cache_info()
        assert (info.rows, info.loads) == (2, 1)  # appended, not reloaded
        run_processes((_workers.forget_scope, (path, "s")))
        assert memory.select(request) == []
        assert memory.cache_info().rows == 0 and memory.cache_info().loads == 2


class WatchedStore(SQLiteMemoryStore):
    """Notes which thread each write runs on, and signals when one starts."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.threads: list[int] = []

    def add(self, items: Sequence[NewMemory], *, now: float) -> list[Memory]:
        self.threads.append(threading.get_ident())
        self.entered.set()
        return super().add(items, now=now)


async def test_async_calls_wait_for_sqlite_in_a_thread_not_on_the_loop(tmp_path: Path) -> None:
    """A write waiting for another writer's lock leaves the loop free: the loop itself then
    releases the lock. A write on the loop would block it until SQLite gave up (busy timeout)
    and the write would fail with "database is locked"."""
    path = tmp_path / "m.db"
    store = WatchedStore(path)
    memory = MemoryManager(store)
    await memory.aremember("warm up", scope="s")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    store.entered.clear()
    write = asyncio.create_task(memory.aremember("written after the lock", scope="s"))
    assert await asyncio.to_thread(store.entered.wait, 30)  # the write has started
    assert not write.done()  # and waits for the lock
    blocker.execute("COMMIT")  # run by the loop, while the write waits
    stored = await asyncio.wait_for(write, 30)
    blocker.close()
    assert stored.text == "written after the lock"
    assert threading.get_ident() not in store.threads
    selected = await memory.aselect(MemoryRequest(scopes=("s",), query="lock"))
    assert selected[0].text == "written after the lock"
    await memory.aclose()


class SlowDiskStore(SQLiteMemoryStore):
    """Reads of recent memories hang until the test releases them, like a stuck disk."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released: list[bool] = []

    def recent(self, scopes: Sequence[str], limit: int, *, now: float) -> list[Memory]:
        self.entered.set()
        self.released.append(self.release.wait(30))
        return super().recent(scopes, limit, now=now)


async def test_async_select_does_not_block_the_loop(tmp_path: Path) -> None:
    """The loop releases the stuck read; a read on the loop would block it (and the release)
    until the read gave up waiting after 30 s."""
    store = SlowDiskStore(tmp_path / "m.db")
    memory = MemoryManager(store)
    await memory.aremember("slow disks are slow", scope="s")
    select = asyncio.create_task(memory.aselect(MemoryRequest(scopes=("s",), query="slow disks")))
    assert await asyncio.to_thread(store.entered.wait, 30)
    store.release.set()  # run by the loop, while the read hangs
    got = await asyncio.wait_for(select, 60)
    assert [m.text for m in got] == ["slow disks are slow"]
    assert store.released and all(store.released)
    await memory.aclose()
