"""A scripted Responses API server for the benchmarks: real HTTP on 127.0.0.1, in its own process.

Each trigger run is scripted the same way: rounds 1-3 answer one ``function_call`` to
``lookup_order`` (arguments ``{"order_id": "..."}``), round 4 answers a final text message. The
round of a request comes from ``previous_response_id`` (the server remembers every response id
it issued and its round) or, for clients that resend the whole history instead of chaining (the
Agents SDK by default, and stateless clients), from the number of ``function_call_output``
items in ``input``. A request with a ``reasoning`` field is answered as a reasoning model
answers: a ``reasoning`` item (with ``REASONING_BYTES`` of ``encrypted_content``, a stand-in
for the real opaque state, whose size grows with the reasoning tokens) before the output.

Routes:

- ``POST /v1/responses``: the scripted model (answers 400 like the real API for an unknown
  ``previous_response_id`` or a missing tool output).
- ``GET /stats``: ``{"requests", "request_bytes", "chained", "resent", "errors"}`` since the last
  reset (``chained``: requests with ``previous_response_id``; ``resent``: later rounds sent
  without it, i.e. with the history in ``input``).
- ``POST /reset``: zero the counters and forget stored responses.

The process stops by itself: when its parent closes its stdin (normal exit, crash or kill of
the parent), or after ``--max-lifetime`` seconds, whichever comes first. Use
:class:`ServerProcess` from the client side::

    with ServerProcess() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        ...
        server.stats()

Run standalone: ``python benchmarks/_responses_server.py [--port 0] [--max-lifetime 1800]``
prints ``PORT <n>`` on its first line of stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from openai_trigger_bot.testing import function_call, message, reasoning, response_body

__all__ = ["REASONING_BYTES", "TOOL_NAME", "TOOL_ROUNDS", "ServerProcess", "StatsClient", "serve"]

HOST = "127.0.0.1"
TOOL_NAME = "lookup_order"
TOOL_ROUNDS = 3
#: Size of each reasoning item's ``encrypted_content`` (a fixed stand-in for the real value).
REASONING_BYTES = 2048
FINAL_TEXT = "All three lookups are done; the order has shipped."


class _State:
    """Counters and stored responses, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # response id -> (round, call id or "", order id)
        self.stored: dict[str, tuple[int, str, str]] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.stored.clear()
            self.requests = 0
            self.request_bytes = 0
            self.chained = 0
            self.resent = 0
            self.errors = 0

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "requests": self.requests,
                "request_bytes": self.request_bytes,
                "chained": self.chained,
                "resent": self.resent,
                "errors": self.errors,
            }


_STATE = _State()


def _order_id(body: dict[str, Any]) -> str:
    """The order id named in the trigger data (``"order_id":"..."``), else a fixed one."""
    for item in body.get("input") or ():
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            marker = '"order_id":"'
            start = text.find(marker)
            if start >= 0:
                start += len(marker)
                end = text.find('"', start)
                if end > start:
                    return text[start:end]
    return "A-0"


