"""The JSON file store: atomic writes, and refusing (never overwriting) a file it can't read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from openai_trigger_bot.memory import FileMemoryStore, MemoryFileError, MemoryManager

BAD_FILES = {
    "not json": (b'{"format": "openai-trigger-bot/memory", "memories": [', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "foreign json": (b'{"users": ["alice", "bob"]}', "not an openai-trigger-bot memory file"),
    "a json list": (b"[1, 2, 3]", "not an openai-trigger-bot memory file"),
    "newer version": (
        b'{"format": "openai-trigger-bot/memory", "version": 7, "memories": []}',
        "version 7",
    ),
    "damaged": (
        b'{"format": "openai-trigger-bot/memory", "version": 1, "next_id": 2, "scopes": {},'
        b' "memories": [{"id": 1, "scope": "s"}], "outcomes": []}',
        "damaged memory file",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_file_it_cannot_read_fails_clearly_and_is_never_overwritten(
    name: str, tmp_path: Path
) -> None:
    content, message = BAD_FILES[name]
    path = tmp_path / "bot-memory.json"
    path.write_bytes(content)
    with pytest.raises(MemoryFileError, match=message) as info:
        MemoryManager(store=FileMemoryStore(path))
    assert str(path) in str(info.value) and "untouched" in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot-memory.json"]


def test_a_file_corrupted_by_someone_else_later_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    store = FileMemoryStore(path)
    memory = MemoryManager(store=store)
    memory.remember("first", scope="s")
    path.write_bytes(b"garbage that another program wrote")
    with pytest.raises(MemoryFileError):
        memory.remember("second", scope="s")
    assert path.read_bytes() == b"garbage that another program wrote"


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    memory = MemoryManager(store=FileMemoryStore(path))
    assert not path.exists()  # created on the first write, not on open
    for i in range(5):
        memory.remember(f"fact {i}", scope="s")
        document = json.loads(path.read_bytes())  # a complete document after every write
        assert len(document["memories"]) == i + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.json.lock"]
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_failed_write_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.json"
    store = FileMemoryStore(path)
    memory = MemoryManager(store=store)
    memory.remember("kept", scope="s")
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        memory.remember("lost", scope="s")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
    assert [m.text for m in store.recent(["s"], 5, now=2e9)] == ["kept"]  # reloaded from disk


def test_two_instances_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    a, b = FileMemoryStore(path), FileMemoryStore(path)
    first = MemoryManager(store=a).remember("from a", scope="s")
    second = MemoryManager(store=b).remember("from b", scope="s")
    assert second.id == first.id + 1  # b reloaded a's write before writing
    assert {m.text for m in a.recent(["s"], 5, now=2e9)} == {"from a", "from b"}
    assert json.loads(path.read_bytes())["next_id"] == second.id + 1
