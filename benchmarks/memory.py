"""Memory benchmark: select latency at 10k/100k memories, capture throughput, cache size.

Run::

    python benchmarks/memory.py            # 10,000 and 100,000 memories
    python benchmarks/memory.py --quick    # 2,000 and 10,000 (a smoke run, seconds)
    python benchmarks/memory.py --json results.json

Set-up (one process, a SQLite file in a temporary folder, 384-dimensional vectors):

- **select**: ``MemoryManager.select`` of a request over 3 scopes with ``recent_limit=4`` and
  ``semantic_limit=6`` (the default 4000-character budget), on a warm vector cache. The worst
  case: *every* memory of the store is in the 3 queried scopes (a third each), so the relevance
  leg scores all N vectors. Each select embeds its query with the offline hashing embedder
  (50 different queries in turn), reads the scope versions, walks the recency index, scores the
  cached matrices and fetches the picked rows. The store is built through the store's batch API
  (``SQLiteMemoryStore.add``, one transaction per 5,000) with precomputed random unit vectors
  stored under the hashing embedder's name, so the arithmetic is the real one.
- **select after a write**: a memory is remembered, then selected; the cache appends the new
  row instead of reloading the scope (the same happens when another process writes).
- **capture**: ``MemoryManager.capture_event`` per governed call, as the runner calls it: one
  ``BEGIN IMMEDIATE`` transaction per memory, WAL, ``synchronous=NORMAL``, hashing embedder.
  The batch API ``remember_many`` (100 per transaction) is shown for information.
- **cache memory**: the cache's arrays (vectors, ids, expiry times, spare capacity) against the
  raw float32 vector bytes, plus what ``tracemalloc`` saw retained after a cold load.

Targets: select ≤ 1 ms at 10,000 and ≤ 5 ms at 100,000 (p50; p99 shown), capture ≥ 2,000
memories/s, cache ≤ 1.2x the raw vector bytes. Quote ratios from one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from openai_trigger_bot.governance.decision import Decision, ExecutionEvent
from openai_trigger_bot.memory import (
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    NewMemory,
    SQLiteMemoryStore,
    content_hash,
)

DIM = 384
SCOPES = ("global", "chat:support", "user:alice")
REQUEST = MemoryRequest(scopes=SCOPES, recent_limit=4, semantic_limit=6)
QUERIES = [f"customer {i} asks about refund of order {i * 7} and delivery delay" for i in range(50)]
INSERT_BATCH = 5000


def build(path: Path, n: int, seed: int = 7) -> None:
    """A store of ``n`` memories spread over the 3 queried scopes, with random unit vectors."""
    rng = np.random.default_rng(seed)
    name = HashingEmbedder(DIM).name
    t0 = 1_800_000_000.0
    with SQLiteMemoryStore(path) as store:
        for start in range(0, n, INSERT_BATCH):
            count = min(INSERT_BATCH, n - start)
            vectors = rng.standard_normal((count, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            items = []
            for j in range(count):
                i = start + j
                text = f"memory {i}: order {i % 997} was handled by agent {i % 31}"
                items.append(
                    NewMemory(
                        scope=SCOPES[i % 3],
                        text=text,
                        kind="fact",
                        created_at=t0 + i,
                        content_hash=content_hash(text),
                        vector=vectors[j],
                        embedder=name,
                    )
                )
            store.add(items, now=t0)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_calls(fn: Callable[[int], object], count: int) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000.0)
    return out


def bench_select(folder: Path, n: int, selects: int) -> dict[str, Any]:
    path = folder / f"select-{n}.db"
    started = time.perf_counter()
    build(path, n)
    build_s = time.perf_counter() - started
    memory = MemoryManager(path, HashingEmbedder(DIM))
    started = time.perf_counter()
    first = memory.select(REQUEST, query=QUERIES[0])
    cold_ms = (time.perf_counter() - started) * 1000.0
    assert len(first) == 10, f"expected 4 recent + 6 relevant, got {len(first)}"
    for i in range(20):
        memory.select(REQUEST, query=QUERIES[i % len(QUERIES)])
    warm = time_calls(lambda i: memory.select(REQUEST, query=QUERIES[i % len(QUERIES)]), selects)

    def write_then_select(i: int) -> None:
        memory.remember(f"fresh note {i} about refunds", scope=SCOPES[i % 3])
        memory.select(REQUEST, query=QUERIES[i % len(QUERIES)])

    writes = time_calls(write_then_select, max(20, selects // 10))
    info = memory.cache_info()
    memory._cache.clear()  # a cold load under tracemalloc: what the cache really retains
    tracemalloc.start()
    memory.select(REQUEST, query=QUERIES[1])
    traced, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    loads = memory.cache_info().loads
    memory.close()
    return {
        "n": n,
        "build_s": build_s,
        "cold_ms": cold_ms,
        "p50_ms": statistics.median(warm),
        "p99_ms": percentile(warm, 0.99),
        "after_write_p50_ms": statistics.median(writes),
        "cache_rows": info.rows,
        "cache_nbytes": info.nbytes,
        "vector_nbytes": info.vector_nbytes,
        "cache_ratio": info.nbytes / info.vector_nbytes,
        "traced_ratio": traced / (info.rows * DIM * 4),
        "traced_peak_ratio": traced_peak / (info.rows * DIM * 4),
        "loads": loads,
    }


def bench_capture(folder: Path, seconds: float) -> dict[str, Any]:
    memory = MemoryManager(folder / "capture.db", HashingEmbedder(DIM))
    decision = Decision(recommendation="do_not_proceed", reason="Refunds over 100 need review")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        event = ExecutionEvent(
            tool="refund", call_id=f"call-{count}", status="blocked", decision=decision
        )
        memory.capture_event(
            event, scopes=SCOPES, bot="bench", trigger="refunds", target=f"order-{count}"
        )
        count += 1
    single = count / (time.perf_counter() - started)
    batches, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        memory.remember_many(
            [f"batch {batches} note {j} about orders" for j in range(100)], scope="chat:batch"
        )
        batches += 1
    batched = batches * 100 / (time.perf_counter() - started)
    stored = memory.count()
    memory.close()
    assert stored == count + batches * 100, "capture lost memories"
    return {"capture_per_s": single, "remember_many_per_s": batched, "captured": count}


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []

    def add(metric: str, value: float, unit: str, target: float | None, lower: bool) -> None:
        if target is None:
            rows.append((metric, f"{value:,.3f} {unit}", "", "", "info"))
            return
        ratio = value / target
        ok = value <= target if lower else value >= target
        sign = "≤" if lower else "≥"
        rows.append(
            (
                metric,
                f"{value:,.3f} {unit}",
                f"{sign} {target:g} {unit}",
                f"{ratio:.2f}x",
                "PASS" if ok else "MISS",
            )
        )

    for sel in results["select"]:
        n = sel["n"]
        big = n >= 100_000
        target = 5.0 if big else 1.0 if n >= 10_000 else None
        add(f"select p50 @{n:,} (3 scopes, 4+6)", sel["p50_ms"], "ms", target, True)
        add(f"select p99 @{n:,}", sel["p99_ms"], "ms", None, True)
        add(f"select after a write p50 @{n:,}", sel["after_write_p50_ms"], "ms", None, True)
        add(f"first select (cold cache load) @{n:,}", sel["cold_ms"], "ms", None, True)
        add(f"cache bytes / raw vector bytes @{n:,}", sel["cache_ratio"], "x", 1.2, True)
        add(f"tracemalloc retained / raw @{n:,}", sel["traced_ratio"], "x", None, True)
        add(f"tracemalloc peak during load / raw @{n:,}", sel["traced_peak_ratio"], "x", None, True)
    cap = results["capture"]
    add("capture_event into SQLite (1 txn each)", cap["capture_per_s"], "mem/s", 2000, False)
    add("remember_many into SQLite (100 per txn)", cap["remember_many_per_s"], "mem/s", None, False)
    widths = [
        max(len(r[i]) for r in [("metric", "value", "target", "ratio", "status"), *rows])
        for i in range(5)
    ]
    lines = []
    for row in [("metric", "value", "target", "ratio", "status"), *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def run(sizes: tuple[int, ...], selects: int, capture_seconds: float) -> dict[str, Any]:
    """Run every measurement in a temporary folder; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        folder = Path(tmp)
        return {
            "select": [bench_select(folder, n, selects) for n in sizes],
            "capture": bench_capture(folder, capture_seconds),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 10k memories, short runs")
    parser.add_argument("--selects", type=int, default=500, help="timed selects per size")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    results = run(sizes, 100 if args.quick else args.selects, 0.5 if args.quick else 2.0)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
