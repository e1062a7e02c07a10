"""``trigger-bot serve``: the limit and public URL options; ``--help`` states every default."""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.cli.serve import add_serve_command

from .conftest import SHIPPED_POLICIES, TOKEN


def parser(runner: Any = None) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="trigger-bot")
    sub = root.add_subparsers(dest="command", required=True)
    add_serve_command(sub, runner=runner)
    return root


def run_cli(argv: list[str], runner: Any = None) -> int:
    args = parser(runner).parse_args(["serve", *argv])
    return int(args.func(args))


def test_help_states_every_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no line wrapping inside a value
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in (
        "policy directory (default: policies)",
        "(default: 127.0.0.1)",
        "(default: 8787)",
        "(default: TRIGGER_BOT_TOKEN)",
        "SQLite file for outcome reports (default: decision-reports.db)",
        "reloading off (default: 1.0)",
        "(default: 10.0)",
        "(default: 30.0)",
        "(default: 5.0)",
        "(default: 1000)",
        "(default: info)",
    ):
        assert default in text, default
    assert "default: the local address" in text  # --public-url


def test_limits_and_public_url_reach_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", TOKEN)
    calls: list[tuple[Any, dict[str, Any]]] = []
    argv = ["--policies", str(SHIPPED_POLICIES), "--db", str(tmp_path / "r.db")]
    argv += ["--header-timeout", "2.5", "--body-timeout", "7", "--keep-alive-timeout", "3"]
    argv += ["--max-connections", "50", "--public-url", "https://pdp.example.com/"]
    assert run_cli(argv, lambda app, **kw: calls.append((app, kw))) == 0
    ((app, kwargs),) = calls
    protocol = kwargs["http"]
    assert (protocol.header_timeout, protocol.body_timeout) == (2.5, 7.0)
    assert kwargs["timeout_keep_alive"] == 3.0 and kwargs["limit_concurrency"] == 50
    transport = httpx.ASGITransport(app=app)

    async def discover() -> dict[str, str]:
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as c:
            body: dict[str, str] = (await c.get("/.well-known/authzen-configuration")).json()
            return body

    assert asyncio.run(discover())["policy_decision_point"] == "https://pdp.example.com"


@pytest.mark.parametrize(
    ("option", "value", "flag"),
    [
        ("--header-timeout", "0", "--header-timeout"),
        ("--body-timeout", "-1", "--body-timeout"),
        ("--max-connections", "0", "--max-connections"),
        ("--public-url", "pdp.example.com", "--public-url"),
    ],
)
def test_bad_options_are_refused_in_the_cli_error_style(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    option: str,
    value: str,
    flag: str,
) -> None:
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", TOKEN)
    calls: list[Any] = []
    db = tmp_path / "r.db"
    argv = ["--policies", str(SHIPPED_POLICIES), "--db", str(db), f"{option}={value}"]
    assert run_cli(argv, lambda app, **kw: calls.append(app)) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"trigger-bot serve: error: [^;\n]+; [^\n]+", err), err
    assert flag in err and calls == []
