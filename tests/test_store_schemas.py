"""Every file the library writes keeps working: schemas migrate forward, newer ones are refused.

One table of the four SQLite stores (memory, run store, outbox, report store), each tested the
same way: a file written by this code opens again with its data; a newer schema version, a
corrupt file and another application's database are refused with an error naming the file,
and every file in the directory (the database, and its ``-wal``/``-shm`` when present) is
byte for byte what it was. The outbox and the report store share ``_sqlite.migrate``: their
step tables, adoption of an unversioned file and rollback of a failed step are tested here.
The JSON memory file's version check and migration hook are tested at the end.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from openai_trigger_bot import _sqlite
from openai_trigger_bot.exceptions import TriggerBotError
from openai_trigger_bot.governance import ExecutionEvent, outbox
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.memory import FileMemoryStore, MemoryFileError, MemoryManager, _file_format
from openai_trigger_bot.memory._sqlite_schema import APPLICATION_ID as MEMORY_ID
from openai_trigger_bot.memory._sqlite_schema import SCHEMA_VERSION as MEMORY_VERSION
from openai_trigger_bot.runs import SQLiteRunStore
from openai_trigger_bot.runs._schema import APPLICATION_ID as RUNS_ID
from openai_trigger_bot.runs._schema import SCHEMA_VERSION as RUNS_VERSION
from openai_trigger_bot.server import OutcomeReport, ReportStore, reports


def _memory_write(path: Path) -> None:
    memory = MemoryManager(path)
    memory.remember("the customer prefers email", scope="s")
    memory.close()


def _memory_read(path: Path) -> int:
    memory = MemoryManager(path)
    try:
        return memory.count(["s"])
    finally:
        memory.close()


def _runs_write(path: Path) -> None:
    with SQLiteRunStore(path) as store:
        store.ledger_start("k", run_id="run-1", call_id="c", action="pay", now=1)


def _runs_read(path: Path) -> int:
    with SQLiteRunStore(path) as store:
        return int(store.ledger_get("k") is not None)


def _event() -> ExecutionEvent:
    return ExecutionEvent(tool="pay", call_id="c-1", status="executed", started_at=1.0)


def _outbox_write(path: Path) -> None:
    with OutcomeOutbox(path) as box:
        box.add(_event(), None, bot="b")


def _outbox_read(path: Path) -> int:
    with OutcomeOutbox(path) as box:
        return box.stats().pending


def _reports_write(path: Path) -> None:
    store = ReportStore(path)
    store.ingest([OutcomeReport(idempotency_key="k-1", event=_event())])
    store.close()


def _reports_read(path: Path) -> int:
    store = ReportStore(path)
    try:
        return store.count()
    finally:
        store.close()


@dataclass(frozen=True)
class Store:
    write: Callable[[Path], None]  # writes one record with this release's code
    read: Callable[[Path], int]  # opens the file and counts the records
    application_id: int
    version: int  # this release's schema version
    error: type[Exception]  # what a refusal raises


STORES = {
    "memory": Store(_memory_write, _memory_read, MEMORY_ID, MEMORY_VERSION, TriggerBotError),
    "runs": Store(_runs_write, _runs_read, RUNS_ID, RUNS_VERSION, TriggerBotError),
    "outbox": Store(
        _outbox_write, _outbox_read, 0x54424F58, outbox.SCHEMA_VERSION, sqlite3.DatabaseError
    ),
    "reports": Store(
        _reports_write, _reports_read, 0x54425250, reports.SCHEMA_VERSION, sqlite3.DatabaseError
    ),
}
# The outbox and the report store keep their step tables in these modules.
STEP_MODULES: dict[str, ModuleType] = {"outbox": outbox, "reports": reports}


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` and its bytes (a ``-wal`` or ``-shm`` appearing counts)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def set_header(path: Path, *, version: int, journal: str = "wal") -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def header(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    return int(app_id), int(version)


@pytest.mark.parametrize("name", sorted(STORES))
def test_a_file_written_by_this_release_opens_again_with_its_data(
    name: str, tmp_path: Path
) -> None:
    store, path = STORES[name], tmp_path / "store.db"
    store.write(path)
    assert header(path) == (store.application_id, store.version)
    assert store.read(path) == 1
    assert store.read(path) == 1  # and again: opening a current file changes nothing


@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("name", sorted(STORES))
def test_a_newer_schema_is_refused_and_every_file_left_byte_identical(
    name: str, journal: str, tmp_path: Path
) -> None:
    """Both journal modes: switching a rollback-journal file to WAL would rewrite its header."""
    store, path = STORES[name], tmp_path / "store.db"
    store.write(path)
    set_header(path, version=store.version + 1, journal=journal)
    before = snapshot(tmp_path)
    with pytest.raises(store.error) as caught:
        store.read(path)
    message = str(caught.value)
    assert str(path) in message and f"version {store.version + 1}" in message
    assert "newer openai-trigger-bot" in message and "pgrade" in message
    assert snapshot(tmp_path) == before


CORRUPT = {
    "random bytes": os.urandom(4096),
    "a text file": b"name,amount\nalice,20\n" * 200,
    "a truncated header": b"SQLite format 3\x00" + b"\x00" * 20,
}


@pytest.mark.parametrize("content", sorted(CORRUPT))
@pytest.mark.parametrize("name", sorted(STORES))
def test_a_corrupt_file_is_refused_naming_it_and_left_untouched(
    name: str, content: str, tmp_path: Path
) -> None:
    store, path = STORES[name], tmp_path / "store.db"
    path.write_bytes(CORRUPT[content])
    before = snapshot(tmp_path)
    with pytest.raises(store.error, match="untouched") as caught:
        store.read(path)
    assert str(path) in str(caught.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", sorted(STORES))
def test_another_applications_database_is_refused_untouched(name: str, tmp_path: Path) -> None:
    store, path = STORES[name], tmp_path / "store.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE reports (key TEXT)")  # even with a table name of ours
    conn.commit()
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(store.error, match="another application") as caught:
        store.read(path)
    assert str(path) in str(caught.value)
    assert snapshot(tmp_path) == before


# -- the outbox and the report store: steps, adoption, rollback ------------------------------


@pytest.mark.parametrize("name", sorted(STEP_MODULES))
def test_an_unversioned_file_of_the_current_layout_is_adopted(name: str, tmp_path: Path) -> None:
    """Files written before the store had a version (user_version 0, tables present)."""
    store, path = STORES[name], tmp_path / "store.db"
    store.write(path)
    set_header(path, version=0)  # as the previous code left report stores
    assert store.read(path) == 1  # the data written before is still read
    assert header(path) == (store.application_id, store.version)


@pytest.mark.parametrize("name", sorted(STEP_MODULES))
def test_an_older_file_is_migrated_one_step_at_a_time(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, module, path = STORES[name], STEP_MODULES[name], tmp_path / "store.db"
    store.write(path)
    later = (*module.STEPS, ("CREATE TABLE extra (x)",), ("INSERT INTO extra VALUES (2)",))
    monkeypatch.setattr(module, "STEPS", later)
    assert store.read(path) == 1
    assert header(path) == (store.application_id, len(later))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT x FROM extra").fetchall() == [(2,)]  # each step ran once
    conn.close()


@pytest.mark.parametrize("name", sorted(STEP_MODULES))
def test_a_failing_step_rolls_back_and_the_file_keeps_its_version(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, module, path = STORES[name], STEP_MODULES[name], tmp_path / "store.db"
    store.write(path)
    broken = ("CREATE TABLE extra (x)", "INSERT INTO missing VALUES (1)")
    monkeypatch.setattr(module, "STEPS", (*module.STEPS, broken))
    with pytest.raises(store.error, match="no such table: missing") as caught:
        store.read(path)
    assert str(path) in str(caught.value)
    monkeypatch.undo()
    assert header(path) == (store.application_id, store.version)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone() == (
        0,
    )
    conn.close()
    assert store.read(path) == 1  # this release still opens it


def test_the_shared_error_is_a_library_error_and_a_sqlite_error() -> None:
    assert issubclass(_sqlite.StoreSchemaError, TriggerBotError)
    assert issubclass(_sqlite.StoreSchemaError, sqlite3.DatabaseError)


# -- the JSON memory file ---------------------------------------------------------------------


def _json_file(path: Path, version: int) -> bytes:
    memory = MemoryManager(store=FileMemoryStore(path))
    memory.remember("the customer prefers email", scope="s")
    memory.close()
    document = json.loads(path.read_bytes())
    document["version"] = version
    path.write_text(json.dumps(document))
    return path.read_bytes()


def test_a_newer_json_memory_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "memory.json"
    _json_file(path, _file_format.VERSION + 1)
    before = snapshot(tmp_path)
    with pytest.raises(MemoryFileError, match=r"newer openai-trigger-bot.*Upgrade") as caught:
        MemoryManager(store=FileMemoryStore(path))
    assert str(path) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_a_json_memory_file_of_an_unknown_older_version_is_refused_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "memory.json"
    content = _json_file(path, 0)  # no release wrote version 0: there is no step from it
    with pytest.raises(MemoryFileError, match="cannot read or upgrade") as caught:
        MemoryManager(store=FileMemoryStore(path))
    assert str(path) in str(caught.value) and "upgrade openai-trigger-bot" not in str(caught.value)
    assert path.read_bytes() == content


def test_an_older_json_memory_file_goes_through_the_migration_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later release raises VERSION and adds a step: the file reads, then is written anew."""
    path = tmp_path / "memory.json"
    _json_file(path, _file_format.VERSION)
    seen: list[int] = []

    def step(document: dict[str, object]) -> dict[str, object]:
        seen.append(int(str(document["version"])))
        return {**document, "added_by_the_step": True}

    monkeypatch.setattr(_file_format, "VERSION", _file_format.VERSION + 1)
    monkeypatch.setitem(_file_format.MIGRATIONS, _file_format.VERSION - 1, step)
    memory = MemoryManager(store=FileMemoryStore(path))
    assert memory.count(["s"]) == 1  # read through the step
    assert seen == [_file_format.VERSION - 1]
    assert json.loads(path.read_bytes())["version"] == _file_format.VERSION - 1  # not yet written
    memory.remember("a second fact", scope="s")
    memory.close()
    assert json.loads(path.read_bytes())["version"] == _file_format.VERSION  # written anew
