"""A :class:`~openai_trigger_bot.testing.ScriptedResponses` behind real HTTP on 127.0.0.1.

The scripted fake keeps its registry of issued responses per instance, as the real API keeps
them server-side. A test that runs bots in several processes (a run started in one, resumed in
another) serves ONE instance over HTTP and points every process's client at it::

    scripted = ScriptedResponses([[function_call("pay", {"invoice": "A-1"})], [message("ok")]])
    with scripted.serve() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)

Every request goes to :meth:`ScriptedResponses.handle`, so the fake stays exactly as strict:
a ``previous_response_id`` it did not issue, or a function call without its output, is
refused with the same 400. A script step that is an exception closes the connection without
an answer (what a client sees when the connection drops).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx2

from .._lifecycle import Closing

if TYPE_CHECKING:
    from .scripted import ScriptedResponses

__all__ = ["ScriptedServer"]

HOST = "127.0.0.1"
_HOP_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


class _Handler(BaseHTTPRequestHandler):
    """Forwards each request to the server's :class:`ScriptedResponses`."""

    server: _Server

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = httpx2.Request(
            self.command,
            f"http://{HOST}:{self.server.server_port}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS],
            content=body,
        )
        try:
            response = self.server.scripted.handle(request)
        except Exception:  # a scripted connection failure: hang up without an answer
            self.close_connection = True
            return
        content = response.read()
        self.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in _HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = _forward
    do_POST = _forward

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``ScriptedResponses.requests`` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads

    def __init__(self, scripted: ScriptedResponses, port: int) -> None:
        super().__init__((HOST, port), _Handler)
        self.scripted = scripted


class ScriptedServer(Closing):
    """Serves a :class:`~openai_trigger_bot.testing.ScriptedResponses` on ``127.0.0.1``.

    It listens (on ``port``; 0 picks a free one) and serves from a thread as soon as it is
    built; :meth:`close` (or leaving the ``with`` block) stops it and joins its threads.
    Usually made by :meth:`ScriptedResponses.serve`.

    Args:
        scripted: The fake every request is forwarded to.
        port: The port to listen on (0: any free port).

    Attributes:
        base_url: The ``base_url`` for ``openai.OpenAI`` (``http://127.0.0.1:<port>/v1``).
    """

    def __init__(self, scripted: ScriptedResponses, *, port: int = 0) -> None:
        self._server = _Server(scripted, port)
        self.base_url = f"http://{HOST}:{self._server.server_port}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="scripted-responses-server"
        )
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop serving, close the socket, join the threads (again: does nothing)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
