"""Smoke test of ``benchmarks/memory.py``: every measurement runs and the table has verdicts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "memory.py"


def test_the_memory_benchmark_runs_small() -> None:
    spec = importlib.util.spec_from_file_location("memory_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["memory_benchmark"] = bench
    try:
        spec.loader.exec_module(bench)
        results = bench.run((600, 10_000), selects=20, capture_seconds=0.1)
    finally:
        del sys.modules["memory_benchmark"]
    small, big = results["select"]
    assert small["n"] == 600 and small["cache_rows"] >= 600 and small["loads"] >= 1
    assert 1.0 <= big["cache_ratio"] <= 1.2
    assert results["capture"]["captured"] > 0
    table = bench.table(results)
    assert "select p50 @10,000" in table and ("PASS" in table or "MISS" in table)
