"""``examples/quickstart.py`` run as a user runs it: a subprocess in a fresh folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart.py"
FACT = "Alice asked for help with her order."


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(QUICKSTART), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_live_without_a_key_says_so_like_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = _run(tmp_path, "--live", env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (
        "quickstart.py: error: --live needs OPENAI_API_KEY in the environment; set it to your "
        "OpenAI API key, or run `python examples/quickstart.py` offline\n"
    )
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no memory file, no lock file

    demo = subprocess.run(
        [sys.executable, "-m", "openai_trigger_bot.cli", "demo", "--live"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the demo's words, with the program's own name and offline command
    assert demo.returncode == proc.returncode
    assert (
        demo.stderr.replace("trigger-bot demo", "quickstart.py", 1).replace(
            "`trigger-bot demo`", "`python examples/quickstart.py`"
        )
        == proc.stderr
    )


def _memory_block(stdout: str) -> list[str]:
    lines = stdout.split("memory now holds:\n", 1)[1].splitlines()
    return [line for line in lines if line.startswith("- [")]


def test_two_offline_runs_recall_the_fact_once_without_duplicates(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    second = _run(tmp_path)
    assert second.returncode == 0, second.stderr
    for out in (first.stdout, second.stdout):
        block = _memory_block(out)
        assert len(block) == len({line.split("] ", 1)[1] for line in block}), block
        assert any(FACT in line for line in block), block  # not pushed out by run records
        assert any("Run of trigger reply-to-chat: completed" in line for line in block)
    # the question shares words with the fact: semantic recall finds it, offline
    assert f"recalled for 'What did Alice need help with?': {FACT}" in second.stdout


def test_what_the_quickstart_leaves_behind_is_ignored_by_git(tmp_path: Path) -> None:
    assert _run(tmp_path).returncode == 0
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["bot-memory.json", "bot-memory.json.lock"]
    for name in left:
        check = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", f"examples/{name}"],
            cwd=ROOT,
            capture_output=True,
            timeout=30,
        )
        assert check.returncode == 0, f"{name} is not in .gitignore"
