"""Which entries of a policy directory are policy files: ``*.yaml`` / ``*.yml`` in any case,
directly in the directory.

A ``deny.YAML`` (an editor, a Windows share or a zip tool upper-cased it) was skipped silently
because only lower-case suffixes matched, so the call it denies ran, as with the dangling
symlink of issue 8 (second hostile review). Subdirectories are not read, so a Kubernetes
ConfigMap volume (``deny.yaml -> ..data/deny.yaml``) loads each file once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_trigger_bot import PolicyError
from openai_trigger_bot.cli import main
from openai_trigger_bot.governance.errors import PolicyLoadError
from openai_trigger_bot.governance.rules import (
    LocalRulesEvaluator,
    check_policies,
    policy_files,
    run_policy_tests,
)
from openai_trigger_bot.governance.rules.loader import is_policy_file_name

from .._policy_dirs import ALLOW, DENY_WITH_TEST, dropped, run_drop
from ._helpers import proposal

NAMES = ["deny.YAML", "deny.Yml", "DENY.YML", "deny.yAmL"]


@pytest.mark.parametrize("name", NAMES)
def test_an_upper_case_suffix_is_a_policy_file_and_its_deny_holds(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    deny = tmp_path / name
    deny.write_text(DENY_WITH_TEST)
    assert policy_files(tmp_path) == sorted([tmp_path / "allow.yaml", deny])
    result = run_drop(tmp_path)
    assert [e.status for e in result.events] == ["blocked"]
    assert dropped == []
    rules = LocalRulesEvaluator.from_directory(tmp_path)
    decision = rules.evaluate(proposal("drop_database", {"name": "prod"}))
    assert sorted(decision.matched_rules) == ["allow-drop", "deny-drop"]
    assert decision.recommendation == "do_not_proceed"
    report = run_policy_tests(tmp_path)
    assert [r.name for r in report.results] == ["dropping is refused"] and report.ok
    assert main(["policy", "test", str(tmp_path)]) == 0
    assert "dropping is refused" in capsys.readouterr().out


def test_an_unreadable_upper_case_entry_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    link = tmp_path / "deny.YAML"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(PolicyError, match="dangling symlink"):
        run_drop(tmp_path)
    assert [p.path for p in check_policies(tmp_path)] == [str(link)]
    assert dropped == []


def test_only_entries_directly_in_the_directory_are_read(tmp_path: Path) -> None:
    # A ConfigMap volume: the files live in ..data/ (and a timestamped directory), the
    # directory holds symlinks to them. Each file is loaded once, through its symlink.
    data = tmp_path / "..2026_01_01_00_00_00.000000001"
    data.mkdir()
    (data / "allow.yaml").write_text(ALLOW)
    (data / "deny.yaml").write_text(DENY_WITH_TEST)
    (tmp_path / "..data").symlink_to(data.name)
    for name in ("allow.yaml", "deny.yaml"):
        (tmp_path / name).symlink_to(Path("..data") / name)
    assert [p.name for p in policy_files(tmp_path)] == ["allow.yaml", "deny.yaml"]
    assert check_policies(tmp_path) == []
    assert [e.status for e in run_drop(tmp_path).events] == ["blocked"]
    # a file only in a subdirectory is not read
    nested = tmp_path / "more"
    nested.mkdir()
    (nested / "extra.yaml").write_text(DENY_WITH_TEST.replace("policy: deny", "policy: extra"))
    assert [p.name for p in policy_files(tmp_path)] == ["allow.yaml", "deny.yaml"]


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("a.yaml", True),
        ("a.yml", True),
        ("a.YAML", True),
        ("a.YmL", True),
        (".hidden.yaml", True),
        ("a.yaml.bak", False),
        ("a.yaml~", False),
        ("a.json", False),
        ("yaml", False),
        ("a.yamll", False),
    ],
)
def test_is_policy_file_name(name: str, policy: bool) -> None:
    assert is_policy_file_name(name) is policy


def test_a_directory_without_policy_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(PolicyLoadError, match="no policy files"):
        policy_files(tmp_path)