def _answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Decide the status and JSON body for one ``POST /v1/responses``."""
    prev = body.get("previous_response_id")
    items = body.get("input")
    outputs = [
        i for i in items or () if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]
    if prev:
        with _STATE.lock:
            known = _STATE.stored.get(prev)
        if known is None:
            msg = f"Previous response with id '{prev}' not found (was it created with store=true?)"
            return 400, {"error": {"message": msg, "type": "invalid_request_error"}}
        prev_round, call_id, order_id = known
        if call_id and call_id not in {o.get("call_id") for o in outputs}:
            msg = f"No tool output found for function call {call_id}."
            return 400, {"error": {"message": msg, "type": "invalid_request_error"}}
        round_no = prev_round + 1
    else:
        round_no = len(outputs) + 1
        order_id = _order_id(body)
    if round_no <= TOOL_ROUNDS:
        call = function_call(TOOL_NAME, {"order_id": order_id})
        output: list[dict[str, Any]] = [call]
        call_id = str(call["call_id"])
    else:
        output = [message(FINAL_TEXT)]
        call_id = ""
    if body.get("reasoning"):
        output.insert(0, reasoning(encrypted_content="g" * REASONING_BYTES))
    data = response_body(
        output,
        model=str(body.get("model") or "gpt-5.2"),
        previous_response_id=prev,
    )
    with _STATE.lock:
        if body.get("store", True) is not False:
            _STATE.stored[str(data["id"])] = (round_no, call_id, order_id)
        if prev:
            _STATE.chained += 1
        elif round_no > 1:
            _STATE.resent += 1
    return 200, data


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler with Nagle disabled (else stdlib answers ~40 ms late)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def _send_json(self, status: int, payload: Any) -> None:
        raw = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        """``GET /stats``."""
        if self.path == "/stats":
            self._send_json(200, _STATE.stats())
        else:
            self._send_json(404, {"error": {"message": f"no route GET {self.path}"}})

    def do_POST(self) -> None:
        """``POST /v1/responses`` and ``POST /reset``."""
        raw = self._read_body()
        if self.path == "/reset":
            _STATE.reset()
            self._send_json(200, {"ok": True})
            return
        if self.path.rstrip("/") != "/v1/responses":
            self._send_json(404, {"error": {"message": f"no route POST {self.path}"}})
            return
        with _STATE.lock:
            _STATE.requests += 1
            _STATE.request_bytes += len(raw)
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            status, payload = 400, {"error": {"message": "request body is not a JSON object"}}
        else:
            status, payload = _answer(body)
        if status != 200:
            with _STATE.lock:
                _STATE.errors += 1
        self._send_json(status, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 32 clients connect at once; the default backlog is 5


def serve(port: int = 0, *, max_lifetime: float = 1800.0, watch_stdin: bool = True) -> None:
    """Serve until the parent closes stdin or ``max_lifetime`` seconds pass.

    Prints ``PORT <n>`` (and flushes) once the socket listens.
    """
    server = _Server((HOST, port), _Handler)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    stop = threading.Event()
    if watch_stdin:

        def watch() -> None:
            try:
                while sys.stdin.buffer.read(1024):
                    pass
            finally:
                stop.set()

        threading.Thread(target=watch, name="stdin-watch", daemon=True).start()
    stop.wait(max_lifetime)
    # Exit at once: handler threads may still hold keep-alive connections, and
    # ``server.shutdown()`` would wait for its next poll (up to 0.5 s).
    os._exit(0)


class StatsClient:
    """Reads and resets the server's counters over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def _call(self, method: str, path: str) -> dict[str, Any]:
        self._conn.request(method, path, body=b"" if method == "POST" else None)
        resp = self._conn.getresponse()
        data: dict[str, Any] = json.loads(resp.read())
        if resp.status != 200:
            raise RuntimeError(f"{method} {path} answered {resp.status}: {data}")
        return data

    def stats(self) -> dict[str, int]:
        """The counters since the last reset."""
        return {k: int(v) for k, v in self._call("GET", "/stats").items()}

    def reset(self) -> None:
        """Zero the counters and forget stored responses."""
        self._call("POST", "/reset")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class ServerProcess:
    """Starts the server in a child process; stops it on :meth:`close` or context exit.

    Args:
        max_lifetime: The child exits by itself after this many seconds.
        start_timeout: How long to wait for the child to listen.
    """

    def __init__(self, *, max_lifetime: float = 1800.0, start_timeout: float = 30.0) -> None:
        env = dict(os.environ)
        src = Path(__file__).resolve().parents[1] / "src"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--max-lifetime", str(max_lifetime)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        try:
            self.port = self._read_port(start_timeout)
            self._stats = StatsClient(self.port)
        except BaseException:
            self.close()
            raise

    def _read_port(self, timeout: float) -> int:
        stdout = self._proc.stdout
        assert stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        text = line[0].decode().strip() if line else ""
        if not text.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start (said {text!r})")
        return int(text.split()[1])

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI client (``http://127.0.0.1:<port>/v1``)."""
        return f"http://{HOST}:{self.port}/v1"

    def stats(self) -> dict[str, int]:
        """The server's counters since the last reset."""
        return self._stats.stats()

    def reset(self) -> None:
        """Zero the server's counters and forget stored responses."""
        self._stats.reset()

    def close(self) -> None:
        """Stop the child (closing its stdin, then terminating, then killing it)."""
        stats = getattr(self, "_stats", None)
        if stats is not None:
            stats.close()
        proc = self._proc
        if proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.terminate()
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    parser.add_argument("--max-lifetime", type=float, default=1800.0, help="seconds")
    args = parser.parse_args()
    serve(args.port, max_lifetime=args.max_lifetime)


if __name__ == "__main__":
    _main()
