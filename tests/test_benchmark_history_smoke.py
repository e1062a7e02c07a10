"""Smoke test of ``benchmarks/history.py``: every backend builds, checks and times, small."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

from rich.console import Console

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "history.py"


def test_the_history_benchmark_runs_small() -> None:
    spec = importlib.util.spec_from_file_location("history_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["history_benchmark"] = bench
    try:
        spec.loader.exec_module(bench)
        # run() raises BenchmarkFailure unless each loaded side counts what was stored and
        # decides as the empty side does.
        results = bench.run(bench.BACKENDS, 500, 20, 2, lambda line: None)
        console = Console(record=True, width=120, file=io.StringIO())
        console.print(bench.table(results))
        text = console.export_text()
    finally:
        del sys.modules["history_benchmark"]
    assert [r["backend"] for r in results] == list(bench.BACKENDS)
    assert all(r["entries"] == 500 and r["ratio"] > 0 for r in results)
    for backend in bench.BACKENDS:
        assert backend in text
    assert "PASS" in text or "MISS" in text
