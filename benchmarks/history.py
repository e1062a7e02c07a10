"""History benchmark: decision p50 with 100,000 outcomes in the window ÷ with none, per backend.

Run::

    python benchmarks/history.py              # 100,000 outcomes, 20,000 decisions per side
    python benchmarks/history.py --quick      # 5,000 outcomes, a smoke run (seconds)
    python benchmarks/history.py --json results.json

Every decision goes through ``LocalRulesEvaluator.evaluate`` with the shipped
``policies/refunds.yaml``, whose ``refund-velocity`` rule counts the target's executed refunds
over a 24 h window (so each decision asks its history for one windowed, per-target count).
Backends, each measured empty ("none") and holding N ``issue_refund`` outcomes of the last 23 h
("loaded"), built in the same run:

- ``in-memory``: :class:`InMemoryHistory`, the evaluator's default;
- ``sqlite``: :class:`StoreHistory` over :class:`SQLiteMemoryStore` (what
  ``MemoryManager(path).history`` is), a WAL file in a temporary folder;
- ``json file``: :class:`StoreHistory` over :class:`FileMemoryStore`;
- ``serve``: ``trigger-bot serve``'s wiring: the outcomes are ingested as reports into its
  SQLite report store, ``create_app`` replays them into its history at start, and the
  decision is the app's evaluator (no HTTP: the HTTP stack would hide the count).

The N outcomes spread over 1,010 customers and four statuses; the 10 customers the decisions
are about hold 20 % of them (2,000 each at N = 100,000), none ``executed``, so every decision
ends in the same ``proceed`` as on an empty history (the benchmark checks this, and that the
loaded counts are what was stored). Decisions are timed one by one with
``time.perf_counter_ns``, garbage collection off, after a warm-up; the two sides of a backend
are measured in 100 alternating blocks (so machine noise hits both alike). Target: p50 loaded
÷ p50 none ≤ 1.2 for every backend. Quote the ratios, not the absolute times: the machine is
shared.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import openai_trigger_bot  # noqa: F401  (PYTHONPATH may point at another checkout)
except ImportError:  # pragma: no cover - run from a checkout without installing
    sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))

from rich.console import Console
from rich.table import Table

from openai_trigger_bot.governance import (
    ExecutionEvent,
    HistoryProvider,
    InMemoryHistory,
    LocalRulesEvaluator,
    ProposedAction,
)
from openai_trigger_bot.memory import (
    FileMemoryStore,
    MemoryStore,
    OutcomeRecord,
    SQLiteMemoryStore,
    StoreHistory,
)

REFUNDS = Path(__file__).resolve().parents[1] / "policies" / "refunds.yaml"
ACTION = "issue_refund"
WINDOW = 86400.0
TARGET = 1.2
BACKENDS = ("in-memory", "sqlite", "json file", "serve")
HOT = [f"cus-hot-{k}" for k in range(10)]
STATUSES = ("executed", "blocked", "tool_error", "denied")


class BenchmarkFailure(RuntimeError):
    """The benchmark did not measure what it claims (never raised for a missed target)."""


def outcomes(n: int, now: float) -> list[OutcomeRecord]:
    """``n`` refund outcomes of the last 23 h, oldest first (see the module docstring)."""
    out = []
    span = 22 * 3600.0
    for i in range(n):
        at = now - 23 * 3600.0 + span * i / max(n, 1)
        if i % 5 == 0:  # 20 % on the customers the decisions are about, never executed
            out.append(OutcomeRecord(ACTION, STATUSES[1 + i % 3], HOT[(i // 5) % 10], at))
        else:
            out.append(OutcomeRecord(ACTION, STATUSES[i % 4], f"cus-{i % 1000}", at))
    return out


@dataclass
class Side:
    """One evaluator to time, and how to release what it holds."""

    evaluator: LocalRulesEvaluator
    history: HistoryProvider
    close: Callable[[], None]


def _store_side(store: MemoryStore, records: list[OutcomeRecord]) -> Side:
    for i in range(0, len(records), 10_000):  # in time order, in batches, as a history flushes
        store.record_outcomes(records[i : i + 10_000])
    history = StoreHistory(store)

    def close() -> None:
        history.close()
        store.close()

    return Side(LocalRulesEvaluator.from_files(REFUNDS, history=history), history, close)


def _serve_side(folder: Path, records: list[OutcomeRecord]) -> Side:
    from openai_trigger_bot.server import OutcomeReport, ReportStore, create_app

    policies = folder / "policies"
    policies.mkdir()
    shutil.copy(REFUNDS, policies / REFUNDS.name)
    db = folder / "reports.db"
    store = ReportStore(db)
    batch: list[OutcomeReport] = []
    for i, o in enumerate(records):
        event = ExecutionEvent(tool=o.action, call_id=f"c{i}", status=o.status, started_at=o.at)
        proposal = ProposedAction(action=o.action, target=o.target)
        batch.append(OutcomeReport(idempotency_key=f"k{i}", event=event, proposal=proposal))
        if len(batch) == 5_000:
            store.ingest(batch)
            batch = []
    if batch:
        store.ingest(batch)
    store.close()
    app = create_app(policies, token="bench", db_path=db)
    evaluator = app.state.policies.state.evaluator
    if evaluator is None:
        raise BenchmarkFailure(f"serve loaded no policies: {app.state.policies.state.problems}")
    return Side(evaluator, evaluator.history, app.state.reports.close)


def build(kind: str, folder: Path, n: int, now: float) -> Side:
    """The evaluator of backend ``kind`` over ``n`` outcomes, its files in ``folder``."""
    folder.mkdir(parents=True)
    records = outcomes(n, now)
    if kind == "in-memory":
        history = InMemoryHistory()
        for o in records:
            history.record(o.action, o.status, target=o.target, at=o.at)
        evaluator = LocalRulesEvaluator.from_files(REFUNDS, history=history)
        return Side(evaluator, history, lambda: None)
    if kind == "sqlite":
        return _store_side(SQLiteMemoryStore(folder / "memory.db"), records)
    if kind == "json file":
        return _store_side(FileMemoryStore(folder / "memory.json"), records)
    if kind == "serve":
        return _serve_side(folder, records)
    raise ValueError(f"unknown backend {kind!r}; choose from {', '.join(BACKENDS)}")


def proposals() -> list[ProposedAction]:
    return [
        ProposedAction(
            action=ACTION,
            arguments={"order_id": f"o-{k}", "amount": 40, "currency": "EUR", "reason": "late"},
            value=40,
            target=target,
            run_id="bench",
            call_id=f"c{k}",
        )
        for k, target in enumerate(HOT)
    ]


def check(kind: str, side: Side, n: int) -> None:
    """The loaded side counts what was stored and decides as the empty one does."""
    now = time.time()
    per_hot = sum(1 for i in range(n) if i % 5 == 0 and (i // 5) % 10 == 0)
    counts = side.history.counts(ACTION, since=now - WINDOW, target=HOT[0])
    if counts["total"] != per_hot or counts["executed"] != 0:
        raise BenchmarkFailure(f"{kind}: counted {dict(counts)} for {HOT[0]}, stored {per_hot}")
    for proposal in proposals():
        decision = side.evaluator.evaluate(proposal)
        if decision.recommendation != "proceed":
            raise BenchmarkFailure(f"{kind}: {proposal.target} got {decision.recommendation}")


def time_decisions(evaluator: LocalRulesEvaluator, count: int) -> list[int]:
    """Nanoseconds per ``evaluate`` call, ``count`` calls over the 10 hot customers."""
    batch = proposals()
    evaluate = evaluator.evaluate
    clock = time.perf_counter_ns
    samples = []
    gc.disable()
    try:
        for i in range(count):
            proposal = batch[i % len(batch)]
            start = clock()
            evaluate(proposal)
            samples.append(clock() - start)
    finally:
        gc.enable()
    return samples


@contextlib.contextmanager
def sides(kind: str, folder: Path, n: int) -> Iterator[tuple[Side, Side]]:
    now = time.time()
    none = build(kind, folder / "none", 0, now)
    try:
        loaded = build(kind, folder / "loaded", n, now)
        try:
            yield none, loaded
        finally:
            loaded.close()
    finally:
        none.close()


def measure(kind: str, folder: Path, n: int, decisions: int, rounds: int) -> dict[str, Any]:
    """p50 (µs) of each side of one backend, and the ratio loaded ÷ none."""
    started = time.perf_counter()
    with sides(kind, folder, n) as (none, loaded):
        setup_s = time.perf_counter() - started
        check(kind, loaded, n)
        time_decisions(none.evaluator, 300)  # warm-up
        time_decisions(loaded.evaluator, 300)
        samples: dict[str, list[int]] = {"none": [], "loaded": []}
        block = max(1, decisions // rounds)
        for r in range(rounds):  # short alternating blocks: both sides see the same machine
            order = (("none", none), ("loaded", loaded))
            for name, side in order if r % 2 else reversed(order):
                samples[name] += time_decisions(side.evaluator, block)
    p50 = {side: statistics.median(s) / 1000 for side, s in samples.items()}
    p99 = {side: sorted(s)[int(len(s) * 0.99) - 1] / 1000 for side, s in samples.items()}
    return {
        "backend": kind,
        "entries": n,
        "p50_none_us": p50["none"],
        "p50_loaded_us": p50["loaded"],
        "p99_none_us": p99["none"],
        "p99_loaded_us": p99["loaded"],
        "ratio": p50["loaded"] / p50["none"],
        "setup_s": setup_s,
    }


def table(results: list[dict[str, Any]]) -> Table:
    """The results as a rich table, with a PASS/MISS verdict per backend."""
    n = results[0]["entries"] if results else 0
    out = Table(title=f"issue_refund decision p50: {n:,} outcomes in the 24 h window vs none")
    for name in ("backend", "p50 none µs", f"p50 @{n:,} µs", "ratio", "p99 none µs"):
        out.add_column(name, justify="left" if name == "backend" else "right")
    out.add_column(f"p99 @{n:,} µs", justify="right")
    out.add_column(f"≤ {TARGET}", justify="center")
    for r in results:
        out.add_row(
            r["backend"],
            f"{r['p50_none_us']:.1f}",
            f"{r['p50_loaded_us']:.1f}",
            f"{r['ratio']:.2f}",
            f"{r['p99_none_us']:.1f}",
            f"{r['p99_loaded_us']:.1f}",
            "PASS" if r["ratio"] <= TARGET else "MISS",
        )
    return out


def run(
    backends: tuple[str, ...], n: int, decisions: int, rounds: int, echo: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Measure each backend in a temporary folder removed afterwards."""
    results = []
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        for kind in backends:
            echo(f"{kind}: building {n:,} outcomes and measuring ...")
            results.append(measure(kind, Path(tmp) / kind.replace(" ", "-"), n, decisions, rounds))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=20_000, help="per side")
    parser.add_argument("--rounds", type=int, default=100, help="alternating blocks per side")
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="repeatable")
    parser.add_argument("--quick", action="store_true", help="5,000 outcomes, 300 decisions")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.decisions, args.rounds = 5_000, 1_000, 10
    console = Console()
    backends = tuple(args.backend or BACKENDS)
    try:
        results = run(backends, args.entries, args.decisions, args.rounds, console.print)
    except BenchmarkFailure as exc:
        console.print(f"benchmark failed: {exc}")
        return 1
    console.print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
