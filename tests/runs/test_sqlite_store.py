"""The SQLite run store's file: header, schema steps, refusals, and real processes racing."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from openai_trigger_bot.exceptions import StorePathError
from openai_trigger_bot.runs import (
    InMemoryRunStore,
    RunStoreError,
    RunStorePathError,
    SQLiteRunStore,
    open_run_store,
)
from openai_trigger_bot.runs._schema import APPLICATION_ID, SCHEMA_VERSION, STEPS

from . import _workers
from ._helpers import approval, run

SPAWN = multiprocessing.get_context("spawn")


def test_a_new_file_says_what_it_is_in_its_header(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteRunStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(STEPS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteRunStore(path) as store:
        store.create(run(), [approval()])
        store.ledger_start("k", run_id="run-1", call_id="c", action="pay", now=1)
        store.ledger_finish("k", {"output": "é ✓"}, now=2)
    with SQLiteRunStore(path) as store:
        assert store.load("run-1") == run()
        assert store.get_approval("ap-1") == approval()
        entry = store.ledger_get("k")
        assert entry is not None and entry.result == {"output": "é ✓"}


def test_a_newer_schema_is_refused_and_the_file_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteRunStore(path) as store:
        store.create(run(), [approval()])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")  # no -wal file left beside it
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(RunStoreError, match=rf"schema version {SCHEMA_VERSION + 1}.*upgrade"):
        SQLiteRunStore(path)
    assert path.read_bytes() == before


def test_a_corrupt_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    garbage = os.urandom(4096)
    path.write_bytes(garbage)
    with pytest.raises(RunStoreError, match=rf"{path}.*left untouched; move it away"):
        SQLiteRunStore(path)
    assert path.read_bytes() == garbage


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(RunStoreError, match="another application"):
        SQLiteRunStore(path)
    assert path.read_bytes() == before


def test_a_path_that_cannot_hold_the_file_is_a_path_error(tmp_path: Path) -> None:
    with pytest.raises(RunStorePathError, match="does not exist") as caught:
        SQLiteRunStore(tmp_path / "missing" / "runs.db")
    assert isinstance(caught.value, StorePathError)
    assert not (tmp_path / "missing").exists()


def test_an_older_file_is_migrated_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of version N opens in a release with more steps: each step runs once, in order."""
    from openai_trigger_bot.runs import _schema

    path = tmp_path / "runs.db"
    with SQLiteRunStore(path) as store:
        store.create(run(), [approval()])
    step = ("ALTER TABLE runs ADD COLUMN note TEXT", "CREATE TABLE extra (x)")
    monkeypatch.setattr(_schema, "STEPS", (*STEPS, step))
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", len(STEPS) + 1)
    with SQLiteRunStore(path) as store:
        assert store.load("run-1") == run()  # the data written before is still read
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(STEPS) + 1
    assert conn.execute("SELECT count(*) FROM extra").fetchone()[0] == 0
    conn.close()


def test_a_write_locked_too_long_is_a_busy_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteRunStore(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with (
            SQLiteRunStore(path, busy_timeout=0.01) as store,
            pytest.raises(RunStoreError, match=r"busy.*retry"),
        ):
            store.create(run(), [])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with SQLiteRunStore(path) as store:
        store.create(run(), [])  # nothing half-written blocks it


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SQLiteRunStore(tmp_path / "runs.db")
    store.close()
    with pytest.raises(RunStoreError, match="closed"):
        store.load("run-1")


def test_ledger_start_lets_exactly_one_of_two_processes_in(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteRunStore(path).close()
    for attempt in range(3):  # several races: a single one might be decided by start order
        go = SPAWN.Event()
        outs = [tmp_path / f"out-{attempt}-{i}" for i in range(2)]
        procs = [
            SPAWN.Process(
                target=_workers.start_once, args=(str(path), f"key-{attempt}", go, str(out))
            )
            for out in outs
        ]
        for p in procs:
            p.start()
        go.set()
        for p in procs:
            p.join(timeout=60)
        assert [p.exitcode for p in procs] == [0, 0]
        assert sorted(out.read_text() for out in outs) == ["lost", "won"]


def test_open_run_store_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(open_run_store(None), InMemoryRunStore)
    mine = InMemoryRunStore()
    assert open_run_store(mine) is mine
    for path in (tmp_path / "a.db", str(tmp_path / "b.db")):
        opened = open_run_store(path)
        assert isinstance(opened, SQLiteRunStore)
        opened.close()
    with pytest.raises(TypeError, match="run_store must be"):
        open_run_store(42)  # type: ignore[arg-type]
