"""What one recall shows: no identical text twice, and captures never crowd out kept facts.

The issue: after two runs, recall listed the same "Run of trigger ..." record two or three
times, and the automatic run and action records pushed a fact the bot was told to keep out of
``recent_limit``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from openai_trigger_bot.memory import (
    CAPTURE_KINDS,
    FileMemoryStore,
    HashingEmbedder,
    InMemoryMemoryStore,
    Memory,
    MemoryManager,
    MemoryRequest,
    MemoryStore,
    SQLiteMemoryStore,
)

from ._helpers import FakeClock

STORES: dict[str, Callable[[Path], MemoryStore]] = {
    "inmemory": lambda path: InMemoryMemoryStore(),
    "sqlite": lambda path: SQLiteMemoryStore(path / "memory.db"),
    "file": lambda path: FileMemoryStore(path / "memory.json"),
}
FACT = "Alice's order number is 4471."
RUN = "Run of trigger reply-to-chat: completed (executed: remember_fact, send_message)."


@pytest.fixture(params=sorted(STORES))
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryManager]:
    clock = FakeClock()
    made = MemoryManager(STORES[request.param](tmp_path), HashingEmbedder(64), clock=clock)
    yield made
    made.close()


def _clock(memory: MemoryManager) -> FakeClock:
    clock = memory._clock
    assert isinstance(clock, FakeClock)
    return clock


def _runs(memory: MemoryManager, n: int, *, scope: str = "chat:support") -> None:
    """What ``n`` runs capture: two executed actions and one run record each, same texts."""
    for run in range(n):
        for call, tool in enumerate(("remember_fact", "send_message")):
            _clock(memory).advance(1)
            memory.remember(
                f"{tool}: executed (policy: proceed — no risk declared).",
                scope=scope,
                kind="action",
                key=f"call:{run}-{call}:executed",
            )
        _clock(memory).advance(1)
        memory.remember(RUN, scope=scope, kind="trigger_run", key=f"run:{run}:completed")


def test_identical_captured_texts_show_once(memory: MemoryManager) -> None:
    _runs(memory, 3)
    assert memory.count() == 9  # each run is remembered (the key keeps them apart) ...
    request = MemoryRequest(scopes=("chat:support",), recent_limit=6, semantic_limit=6)
    texts = [m.text for m in memory.select(request, query=RUN)]
    assert texts.count(RUN) == 1  # ... but one recall shows the text once
    assert len(texts) == len(set(texts)) == 3
    block = memory.recall(request, query=RUN)
    assert block is not None and block.count(RUN) == 1


def test_identical_texts_in_two_scopes_show_once(memory: MemoryManager) -> None:
    memory.remember(FACT, scope="user:alice")
    _clock(memory).advance(1)
    memory.remember(FACT, scope="chat:support")
    for recent, semantic in ((4, 0), (0, 4), (4, 4)):
        request = MemoryRequest(
            scopes=("user:alice", "chat:support"), recent_limit=recent, semantic_limit=semantic
        )
        chosen = memory.select(request, query="order number")
        assert [m.text for m in chosen] == [FACT], (recent, semantic)
        assert chosen[0].scope == "chat:support"  # the newest copy


def test_duplicates_do_not_take_the_slots_of_other_memories(memory: MemoryManager) -> None:
    memory.remember("Refunds take five days.", scope="s", kind="fact")
    for run in range(5):
        _clock(memory).advance(1)
        memory.remember("Refunds are handled by Bob.", scope="s", kind="fact", key=f"k{run}")
    request = MemoryRequest(scopes=("s",), recent_limit=2, semantic_limit=0)
    assert [m.text for m in memory.select(request)] == [
        "Refunds are handled by Bob.",
        "Refunds take five days.",
    ]
    request = MemoryRequest(scopes=("s",), recent_limit=0, semantic_limit=2)
    assert sorted(m.text for m in memory.select(request, query="refunds")) == [
        "Refunds are handled by Bob.",
        "Refunds take five days.",
    ]


def test_captured_records_do_not_crowd_out_a_kept_fact(memory: MemoryManager) -> None:
    memory.remember(FACT, scope="user:alice", kind="fact")
    _runs(memory, 2)  # six captures, all newer than the fact
    request = MemoryRequest(
        scopes=("global", "chat:support", "user:alice"), recent_limit=4, semantic_limit=0
    )
    chosen = memory.select(request)
    assert FACT in [m.text for m in chosen]
    captured = [m for m in chosen if m.kind in CAPTURE_KINDS]
    # the fact leaves its unused slot to captures: 4 slots, 1 fact, 3 distinct captures
    assert len(chosen) == 4 and len(captured) == 3


def test_captures_get_half_the_recent_slots_when_facts_compete(memory: MemoryManager) -> None:
    for i in range(6):
        _clock(memory).advance(1)
        memory.remember(f"Kept fact number {i}.", scope="user:alice")
    _runs(memory, 2, scope="user:alice")
    request = MemoryRequest(scopes=("user:alice",), recent_limit=4, semantic_limit=0)
    chosen = memory.select(request)
    kinds = [m.kind for m in chosen]
    assert kinds.count("fact") == 2 and len(chosen) == 4
    assert {m.text for m in chosen if m.kind == "fact"} == {
        "Kept fact number 5.",
        "Kept fact number 4.",
    }
    # the share is the request's to set
    only_facts = request.model_copy(update={"recent_capture_limit": 0})
    assert [m.kind for m in memory.select(only_facts)] == ["fact"] * 4
    more = request.model_copy(update={"recent_capture_limit": 3})
    assert [m.kind for m in memory.select(more)].count("fact") == 1


def test_without_facts_captures_fill_every_recent_slot(memory: MemoryManager) -> None:
    for run in range(4):
        _clock(memory).advance(1)
        memory.remember(f"Run {run} of trigger t: completed.", kind="trigger_run", key=str(run))
    request = MemoryRequest(scopes=("global",), recent_limit=4, semantic_limit=0)
    assert len(memory.select(request)) == 4


def test_the_share_must_fit_the_limit() -> None:
    with pytest.raises(ValueError, match="recent_capture_limit"):
        MemoryRequest(recent_limit=2, recent_capture_limit=3)


@pytest.mark.parametrize("name", sorted(STORES))
def test_stores_answer_recent_by_capture_kind(name: str, tmp_path: Path) -> None:
    clock = FakeClock()
    memory = MemoryManager(STORES[name](tmp_path), HashingEmbedder(64), clock=clock)
    memory.remember(FACT, scope="s")
    for i in range(3):
        clock.advance(1)
        memory.remember(f"note {i}", scope="s", kind="note")
        memory.remember(f"run {i}", scope="s", kind="trigger_run")
    store, now = memory.store, clock()
    assert [m.text for m in store.recent(["s"], 2, now=now, captured=True)] == ["run 2", "run 1"]
    assert [m.text for m in store.recent(["s"], 4, now=now, captured=False)] == [
        "note 2",
        "note 1",
        "note 0",
        FACT,
    ]
    assert len(store.recent(["s"], 10, now=now)) == 7
    memory.close()


def test_sqlite_walks_a_partial_index_for_each_share(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "m.db")
    try:
        with store._read() as conn:
            for captured, index in ((True, "captured"), (False, "kept"), (None, "created")):
                sql, params = store._recent_sql(["a", "b"], 3, now=0.0, captured=captured)
                plan = [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
                searches = [p for p in plan if p.startswith("SEARCH")]
                assert (
                    searches
                    == [f"SEARCH memories USING INDEX memories_scope_{index} (scope=?)"] * 2
                )
                assert not any("TEMP B-TREE" in p for p in plan), plan
    finally:
        store.close()


def test_an_older_sqlite_file_gets_the_share_indexes(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLiteMemoryStore(path).close()
    with sqlite3.connect(path) as conn:  # as the previous release left it
        conn.execute("DROP INDEX memories_scope_captured")
        conn.execute("DROP INDEX memories_scope_kept")
    conn.close()
    store = SQLiteMemoryStore(path)
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"memories_scope_captured", "memories_scope_kept"} <= names


class OldProtocolStore(InMemoryMemoryStore):
    """A store written against the protocol before ``captured=`` existed."""

    def recent(self, scopes: Sequence[str], limit: int, *, now: float) -> list[Memory]:
        return super().recent(scopes, limit, now=now)


def test_a_store_without_captured_still_keeps_facts_and_texts_distinct() -> None:
    clock = FakeClock()
    memory = MemoryManager(OldProtocolStore(), HashingEmbedder(64), clock=clock)
    memory.remember(FACT, scope="chat:support")
    _runs(memory, 2)
    request = MemoryRequest(scopes=("chat:support",), recent_limit=4, semantic_limit=0)
    texts = [m.text for m in memory.select(request)]
    assert FACT in texts and len(texts) == len(set(texts)) == 4
