"""``trigger-bot serve`` (the sub-command, on its own parser)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.cli.serve import add_serve_command

from .conftest import PROTOCOL, SHIPPED_POLICIES, TOKEN


def run_cli(argv: list[str], runner: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="trigger-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_command(sub, runner=runner)
    args = parser.parse_args(["serve", *argv])
    return int(args.func(args))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append((app, kwargs))


def test_refuses_to_start_without_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("TRIGGER_BOT_TOKEN", raising=False)
    monkeypatch.setenv("EMPTY_TOKEN", "  ")
    runner = Recorder()
    db = tmp_path / "r.db"
    assert run_cli(["--policies", str(SHIPPED_POLICIES), "--db", str(db)], runner) == 2
    assert "TRIGGER_BOT_TOKEN" in capsys.readouterr().err
    assert run_cli(["--token-env", "EMPTY_TOKEN", "--db", str(db)], runner) == 2
    assert "refusing to start without a token" in capsys.readouterr().err
    assert runner.calls == [] and not db.exists()


def test_token_is_not_a_command_line_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(["--token", TOKEN])  # not an abbreviation of --token-env either
    assert run_cli(["--token-env", "s3cr3t/t0ken+value"]) == 2
    assert "s3cr3t" not in capsys.readouterr().err


def test_refuses_a_missing_policy_directory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", TOKEN)
    runner = Recorder()
    assert run_cli(["--policies", str(tmp_path / "nope")], runner) == 2
    assert "does not exist" in capsys.readouterr().err
    assert runner.calls == []


async def test_serves_the_app_with_the_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("MY_TOKEN", "short")
    (tmp_path / "bad.yaml").write_text("policy: [")
    runner = Recorder()
    argv = ["--policies", str(tmp_path), "--token-env", "MY_TOKEN", "--port", "9999"]
    assert run_cli([*argv, "--db", str(tmp_path / "r.db"), "--host", "0.0.0.0"], runner) == 0
    err = capsys.readouterr().err
    assert "shorter than 16" in err and "bad.yaml:1" in err and "clear text" in err
    ((app, kwargs),) = runner.calls
    options = kwargs.pop("http"), kwargs.pop("limit_concurrency"), kwargs.pop("loop")
    assert kwargs == {
        "host": "0.0.0.0",
        "port": 9999,
        "log_level": "info",
        "server_header": False,
        "ws": "none",
        "timeout_keep_alive": 5.0,
        "h11_max_incomplete_event_size": 64 * 1024,
    }
    assert options[0].header_timeout == 10.0 and options[1:] == (1000, "auto")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/health")).status_code == 503
        body = {"protocol": PROTOCOL, "proposal": {"action": "x"}}
        assert (await http.post("/v1/decisions", json=body)).status_code == 401
        ok = await http.post("/v1/decisions", json=body, headers={"X-API-Key": "short"})
        assert ok.json()["error"]["code"] == "policies_unavailable"
