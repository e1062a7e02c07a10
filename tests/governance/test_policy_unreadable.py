"""An unreadable entry in a policy directory is a load error naming it, never a skipped file.

The attack: ``allow.yaml`` allows ``drop_database``; ``deny.yaml`` is a symlink (as in a
Kubernetes ConfigMap volume) to a file that denies it. When the symlink dangles, skipping it
would let ``drop_database`` run. Every path-accepting loader must refuse instead.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot import PolicyError
from openai_trigger_bot.governance.errors import PolicyLoadError
from openai_trigger_bot.governance.rules import (
    LocalRulesEvaluator,
    check_policies,
    load_policy_file,
    policy_files,
    run_policy_tests,
)
from openai_trigger_bot.governance.rules import _read as read_module

from .._policy_dirs import ALLOW, DENY, dropped, policy_dir, run_drop
from ._helpers import proposal


def test_while_the_symlink_resolves_the_deny_rule_blocks(tmp_path: Path) -> None:
    folder, _, _ = policy_dir(tmp_path)
    result = run_drop(folder)
    assert [e.status for e in result.events] == ["blocked"]
    assert dropped == []


def test_a_dangling_deny_symlink_fails_the_bot_and_nothing_runs(tmp_path: Path) -> None:
    folder, link, target = policy_dir(tmp_path)
    target.unlink()  # the ConfigMap swap: deny.yaml now dangles
    with pytest.raises(PolicyError) as caught:
        run_drop(folder)
    assert str(link) in str(caught.value)
    assert "dangling symlink" in str(caught.value)
    assert dropped == []
    with pytest.raises(PolicyLoadError) as direct:
        LocalRulesEvaluator.from_directory(folder)
    assert [p.path for p in direct.value.problems] == [str(link)]


# --- every kind of unreadable entry -------------------------------------------------------


def _dangling(folder: Path) -> Path:
    link = folder / "deny.yaml"
    link.symlink_to(folder / "gone.txt")
    return link


def _loop(folder: Path) -> Path:
    link = folder / "deny.yaml"
    other = folder / "other.link"
    link.symlink_to(other)
    other.symlink_to(link)
    return link


def _directory(folder: Path) -> Path:
    entry = folder / "deny.yaml"
    entry.mkdir()
    (entry / "inside.yaml").write_text(DENY)
    return entry


def _fifo(folder: Path) -> Path:
    entry = folder / "deny.yml"
    os.mkfifo(entry)  # opening it for reading would block a naive loader forever
    return entry


def _socket(folder: Path) -> Path:
    entry = folder / "deny.yaml"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(entry))
    return entry


KINDS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "dangling symlink": (_dangling, "dangling symlink"),
    "symlink loop": (_loop, "symlink loop"),
    "directory": (_directory, "is a directory"),
    "fifo": (_fifo, "not a regular file"),
    "socket": (_socket, "not a regular file"),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_unreadable_kind_is_a_load_error_naming_the_path(tmp_path: Path, kind: str) -> None:
    make, words = KINDS[kind]
    (tmp_path / "allow.yaml").write_text(ALLOW)
    entry = make(tmp_path)
    with pytest.raises(PolicyLoadError) as caught:
        LocalRulesEvaluator.from_directory(tmp_path)
    (problem,) = caught.value.problems
    assert problem.path == str(entry)
    assert words in problem.message
    assert str(entry) in str(caught.value)
    # check_policies (trigger-bot policy check) and run_policy_tests (policy test) agree
    assert [(p.path, p.message) for p in check_policies(tmp_path)] == [
        (problem.path, problem.message)
    ]
    with pytest.raises(PolicyLoadError):
        run_policy_tests(tmp_path)
    # the entry is listed, not silently dropped
    assert entry in policy_files(tmp_path)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_unreadable_file_given_by_path_is_a_load_error(tmp_path: Path, kind: str) -> None:
    make, words = KINDS[kind]
    entry = make(tmp_path)
    with pytest.raises(PolicyLoadError) as caught:
        load_policy_file(entry)
    assert caught.value.problems[0].path == str(entry)
    assert words in caught.value.problems[0].message
    with pytest.raises(PolicyLoadError):
        LocalRulesEvaluator.from_files(entry)
    if kind != "directory":  # `policy check DIR` validates the directory's own files
        assert [p.path for p in check_policies(entry)] == [str(entry)]


def test_a_permission_denied_file_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    entry = tmp_path / "deny.yaml"
    entry.write_text(DENY)
    entry.chmod(0)
    if os.geteuid() == 0:  # root reads a mode-000 file: make the open fail as it would for others
        real_open = os.open

        def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if Path(path) == entry:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(read_module.os, "open", refusing_open)
    try:
        with pytest.raises(PolicyLoadError) as caught:
            LocalRulesEvaluator.from_directory(tmp_path)
    finally:
        entry.chmod(stat.S_IRUSR | stat.S_IWUSR)
    (problem,) = caught.value.problems
    assert problem.path == str(entry)
    assert "permission denied" in problem.message


def test_every_unreadable_entry_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    (tmp_path / "a.yaml").symlink_to(tmp_path / "missing.yaml")
    (tmp_path / "b.yml").mkdir()
    (tmp_path / "c.yaml").write_text("policy: [")
    problems = check_policies(tmp_path)
    assert sorted(Path(p.path).name for p in problems) == ["a.yaml", "b.yml", "c.yaml"]


def test_a_missing_path_is_worded_the_same_by_check_and_test(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    (checked,) = check_policies(missing)
    with pytest.raises(PolicyLoadError) as caught:
        run_policy_tests(missing)
    assert (checked.path, checked.message) == (
        caught.value.problems[0].path,
        caught.value.problems[0].message,
    )
    assert "no such file or directory" in checked.message


def test_a_readable_symlink_still_loads(tmp_path: Path) -> None:
    folder, _, _ = policy_dir(tmp_path)
    evaluator = LocalRulesEvaluator.from_directory(folder)
    assert evaluator.evaluate(proposal("drop_database")).recommendation == "do_not_proceed"


def test_files_not_named_as_policies_are_still_ignored(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    (tmp_path / "notes.txt").symlink_to(tmp_path / "gone")
    (tmp_path / "..data").mkdir()  # a ConfigMap volume's own entries
    evaluator = LocalRulesEvaluator.from_directory(tmp_path)
    assert [p.id for p in evaluator.policies] == ["allow"]
