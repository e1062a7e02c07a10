"""One contract, every store: in-memory, SQLite and JSON file behave the same."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from openai_trigger_bot.memory import (
    FileMemoryStore,
    InMemoryMemoryStore,
    MemoryStore,
    NewMemory,
    OutcomeRecord,
    ScopeVersion,
    SQLiteMemoryStore,
    content_hash,
)

T0 = 1_800_000_000.0
STORES: dict[str, Callable[[Path], MemoryStore]] = {
    "inmemory": lambda path: InMemoryMemoryStore(),
    "sqlite": lambda path: SQLiteMemoryStore(path / "memory.db"),
    "sqlite-in-memory": lambda path: SQLiteMemoryStore(":memory:"),
    "file": lambda path: FileMemoryStore(path / "memory.json"),
}
PERSISTENT = ["sqlite", "file"]


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore]:
    made = STORES[request.param](tmp_path)
    yield made
    made.close()


def vec(*values: float) -> np.ndarray:
    v = np.array(values, np.float32)
    out: np.ndarray = v / np.linalg.norm(v)
    return out


def new(
    text: str,
    scope: str = "s",
    *,
    at: float = T0,
    expires: float | None = None,
    vector: np.ndarray | None = None,
    embedder: str | None = "e",
    key: str | None = None,
    **extra: object,
) -> NewMemory:
    return NewMemory(
        scope=scope,
        text=text,
        kind=str(extra.get("kind", "fact")),
        created_at=at,
        content_hash=content_hash(text, key),
        metadata={"n": 1, "tags": ["x"]} if extra.get("meta") else {},
        expires_at=expires,
        vector=vector,
        embedder=embedder if vector is not None else None,
    )


def test_every_store_implements_the_protocol(store: MemoryStore) -> None:
    assert isinstance(store, MemoryStore)


def test_add_returns_stored_memories_with_increasing_ids(store: MemoryStore) -> None:
    a, b = store.add([new("first", meta=True), new("second", kind="note")], now=T0)
    assert a.id < b.id and (a.text, b.kind) == ("first", "note")
    assert a.metadata == {"n": 1, "tags": ["x"]} and a.content_hash == content_hash("first")
    assert store.get([b.id, a.id], now=T0) == [b, a]


def test_exact_duplicates_are_deduplicated_per_scope(store: MemoryStore) -> None:
    (first,) = store.add([new("same text")], now=T0)
    again, other_scope = store.add([new("same text", at=T0 + 5), new("same text", "t")], now=T0)
    assert again == first  # the existing memory, unchanged
    assert other_scope.id != first.id and other_scope.scope == "t"
    (keyed,) = store.add([new("same text", key="call-2")], now=T0)
    assert keyed.id not in (first.id, other_scope.id)
    assert store.count() == 3 and store.count(["s"]) == 2


def test_an_expired_duplicate_is_replaced(store: MemoryStore) -> None:
    (old,) = store.add([new("fleeting", expires=T0 + 10)], now=T0)
    (fresh,) = store.add([new("fleeting", at=T0 + 20)], now=T0 + 20)
    assert fresh.id != old.id and fresh.expires_at is None
    assert store.get([old.id], now=T0) == [] and store.count(["s"]) == 1


def test_recent_is_newest_first_within_the_scopes_only(store: MemoryStore) -> None:
    store.add([new(f"a{i}", "a", at=T0 + i) for i in range(5)], now=T0)
    store.add([new(f"b{i}", "b", at=T0 + 10 + i) for i in range(3)], now=T0)
    store.add([new("c", "c", at=T0 + 100)], now=T0)
    got = store.recent(["a", "b"], 4, now=T0)
    assert [m.text for m in got] == ["b2", "b1", "b0", "a4"]
    assert store.recent(["a"], 2, now=T0)[0].text == "a4"
    assert store.recent(["a", "a"], 10, now=T0) == store.recent(["a"], 10, now=T0)
    assert store.recent(["a"], 0, now=T0) == [] and store.recent(["nope"], 3, now=T0) == []


def test_expired_memories_are_invisible_then_purged(store: MemoryStore) -> None:
    kept, gone = store.add([new("kept"), new("gone", expires=T0 + 60)], now=T0)
    assert store.count(["s"], now=T0 + 59) == 2
    assert [m.text for m in store.recent(["s"], 5, now=T0 + 60)] == ["kept"]
    assert store.get([gone.id, kept.id], now=T0 + 61) == [kept]
    assert store.count(["s"], now=T0 + 61) == 1 and store.count(["s"]) == 2
    assert store.purge_expired(now=T0 + 61) == 1
    assert store.count() == 1 and store.purge_expired(now=T0 + 61) == 0


def test_versions_move_with_appends_and_resets(store: MemoryStore) -> None:
    assert store.versions(["s", "new"]) == {"s": ScopeVersion(), "new": ScopeVersion()}
    a, b = store.add([new("a"), new("b")], now=T0)
    v1 = store.versions(["s"])["s"]
    assert v1.cursor == b.id
    store.add([new("a")], now=T0)  # a duplicate changes nothing
    assert store.versions(["s"])["s"] == v1
    store.delete([a.id])
    v2 = store.versions(["s"])["s"]
    assert v2.reset > v1.reset and store.versions(["t"])["t"] == ScopeVersion()


def test_load_vectors_full_and_after_a_cursor(store: MemoryStore) -> None:
    a, _, c = store.add(
        [
            new("a", vector=vec(1, 0, 0), expires=T0 + 5),
            new("no vector"),
            new("c", vector=vec(0, 1, 0)),
        ],
        now=T0,
    )
    store.add([new("other scope", "t", vector=vec(0, 0, 1))], now=T0)
    store.add([new("other embedder", vector=vec(1, 1, 0), embedder="f")], now=T0)
    full = store.load_vectors("s", "e")  # rows in any order
    order = np.argsort(full.ids)
    assert full.ids[order].tolist() == [a.id, c.id] and full.vectors.dtype == np.float32
    np.testing.assert_allclose(full.vectors[order][1], vec(0, 1, 0))
    assert full.expires[order].tolist() == [T0 + 5, math.inf]
    assert full.version == store.versions(["s"])["s"]
    (d,) = store.add([new("d", vector=vec(0, 0, 1))], now=T0)
    tail = store.load_vectors("s", "e", after=full.version.cursor)
    assert tail.ids.tolist() == [d.id] and tail.version.cursor == d.id
    assert len(store.load_vectors("empty", "e").ids) == 0


def test_missing_and_set_vectors(store: MemoryStore) -> None:
    a, b = store.add([new("a", vector=vec(1, 0)), new("b")], now=T0)
    assert [m.id for m in store.missing_vectors("e", limit=10, now=T0)] == [b.id]
    assert {m.id for m in store.missing_vectors("other", limit=10, now=T0)} == {a.id, b.id}
    before = store.versions(["s"])["s"]
    store.set_vectors([b.id], "e", np.array([vec(0, 1)]))
    assert store.missing_vectors("e", limit=10, now=T0) == []
    assert store.versions(["s"])["s"].reset > before.reset
    assert sorted(store.load_vectors("s", "e").ids.tolist()) == [a.id, b.id]


def test_delete_and_clear(store: MemoryStore) -> None:
    a, _b, _ = store.add([new("a"), new("b"), new("x", "t")], now=T0)
    assert store.delete([a.id, 999_999]) == 1
    assert store.clear("s") == 1 and store.count() == 1
    assert store.clear("s") == 0


def test_outcomes_are_counted_per_status_target_and_window(store: MemoryStore) -> None:
    store.record_outcomes(
        [
            OutcomeRecord("refund", "tool_error", "o1", T0),
            OutcomeRecord("refund", "tool_error", "o2", T0 + 10),
            OutcomeRecord("refund", "executed", "o1", T0 + 20),
            OutcomeRecord("deploy", "executed", None, T0 + 20),
        ]
    )
    assert store.count_outcomes("refund", since=T0) == {"tool_error": 2, "executed": 1}
    assert store.count_outcomes("refund", since=T0 + 5) == {"tool_error": 1, "executed": 1}
    assert store.count_outcomes("refund", since=T0, target="o1") == {
        "tool_error": 1,
        "executed": 1,
    }
    assert store.count_outcomes("nothing", since=0) == {}
    assert store.prune_outcomes(before=T0 + 15) == 2
    assert store.count_outcomes("refund", since=0) == {"executed": 1}


@pytest.mark.parametrize("kind", PERSISTENT)
def test_persistent_stores_keep_everything_across_reopen(kind: str, tmp_path: Path) -> None:
    first = STORES[kind](tmp_path)
    (m,) = first.add([new("kept", vector=vec(3, 4), meta=True)], now=T0)
    first.record_outcomes([OutcomeRecord("a", "blocked", None, T0)])
    version = first.versions(["s"])["s"]
    first.close()
    second = STORES[kind](tmp_path)
    assert second.get([m.id], now=T0) == [m]
    assert second.versions(["s"])["s"] == version
    np.testing.assert_allclose(second.load_vectors("s", "e").vectors[0], vec(3, 4))
    assert second.count_outcomes("a", since=0) == {"blocked": 1}
    (n,) = second.add([new("next")], now=T0)
    assert n.id > m.id
    second.close()
    second.close()  # idempotent
