"""How far past ``timeout_s`` a run ends when the API is slow or asks to wait (real sleeps).

Run: ``PYTHONPATH=src python benchmarks/deadline_overrun.py [--reps 3] [--quick]``

A real HTTP server on 127.0.0.1 (a thread of this process, ``TCP_NODELAY``) plays a Responses
API in trouble, one behaviour per scenario:

- ``slow``: answers after 3 s (a run with ``timeout_s=1``);
- ``429 retry-after 5``: a rate limit asking to wait 5 s (``timeout_s=2``);
- ``500 retry-after 0.8``: a server error asking to wait 0.8 s (``timeout_s=1``).

Each scenario runs a one-trigger bot with the SDK's default client settings (``max_retries=2``,
default timeout) as ``Bot.run`` with ``OpenAI``, ``Bot.arun`` with ``AsyncOpenAI`` and
``Bot.arun`` with ``OpenAI`` (worker thread), and as a baseline the SDK alone:
``client.responses.create(..., timeout=timeout_s)``, which is how a model call behaved before
the run's deadline bounded retries (every attempt got the full timeout, ``Retry-After`` slept in
full). **Overrun** = wall time of the run minus ``timeout_s`` (negative: it ended early, for
example at once when the server asks for a wait the deadline cannot afford). **Late requests**
counts requests that reached the server more than 100 ms after the deadline, counted after a
grace period at the end, so a worker thread still retrying after the run returned shows up.

The target: every run ends at most 100 ms after ``timeout_s`` (no action runs here) and sends
nothing after it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import openai
from rich.console import Console
from rich.table import Table

from openai_trigger_bot import Bot, BotSettings, action

TARGET_MS = 100.0
GRACE_S = 2.5


@dataclass(frozen=True)
class Scenario:
    name: str
    timeout_s: float
    status: int  # 200 (slow answer), 429 or 500
    delay_s: float = 0.0
    retry_after: str | None = None


SCENARIOS = (
    Scenario("slow (answers after 3 s)", 1.0, 200, delay_s=3.0),
    Scenario("429 retry-after 5", 2.0, 429, retry_after="5"),
    Scenario("500 retry-after 0.8", 1.0, 500, retry_after="0.8"),
)

_FINAL = {
    "id": "resp_slow",
    "object": "response",
    "created_at": 0,
    "status": "completed",
    "model": "gpt-5.2",
    "output": [],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}


class _Server:
    """The troubled API: the first path segment names the measurement and its scenario."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.scenarios: dict[str, Scenario] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.path.strip("/").split("/")[0]
                with server.lock:
                    server.arrivals.setdefault(token, []).append(time.monotonic())
                    sc = server.scenarios[token]
                try:
                    if sc.delay_s:
                        time.sleep(sc.delay_s)
                    if sc.status == 200:
                        body = json.dumps(_FINAL).encode()
                    else:
                        error = {"message": "scripted trouble", "type": "x", "code": None}
                        body = json.dumps({"error": error}).encode()
                    self.send_response(sc.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    if sc.retry_after is not None:
                        self.send_header("retry-after", sc.retry_after)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): fine

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join()

    def base_url(self, token: str, scenario: Scenario) -> str:
        with self.lock:
            self.scenarios[token] = scenario
        return f"http://127.0.0.1:{self.port}/{token}/v1"


@action(global_action=True)
def note(text: str) -> str:
    """Write a note.

    Args:
        text: The note.
    """
    return "noted"


def _bot(client: openai.OpenAI | openai.AsyncOpenAI, timeout_s: float) -> Bot:
    bot = Bot("bench", client, settings=BotSettings(timeout_s=timeout_s), governed=False)
    bot.register_actions(note)
    bot.trigger("t", prompt="Take notes.")(lambda: {"x": 1})
    return bot


@dataclass
class Sample:
    start: float
    elapsed: float
    outcome: str


@dataclass
class Row:
    scenario: Scenario
    client: str
    samples: list[Sample] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


