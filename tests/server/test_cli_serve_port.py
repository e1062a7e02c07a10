"""``trigger-bot serve --port``: a number out of range and a port in use are refused clearly."""

from __future__ import annotations

import argparse
import contextlib
import errno
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot.cli import main
from openai_trigger_bot.cli._listen import listen_problem
from openai_trigger_bot.cli.serve import add_serve_command

from .conftest import SHIPPED_POLICIES, TOKEN

STYLE = re.compile(r"trigger-bot serve: error: [^;\n]+; [^\n]+")


def run_cli(argv: list[str], runner: Any) -> int:
    parser = argparse.ArgumentParser(prog="trigger-bot")
    add_serve_command(parser.add_subparsers(dest="command", required=True), runner=runner)
    args = parser.parse_args(["serve", *argv])
    return int(args.func(args))


@contextlib.contextmanager
def listening(host: str = "127.0.0.1") -> Iterator[int]:
    """A socket listening on ``host`` (as another server would), its port yielded."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture
def argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("TRIGGER_BOT_TOKEN", TOKEN)
    return ["--policies", str(SHIPPED_POLICIES), "--db", str(tmp_path / "r.db")]


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_number_out_of_range_is_refused(
    port: str, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[Any] = []
    assert run_cli([*argv, "--port", port], lambda app, **kw: calls.append(kw)) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"trigger-bot serve: error: --port {port} is not a TCP port number; pass one from 1 to "
        "65535 (the default is 8787), or 0 to let the system pick a free one (the startup log "
        "names it)\n"
    )
    assert captured.out == "" and calls == [] and not (tmp_path / "r.db").exists()


def test_port_zero_lets_the_system_pick_and_help_says_so(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    assert run_cli([*argv, "--port", "0"], lambda app, **kw: calls.append(kw)) == 0
    assert calls[0]["port"] == 0
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 lets the system pick a free one, named in the startup log (default: 8787)" in text


def test_a_port_in_use_is_refused_before_the_server_is_built(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as port:
        # The real command (uvicorn as the runner): before the fix uvicorn logged its own
        # "ERROR: [Errno 98] ..." line and the command exited with status 3.
        assert main(["serve", *argv, "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"trigger-bot serve: error: port {port} on 127.0.0.1 is in use; stop the other server "
        "or pass another --port\n"
    )
    assert captured.out == "" and not (tmp_path / "r.db").exists()


def test_an_address_of_another_machine_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = "203.0.113.7"  # TEST-NET-3: documentation only, never a local address
    with socket.socket() as sock:
        try:
            sock.bind((foreign, 0))
        except OSError as exc:
            assert exc.errno == errno.EADDRNOTAVAIL
        else:
            pytest.skip("this machine binds non-local addresses (ip_nonlocal_bind)")
    assert main(["serve", *argv, "--host", foreign, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert STYLE.fullmatch(err.strip()), err
    assert f"--host {foreign} is not an address of this machine" in err


def test_the_check_binds_nothing_it_keeps() -> None:
    with listening() as port:
        problem = listen_problem("127.0.0.1", port)
        assert problem is not None and problem.what == f"port {port} on 127.0.0.1 is in use"
    assert listen_problem("127.0.0.1", port) is None  # free again: the check holds no socket
    with socket.socket() as sock:  # and left nothing bound behind it
        sock.bind(("127.0.0.1", port))


def test_a_port_in_time_wait_is_not_taken_for_one_in_use() -> None:
    with socket.socket() as server:  # a server that just stopped (uvicorn sets SO_REUSEADDR)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
    with socket.socket() as plain:  # without SO_REUSEADDR the port is still taken...
        try:
            plain.bind(("127.0.0.1", port))
        except OSError as exc:
            assert exc.errno == errno.EADDRINUSE
        else:
            pytest.skip("no TIME_WAIT left on this port")
    assert listen_problem("127.0.0.1", port) is None  # ...but uvicorn (asyncio) would bind it
