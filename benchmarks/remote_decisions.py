"""Remote decisions over loopback: latency, the open-breaker cost, and 32-way concurrency.

A decision server runs in a **separate process** on 127.0.0.1 (HTTP/1.1 keep-alive): the
project's own ``trigger-bot serve`` app (``openai_trigger_bot.server.create_app``, starlette
under uvicorn with h11) serving a one-rule policy, or, when that module is missing, the
stdlib :class:`~openai_trigger_bot.governance.remote.testing.FakeDecisionService`. The server
counts requests and accepted TCP connections (``GET /_stats``, not counted itself).

Measured with ``RemoteEvaluator`` (native protocol, bearer token, default timeouts, retries and
breaker) in this process:

- **remote decision**: ``await evaluate(p)``, sequential, one kept-alive connection; p50/p99 of
  ``time.perf_counter`` per call after a warm-up. ``httpx floor`` is a bare
  ``httpx.AsyncClient.post`` of the same body with ``json.loads`` of the answer (information:
  our overhead on top of httpx is the difference).
- **open breaker**: the same evaluator after ``breaker.open()``: the cost of a refused decision
  (``CircuitOpenError``, as the gate sees it), and the server's request and connection counters
  before and after (they must not move).
- **32 concurrent**: 32 tasks deciding in a loop on one evaluator versus one task. Client CPU
  is ``time.process_time()`` of this process, so *decisions per client CPU-second* is the
  throughput per core used; the target compares it at 32 with the single-call figure (that is,
  32 concurrent calls against 32x the single-call throughput, per core used).

Usage::

    python benchmarks/remote_decisions.py            # 3000 sequential, 20000 open, 6400 x c
    python benchmarks/remote_decisions.py --quick    # smoke run (seconds)
    python benchmarks/remote_decisions.py --json out.json

Quote ratios from one run. Exits non-zero when a run fails (a wrong decision, a request that
reached the server through an open breaker), never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx

from openai_trigger_bot.governance import ActionMetadata, ProposedAction
from openai_trigger_bot.governance.remote import CircuitOpenError, RemoteEvaluator

TOKEN = "bench-token-0123456789abcdef"
POLICY = """
policy: bench
version: "1"
default: {recommendation: do_not_proceed, reason: unlisted}
rules:
  - id: small
    actions: [issue_refund]
    when: 'value <= 50'
    decision: proceed
"""
CONCURRENCY = 32


# -- the server process ---------------------------------------------------------------------


def serve(policy_dir: str, db_path: str) -> None:  # pragma: no cover (runs in the child)
    """Child process: ``trigger-bot serve``'s app with request/connection counters."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from openai_trigger_bot.server import create_app

    app = create_app(policy_dir, token=TOKEN, db_path=db_path, reload_interval=None)
    counters = {"requests": 0, "connections": 0}

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/_stats":
                body = json.dumps(counters).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            counters["requests"] += 1
        await app(scope, receive, send)

    class CountingH11(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            counters["connections"] += 1
            super().connection_made(transport)

    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listening socket says so, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        counting,
        http=CountingH11,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=300,
    )
    server = uvicorn.Server(config)

    def stop_when_parent_goes() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_when_parent_goes, daemon=True).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


@dataclass
class Server:
    """The server subprocess (terminated by :meth:`stop`)."""

    process: subprocess.Popen[str]
    base_url: str
    kind: str
    _stats_client: httpx.Client | None = None

    def stats(self) -> dict[str, int]:
        """The server's counters, read over one kept-alive connection of its own."""
        if self._stats_client is None:
            self._stats_client = httpx.Client(base_url=self.base_url, timeout=5, trust_env=False)
        return dict(self._stats_client.get("/_stats").json())

    def stop(self) -> None:
        if self._stats_client is not None:
            self._stats_client.close()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_server(workdir: Path) -> Server:
    try:
        import uvicorn  # noqa: F401

        import openai_trigger_bot.server  # noqa: F401
    except ImportError:
        module = "openai_trigger_bot.governance.remote.testing"
        cmd = [sys.executable, "-m", module]
        kind = "FakeDecisionService (stdlib ThreadingHTTPServer; trigger-bot serve missing)"
    else:
        (workdir / "policies").mkdir()
        (workdir / "policies" / "bench.yaml").write_text(POLICY)
        db = str(workdir / "reports.db")
        cmd = [sys.executable, __file__, "--serve", str(workdir / "policies"), db]
        kind = "trigger-bot serve (create_app, starlette + uvicorn/h11)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return Server(process, f"http://127.0.0.1:{int(line.split()[1])}", kind)


# -- measurements ---------------------------------------------------------------------------


def proposal(i: int) -> ProposedAction:
    return ProposedAction(
        action="issue_refund",
        arguments={"customer": f"c{i % 50}", "amount": 20},
        metadata=ActionMetadata(system="stripe", risk="medium"),
        value=20,
        target=f"c{i % 50}",
        bot="bench-bot",
        trigger="refunds",
        run_id="run-1",
        call_id=f"call-{i}",
    )


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(evaluator: RemoteEvaluator, n: int) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        decision = await evaluator.evaluate(proposal(i))
        times.append(time.perf_counter() - started)
        if decision.recommendation != "proceed":
            raise RuntimeError(f"unexpected decision: {decision}")
    return times


async def floor(base_url: str, n: int) -> list[float]:
    from openai_trigger_bot.governance.remote.native import NativeProtocol

    wire = NativeProtocol()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    times = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, trust_env=False) as client:
        for i in range(n):
            started = time.perf_counter()
            body = json.dumps(wire.encode(proposal(i), f"{i:032x}")).encode()
            answer = await client.post("/v1/decisions", content=body)
            json.loads(answer.content)
            times.append(time.perf_counter() - started)
    return times


