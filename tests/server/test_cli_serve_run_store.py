"""``trigger-bot serve --run-store PATH --bot module:attribute`` (with a recording runner)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from openai_trigger_bot.cli._run_store import STORE_ENV
from openai_trigger_bot.runs import SQLiteRunStore

from .conftest import SHIPPED_POLICIES, TOKEN
from .test_cli_serve import Recorder, run_cli

BOT_MODULE = """
import os
from openai_trigger_bot.runs import SQLiteRunStore

class FakeBot:
    name = "helpdesk"
    closed = False
    def __init__(self):
        self.run_store = SQLiteRunStore(os.environ["FAKE_BOT_STORE"])
    def resume(self, run_id, decisions):
        return None
    def close(self):
        self.closed = True
        self.run_store.close()

bot = FakeBot()
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A run store file; the fake bot module is imported afresh by each test, then closed."""
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", TOKEN)
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    store = tmp_path / "runs.db"
    SQLiteRunStore(store).close()
    yield store
    module = sys.modules.pop("serve_fake_bot", None)
    if module is not None:
        module.bot.close()


def _argv(tmp_path: Path, *extra: str) -> list[str]:
    return ["--policies", str(SHIPPED_POLICIES), "--db", str(tmp_path / "r.db"), *extra]


def test_run_store_serves_the_approvals(env: Path, tmp_path: Path) -> None:
    runner = Recorder()
    assert run_cli(_argv(tmp_path, "--run-store", str(env)), runner) == 0
    ((app, _),) = runner.calls
    assert app.state.run_store.path == str(env) and app.state.resumer is None
    assert "/v1/approvals/{id}/approve" in {route.path for route in app.routes}
    app.state.run_store.close()


def test_the_store_may_come_from_the_environment(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_ENV, str(env))
    runner = Recorder()
    assert run_cli(_argv(tmp_path), runner) == 0
    ((app, _),) = runner.calls
    assert app.state.run_store.path == str(env)
    app.state.run_store.close()


def test_bot_is_imported_resumes_and_is_closed_after_the_server(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "serve_fake_bot.py").write_text(BOT_MODULE)
    monkeypatch.setenv("FAKE_BOT_STORE", str(env))
    runner = Recorder()
    argv = _argv(tmp_path, "--run-store", str(env), "--bot", "serve_fake_bot:bot")
    assert run_cli(argv, runner) == 0
    ((app, _),) = runner.calls
    bot = sys.modules["serve_fake_bot"].bot
    assert app.state.resumer.bot is bot
    assert bot.closed  # the server stopped: the command closes what it imported
    app.state.resumer.close()
    app.state.run_store.close()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--bot", "serve_fake_bot:bot"], "--bot needs the run store"),
        (["--run-store", "{tmp}/missing.db"], "the run store {tmp}/missing.db does not exist"),
        (["--run-store", "{store}", "--bot", "nocolon"], "is not module:attribute"),
        (["--run-store", "{store}", "--bot", "no_such_module_q:bot"], "cannot import"),
        (["--run-store", "{store}", "--bot", "json:dumps"], "has no resume method"),
        (["--run-store", "{store}", "--bot", "serve_fake_bot:bot"], "not in the run store"),
        (["--run-store", "{tmp}"], "is a directory"),
    ],
)
def test_refusals_are_one_line_and_start_nothing(
    env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    words: str,
) -> None:
    (tmp_path / "serve_fake_bot.py").write_text(BOT_MODULE)
    other = tmp_path / "other.db"
    SQLiteRunStore(other).close()
    monkeypatch.setenv("FAKE_BOT_STORE", str(other))  # the bot keeps its runs elsewhere
    runner = Recorder()
    extra = [e.replace("{tmp}", str(tmp_path)).replace("{store}", str(env)) for e in extra]
    assert run_cli(_argv(tmp_path, *extra), runner) == 2
    err = capsys.readouterr().err
    assert words.replace("{tmp}", str(tmp_path)) in err, err
    assert err.startswith("trigger-bot serve: error: ") and "Traceback" not in err
    assert runner.calls == []
