"""Ranked outcomes in SQLite: the version 1 upgrade and two processes writing (issue 8 item 11).

Schema version 2 stores each outcome's rank within its key so a window count is index seeks
(see ``memory/_sqlite_outcomes.py``). A version 1 file, as the previous release wrote it, is
upgraded in place when the store opens, once, even when two processes open it at the same
moment; writers in two processes keep the ranks consecutive.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from openai_trigger_bot.memory import Memory, MemorySchemaError, OutcomeRecord, SQLiteMemoryStore

from . import _workers
from ._outcomes import naive

SPAWN = multiprocessing.get_context("spawn")
STATUSES = ("executed", "blocked", "tool_error")
TARGETS = (None, "cus-0", "cus-1", "cus-2", "cus-3")

# The schema of version 1 exactly as that release created it (without the later share indexes).
V1_SCHEMA = f"""
PRAGMA application_id = {0x4F54424D};
PRAGMA user_version = 1;
CREATE TABLE memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT,
    metadata TEXT,
    content_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    embedder TEXT,
    vector BLOB
);
CREATE UNIQUE INDEX memories_scope_hash ON memories (scope, content_hash);
CREATE INDEX memories_scope_created ON memories (scope, created_at);
CREATE INDEX memories_expiry ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE scopes (
    scope TEXT PRIMARY KEY,
    reset INTEGER NOT NULL DEFAULT 0,
    cursor INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE outcomes (
    action TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    target TEXT
);
CREATE INDEX outcomes_window ON outcomes (action, at, status, target);
"""


def write_v1_file(path: Path, outcomes: list[OutcomeRecord]) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute(
        "INSERT INTO memories (scope, kind, text, content_hash, created_at)"
        " VALUES ('s', 'fact', 'the sky is blue', 'h1', 1.0)"
    )
    conn.execute("INSERT INTO scopes (scope, reset, cursor) VALUES ('s', 0, 1)")
    conn.executemany(
        "INSERT INTO outcomes (action, status, target, at) VALUES (?, ?, ?, ?)", outcomes
    )
    conn.commit()
    conn.close()


def assert_counts(store: SQLiteMemoryStore, outcomes: list[OutcomeRecord]) -> None:
    for action in ("refund", "deploy"):
        for target in TARGETS:
            for since in (-1.0, 0.0, 37.0, 100.0, 150.5, 199.0, 250.0):
                got = store.count_outcomes(action, since=since, target=target)
                assert got == naive(outcomes, action, since, target), (action, since, target)


def test_a_version_1_file_is_upgraded_in_place_and_counts_the_same(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    old = [*_workers.outcome_batch(0, 0, 300), OutcomeRecord("deploy", "blocked", None, 5.0)]
    write_v1_file(path, old)
    store = SQLiteMemoryStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "outcomes_v1" not in tables and "outcome_keys" in tables
    conn.close()
    assert store.get([1], now=2.0) == [
        Memory(id=1, scope="s", text="the sky is blue", kind="fact", created_at=1.0,
               content_hash="h1")
    ]  # fmt: skip
    assert_counts(store, old)
    # The upgraded ranks take new outcomes (older than some, with ties) and prunes.
    new = _workers.outcome_batch(1, 0, 100)
    store.record_outcomes(new)
    assert_counts(store, old + new)
    assert store.prune_outcomes(before=50.0) == sum(1 for o in old + new if o.at < 50.0)
    store.record_outcomes(_workers.outcome_batch(2, 0, 50))
    kept = [o for o in old + new if o.at >= 50.0] + _workers.outcome_batch(2, 0, 50)
    assert_counts(store, kept)
    store.close()
    reopened = SQLiteMemoryStore(path)  # a version 2 file opens as it is
    assert_counts(reopened, kept)
    reopened.close()


def test_two_processes_upgrade_the_same_file_and_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    old = _workers.outcome_batch(9, 0, 200)
    write_v1_file(path, old)
    start = SPAWN.Barrier(2)
    batches, size = 15, 20
    procs = [
        SPAWN.Process(target=_workers.open_and_record, args=(str(path), w, start, batches, size))
        for w in (0, 1)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    written = [
        o for w in (0, 1) for b in range(batches) for o in _workers.outcome_batch(w, b, size)
    ]
    with SQLiteMemoryStore(path) as store:
        assert_counts(store, old + written)


def test_pruning_everything_leaves_no_keys_behind(tmp_path: Path) -> None:
    with SQLiteMemoryStore(tmp_path / "m.db") as store:
        store.record_outcomes(_workers.outcome_batch(0, 0, 50))
        assert store.prune_outcomes(before=1000.0) == 50
        assert store.count_outcomes("refund", since=0.0) == {}
    conn = sqlite3.connect(tmp_path / "m.db")
    assert conn.execute("SELECT count(*) FROM outcome_keys").fetchone()[0] == 0
    conn.close()


def test_an_upgrade_blocked_by_another_writer_fails_clearly_and_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    write_v1_file(path, _workers.outcome_batch(0, 0, 20))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with pytest.raises(MemorySchemaError, match=r"could not upgrade.*version 1 to 2"):
            SQLiteMemoryStore(path, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
    assert holder.execute("PRAGMA user_version").fetchone()[0] == 1
    holder.close()
    with SQLiteMemoryStore(path) as store:  # once the writer is gone, it upgrades
        assert_counts(store, _workers.outcome_batch(0, 0, 20))