async def open_breaker(evaluator: RemoteEvaluator, n: int) -> list[float]:
    evaluator.breaker.open()
    p = proposal(0)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        try:
            await evaluator.evaluate(p)
        except CircuitOpenError:
            pass
        else:
            raise RuntimeError("a decision got through an open breaker")
        times.append(time.perf_counter() - started)
    evaluator.breaker.close()
    return times


async def throughput(evaluator: RemoteEvaluator, n: int, concurrency: int) -> tuple[float, float]:
    """(decisions per wall second, decisions per client CPU second)."""
    per_task = n // concurrency

    async def worker(k: int) -> None:
        for i in range(per_task):
            decision = await evaluator.evaluate(proposal(k * per_task + i))
            if decision.recommendation != "proceed":
                raise RuntimeError(f"unexpected decision: {decision}")

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = per_task * concurrency
    return done / wall, done / cpu


async def run(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    results: dict[str, Any] = {"server": server.kind}
    async with RemoteEvaluator(server.base_url, token=TOKEN) as evaluator:
        await sequential(evaluator, args.warmup)
        seq = await sequential(evaluator, args.sequential)
        flo = await floor(server.base_url, args.sequential)
        results["p50_ms"], results["p99_ms"] = pct(seq, 0.5) * 1e3, pct(seq, 0.99) * 1e3
        results["floor_p50_ms"] = pct(flo, 0.5) * 1e3
        results["floor_p99_ms"] = pct(flo, 0.99) * 1e3

        before = server.stats()
        await open_breaker(evaluator, args.warmup)
        opened = await open_breaker(evaluator, args.open)
        after = server.stats()
        results["open_p50_us"] = pct(opened, 0.5) * 1e6
        results["open_mean_us"] = statistics.fmean(opened) * 1e6
        results["open_requests"] = after["requests"] - before["requests"]
        results["open_connections"] = after["connections"] - before["connections"]
        if results["open_requests"] or results["open_connections"]:
            raise RuntimeError(f"the open breaker reached the server: {before} -> {after}")

        await throughput(evaluator, args.concurrent // 4, CONCURRENCY)  # warm the pool
        best1 = best32 = (0.0, 0.0)
        for _ in range(args.reps):
            one = await throughput(evaluator, args.concurrent // 4, 1)
            many = await throughput(evaluator, args.concurrent, CONCURRENCY)
            best1 = max(best1, one, key=lambda r: r[1])
            best32 = max(best32, many, key=lambda r: r[1])
        results["c1_per_s"], results["c1_per_cpu_s"] = best1
        results["c32_per_s"], results["c32_per_cpu_s"] = best32
        results["cpu_ratio"] = best32[1] / best1[1]
    results["connections_total"] = server.stats()["connections"]
    return results


def report(r: dict[str, Any]) -> None:
    ok = {True: "PASS", False: "MISS"}
    rows = [
        ("remote decision p50 (keep-alive)", f"{r['p50_ms']:.3f} ms", "<= 1 ms", r["p50_ms"] <= 1),
        ("remote decision p99 (keep-alive)", f"{r['p99_ms']:.3f} ms", "<= 5 ms", r["p99_ms"] <= 5),
        (
            "open breaker, per decision (p50)",
            f"{r['open_p50_us']:.1f} µs (mean {r['open_mean_us']:.1f})",
            "<= 20 µs",
            r["open_p50_us"] <= 20,
        ),
        (
            "open breaker: requests / sockets",
            f"{r['open_requests']} / {r['open_connections']}",
            "0 / 0",
            r["open_requests"] == 0 and r["open_connections"] == 0,
        ),
        (
            f"c={CONCURRENCY} vs {CONCURRENCY}x c=1, per CPU-s",
            f"{r['cpu_ratio']:.2f}x ({r['c32_per_cpu_s']:.0f} vs {r['c1_per_cpu_s']:.0f}/CPU-s)",
            ">= 0.80x",
            r["cpu_ratio"] >= 0.8,
        ),
    ]
    print(f"server: {r['server']}; connections opened in all: {r['connections_total']}")
    print(f"python {platform.python_version()}, httpx {httpx.__version__}, {os.cpu_count()} CPUs")
    print()
    print(f"{'metric':<40} {'measured':<34} {'target':<10} result")
    print("-" * 94)
    for name, value, target, passed in rows:
        print(f"{name:<40} {value:<34} {target:<10} {ok[passed]}")
    print()
    print("information:")
    print(
        f"  httpx floor (bare AsyncClient.post): p50 {r['floor_p50_ms']:.3f} ms, "
        f"p99 {r['floor_p99_ms']:.3f} ms; ours/floor p50 {r['p50_ms'] / r['floor_p50_ms']:.2f}x"
    )
    print(
        f"  wall throughput: c=1 {r['c1_per_s']:.0f}/s, c={CONCURRENCY} {r['c32_per_s']:.0f}/s "
        f"({r['c32_per_s'] / r['c1_per_s']:.2f}x; the server shares this machine's CPUs)"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequential", type=int, default=3000)
    parser.add_argument("--open", type=int, default=20000)
    parser.add_argument("--concurrent", type=int, default=6400)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.sequential, args.open, args.concurrent, args.warmup, args.reps = 200, 2000, 640, 50, 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            results = asyncio.run(run(args, server))
        finally:
            server.stop()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
