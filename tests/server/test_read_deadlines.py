"""Slow clients against a real server on 127.0.0.1: stalled reads lose their connection.

The server runs with 0.5 s read deadlines; each test waits up to 10 s for the close, so what
is asserted is *that* the server closes the connection, not how fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openai_trigger_bot.server import (
    ServerLimits,
    _read_guard,
    create_app,
    serve_in_thread,
    uvicorn_options,
)

from .conftest import PROTOCOL, SHIPPED_POLICIES, TOKEN

WAIT = 10.0  # the longest a test waits for the server to close a connection
FAST = ServerLimits(header_timeout=0.5, body_timeout=0.5, max_header_bytes=4096)


@pytest.fixture(params=["httptools", "h11"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with both of uvicorn's HTTP parsers."""
    if request.param == "h11":
        monkeypatch.setattr(_read_guard, "httptools_available", lambda: False)
    return str(request.param)


@contextlib.contextmanager
def server(limits: ServerLimits = FAST) -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory(prefix="trigger-bot-") as folder:
        app = create_app(
            SHIPPED_POLICIES, token=TOKEN, db_path=Path(folder) / "r.db", reload_interval=None
        )
        with serve_in_thread(app, limits=limits) as url:
            host, port = url.removeprefix("http://").split(":")
            yield host, int(port)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``WAIT`` s)."""
    sock.settimeout(WAIT)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server kept a stalled connection open for {WAIT} s")
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_connection_that_sends_nothing_is_closed(parser: str) -> None:
    with server() as address, socket.create_connection(address) as sock:
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_partial_headers_then_a_stall_is_closed(parser: str) -> None:
    with server() as address, socket.create_connection(address) as sock:
        sock.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_trickled_headers_are_closed_at_the_deadline_not_kept_alive_by_each_byte(
    parser: str,
) -> None:
    with server() as address, socket.create_connection(address) as sock:
        sock.settimeout(0.05)
        request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4000
        give_up = time.monotonic() + WAIT
        answer = None
        for byte in request:  # one byte every ~50 ms, each well within the 0.5 s deadline
            if time.monotonic() > give_up:
                break
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(65536)
            except TimeoutError:
                continue  # nothing from the server yet: send the next byte
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
            break
        assert answer is not None, f"the server kept a trickling client for {WAIT} s"
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_a_stalled_body_is_closed_and_the_app_sees_a_disconnect(
    parser: str, caplog: pytest.LogCaptureFixture
) -> None:
    with server() as address, socket.create_connection(address) as sock:
        head = (
            "POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            "Content-Length: 500\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"protocol": "' + PROTOCOL.encode())
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


def test_a_kept_alive_connection_gets_a_new_header_deadline(parser: str) -> None:
    with server() as address, socket.create_connection(address) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(WAIT)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /health HTTP/1.1\r\nHo")  # the next request stalls
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_a_header_block_growing_past_the_bound_is_refused(parser: str) -> None:
    with server() as address, socket.create_connection(address) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000)
        answer = read_until_closed(sock)
        # httptools has no header limit of its own: the guard answers 431; h11's own limit
        # (set to the same bound) answers 400 first.
        assert answer.startswith(b"HTTP/1.1 431" if parser == "httptools" else b"HTTP/1.1 400")


def test_complete_requests_are_served_normally(parser: str) -> None:
    with server() as (host, port), httpx.Client(base_url=f"http://{host}:{port}") as http:
        for _ in range(3):  # the same kept-alive connection
            body = {"protocol": PROTOCOL, "proposal": {"action": "revoke_access"}}
            response = http.post(
                "/v1/decisions", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert response.status_code == 200


def test_connections_beyond_the_bound_get_503(parser: str) -> None:
    limits = ServerLimits(header_timeout=60, body_timeout=60, max_connections=2)
    with server(limits) as address:
        idle = [socket.create_connection(address) for _ in range(2)]
        url = f"http://{address[0]}:{address[1]}/health"
        try:
            assert httpx.get(url).status_code == 503
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + WAIT  # the server notices the closes asynchronously
        while (status := httpx.get(url).status_code) == 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == 200


def test_serve_uses_uvloop_and_httptools() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    options = uvicorn_options()
    config = uvicorn.Config(Starlette(), **options)
    config.load()
    assert issubclass(config.http_protocol_class, HttpToolsProtocol)
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None and loop_factory.__module__.startswith("uvloop")

    async def loop_type(request: Request) -> JSONResponse:
        return JSONResponse(type(asyncio.get_running_loop()).__module__)

    app = Starlette(routes=[Route("/loop", loop_type)])
    with serve_in_thread(app) as url:
        assert httpx.get(f"{url}/loop").json().startswith("uvloop")


def test_limits_are_checked() -> None:
    from openai_trigger_bot.exceptions import ConfigurationError

    for bad in ({"header_timeout": 0}, {"body_timeout": float("inf")}, {"max_connections": 0}):
        with pytest.raises(ConfigurationError):
            ServerLimits(**bad)  # type: ignore[arg-type]
