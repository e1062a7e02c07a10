"""``trigger-bot policy init [DIR]`` copies the shipped policy library into a folder to edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_trigger_bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted(
    p.name for p in (ROOT / "policies").iterdir() if p.suffix in (".yaml", ".yml", ".md")
)


def test_init_copies_the_library_and_its_tests_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "init"]) == 0  # default DIR: policies
    out = capsys.readouterr().out
    target = tmp_path / "policies"
    assert sorted(p.name for p in target.iterdir()) == LIBRARY
    for name in LIBRARY:
        assert (target / name).read_bytes() == (ROOT / "policies" / name).read_bytes()
        assert f"wrote {Path('policies') / name}" in out
    assert "trigger-bot policy test policies" in out
    assert main(["policy", "test"]) == 0  # the copied files' own tests pass
    assert ", 0 failed" in capsys.readouterr().out


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "refunds.yaml").write_text("# my edits\n")
    assert main(["policy", "init", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first, *details = captured.err.splitlines()
    assert first == (
        f"trigger-bot policy init: error: 1 file(s) already exist in {target}, nothing was "
        "written; pass --force to overwrite them, or choose another DIR"
    )
    assert details == [f"  {target / 'refunds.yaml'}"]
    assert [p.name for p in target.iterdir()] == ["refunds.yaml"]  # nothing else written
    assert (target / "refunds.yaml").read_text() == "# my edits\n"

    assert main(["policy", "init", str(target), "--force"]) == 0
    assert (target / "refunds.yaml").read_bytes() == (ROOT / "policies/refunds.yaml").read_bytes()
    assert sorted(p.name for p in target.iterdir()) == LIBRARY


def test_init_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "policies"
    target.write_text("not a folder")
    assert main(["policy", "init", str(target), "--force"]) == 2
    assert capsys.readouterr().err == (
        f"trigger-bot policy init: error: {target} exists and is not a directory; "
        "choose another DIR\n"
    )
    assert target.read_text() == "not a folder"


def test_init_into_the_library_itself_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # ./policies is the checkout's library, the source of truth
    before = {name: (ROOT / "policies" / name).read_bytes() for name in LIBRARY}
    assert main(["policy", "init", "--force"]) == 2
    assert capsys.readouterr().err == (
        "trigger-bot policy init: error: policies is the shipped policy library itself; "
        "choose another DIR to copy it to\n"
    )
    assert {name: (ROOT / "policies" / name).read_bytes() for name in LIBRARY} == before
