"""Installed from the built wheel, the policy library ships and ``policy init`` + ``test`` work.

The wheel is built from this checkout with ``pip wheel --no-build-isolation`` (hatchling comes
with the ``dev`` extra, so no network is needed) and installed with ``--no-deps`` into a fresh
virtual environment that reuses the installed dependencies (``--system-site-packages``). The
commands then run from an empty folder, so nothing of the checkout can stand in for the
package's own files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    env["COLUMNS"] = "120"
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(work / "dist"), str(ROOT)],
        work,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (work / "dist").glob("openai_trigger_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "policies").iterdir() if p.suffix == ".yaml")
    assert shipped, "the checkout has no policies/"
    for name in shipped:
        assert f"openai_trigger_bot/_policies/{name}" in names

    env_dir = work / "venv"
    made = _run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)],
        work,
    )
    assert made.returncode == 0, made.stderr
    python = env_dir / "bin" / "python"
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--ignore-installed", "--no-compile", str(wheel)],
        work,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


def test_the_wheel_ships_the_policy_library_and_policy_init_uses_it(
    venv: Path, tmp_path: Path
) -> None:
    code = "import openai_trigger_bot; print(openai_trigger_bot.__file__)"
    where = _run([str(venv / "bin" / "python"), "-c", code], tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # not the checkout

    cli = str(venv / "bin" / "trigger-bot")
    init = _run([cli, "policy", "init", "mine"], tmp_path)
    assert init.returncode == 0, init.stderr
    copied = sorted(p.name for p in (tmp_path / "mine").iterdir())
    assert copied == sorted(
        p.name for p in (ROOT / "policies").iterdir() if p.suffix in (".yaml", ".yml", ".md")
    )
    assert "wrote mine/refunds.yaml" in init.stdout

    tested = _run([cli, "policy", "test", "mine"], tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert ", 0 failed" in tested.stdout
    assert "mine/refunds.yaml:" in tested.stdout

    again = _run([cli, "policy", "init", "mine"], tmp_path)
    assert again.returncode == 2
    assert again.stderr.startswith("trigger-bot policy init: error: ")