def _measure(server: _Server, row: Row, token: str) -> None:
    """One run (or one bare SDK call), timed from the moment it starts."""
    sc = row.scenario
    url = server.base_url(token, sc)
    if row.client == "SDK alone (baseline)":
        client = openai.OpenAI(api_key="x", base_url=url)
        start = time.monotonic()
        try:
            client.responses.create(model="gpt-5.2", input="hi", timeout=sc.timeout_s)
            outcome = "completed"
        except openai.OpenAIError as exc:
            outcome = type(exc).__name__
        elapsed = time.monotonic() - start
        client.close()
    elif row.client == "Bot.run + OpenAI":
        client = openai.OpenAI(api_key="x", base_url=url)
        bot = _bot(client, sc.timeout_s)
        invocation = bot.triggers["t"]()
        start = time.monotonic()
        outcome = bot.run(invocation).status
        elapsed = time.monotonic() - start
        client.close()
    else:
        use_async = row.client == "Bot.arun + AsyncOpenAI"

        async def go() -> tuple[float, float, str]:
            c: Any = (openai.AsyncOpenAI if use_async else openai.OpenAI)(api_key="x", base_url=url)
            bot = _bot(c, sc.timeout_s)
            invocation = bot.triggers["t"]()
            t0 = time.monotonic()
            status = (await bot.arun(invocation)).status
            took = time.monotonic() - t0
            if use_async:
                await c.close()
            return t0, took, status

        start, elapsed, outcome = asyncio.run(go())
    row.samples.append(Sample(start, elapsed, outcome))
    row.tokens.append(token)


CLIENTS = (
    "SDK alone (baseline)",
    "Bot.run + OpenAI",
    "Bot.arun + AsyncOpenAI",
    "Bot.arun + OpenAI",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="runs per scenario and client")
    parser.add_argument("--quick", action="store_true", help="one run each")
    args = parser.parse_args()
    reps = 1 if args.quick else args.reps
    rows = [Row(sc, client) for sc in SCENARIOS for client in CLIENTS]
    ids = itertools.count()
    with _Server() as server:
        for _ in range(reps):
            for row in rows:
                _measure(server, row, f"m{next(ids)}")
        time.sleep(GRACE_S)  # let a worker thread that outlived its run show itself
        arrivals = dict(server.arrivals)
    table = Table(title=f"Deadline overrun: the worst of {reps} runs each, real sleeps")
    for col in ("scenario", "timeout_s", "client", "outcome", "overrun max", "requests", "late"):
        table.add_column(col, justify="left" if col in ("scenario", "client") else "right")
    worst_ours = float("-inf")
    for row in rows:
        sc = row.scenario
        overruns = [(s.elapsed - sc.timeout_s) * 1000 for s in row.samples]
        late = requests = 0
        for sample, token in zip(row.samples, row.tokens, strict=True):
            times = arrivals.get(token, [])
            requests += len(times)
            late += sum(t > sample.start + sc.timeout_s + TARGET_MS / 1000 for t in times)
        if row.client != "SDK alone (baseline)":
            worst_ours = max(worst_ours, *overruns)
        table.add_row(
            sc.name,
            f"{sc.timeout_s:g}",
            row.client,
            ", ".join(sorted({s.outcome for s in row.samples})),
            f"{max(overruns):+.0f} ms",
            f"{requests / reps:.1f}",
            str(late),
            style=None if row.client != "SDK alone (baseline)" else "dim",
        )
    console = Console(width=150)
    console.print(table)
    base = [
        max((s.elapsed - r.scenario.timeout_s) * 1000 for s in r.samples)
        for r in rows
        if r.client == "SDK alone (baseline)"
    ]
    verdict = "PASS" if worst_ours <= TARGET_MS else "MISS"
    console.print(
        f"worst overrun of a run: {worst_ours:+.0f} ms (target <= {TARGET_MS:.0f} ms: "
        f"{verdict}); the SDK alone: up to {max(base):+.0f} ms "
        f"(median {statistics.median(base):+.0f} ms)"
    )


if __name__ == "__main__":
    main()
