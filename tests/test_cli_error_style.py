"""Every ``trigger-bot`` command that cannot run says so the same way, on stderr, with status 2."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from openai_trigger_bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
STYLE = re.compile(r"trigger-bot(?: [a-z]+)*: error: [^;\n]+; [^\n]+")

Setup = Callable[[Path, pytest.MonkeyPatch], list[str]]


def _demo_live(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    mp.delenv("OPENAI_API_KEY", raising=False)
    return ["demo", "--live"]


def _check_missing(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    return ["policy", "check", str(tmp / "nope")]


def _test_broken(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    (tmp / "p.yaml").write_text("policy: [")
    return ["policy", "test", str(tmp)]


def _explain_no_action(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    (tmp / "p.json").write_text('{"args": {}}')
    return ["policy", "explain", str(ROOT / "policies"), str(tmp / "p.json")]


def _init_clash(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    (tmp / "access.yaml").write_text("mine")
    return ["policy", "init", str(tmp)]


def _serve_no_policies(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    mp.setenv("TRIGGER_BOT_TOKEN", "a-long-enough-test-token")
    return ["serve", "--policies", str(tmp / "nope"), "--db", str(tmp / "r.db")]


def _serve_no_token(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    mp.delenv("TRIGGER_BOT_TOKEN", raising=False)
    return ["serve", "--policies", str(ROOT / "policies"), "--db", str(tmp / "r.db")]


def _serve_token_on_the_command_line(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    return ["serve", "--token-env", "s3cr3t-token!", "--db", str(tmp / "r.db")]


def _serve(*extra: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        mp.setenv("TRIGGER_BOT_TOKEN", "a-long-enough-test-token")
        args = ["serve", "--policies", str(ROOT / "policies"), "--db", str(tmp / "r.db")]
        return [*args, *(a.replace("{tmp}", str(tmp)) for a in extra)]

    return setup


@pytest.mark.parametrize(
    "setup",
    [
        _demo_live,
        _check_missing,
        _test_broken,
        _explain_no_action,
        _init_clash,
        _serve_no_policies,
        _serve_no_token,
        _serve_token_on_the_command_line,
        _serve("--reload-interval", "-1"),
        _serve("--header-timeout", "0"),
        _serve("--max-connections", "0"),
        _serve("--public-url", "ftp://x?y"),
        _serve("--db", "{tmp}/no/such/dir/r.db"),
        _serve("--port", "99999"),
        _serve("--port", "-1"),
    ],
)
def test_errors_share_one_style(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _assert_one_style(setup(tmp_path, monkeypatch), capsys)


def test_a_port_in_use_shares_the_style(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen(1)
        port = other_server.getsockname()[1]
        _assert_one_style(_serve("--port", str(port))(tmp_path, monkeypatch), capsys)


def _assert_one_style(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first, *details = captured.err.splitlines()
    assert STYLE.fullmatch(first), first
    assert first.startswith(f"trigger-bot {argv[0]}")
    assert all(line.startswith("  ") for line in details), details
    assert "Traceback" not in captured.err and "pydantic.dev" not in captured.err
