"""Smoke test of ``benchmarks/import_time.py``: every scenario runs, probes and prints, once."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "import_time.py"


@pytest.fixture
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("import_time_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_time_benchmark"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["import_time_benchmark"]


def test_the_import_time_benchmark_runs_once(bench: ModuleType) -> None:
    results = bench.measure(bench.SCENARIOS, 1, lambda line: None)
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(bench.table(results))
    text = console.export_text()
    by_name = {r["scenario"]: r for r in results}
    assert list(by_name) == [s.name for s in bench.SCENARIOS]
    for name, r in by_name.items():
        assert r["best_s"] > 0 and r["median_s"] >= r["best_s"], name
        assert name in text
    assert by_name[bench.BASELINE]["vs_openai_s"] == 0
    # what each scenario loads is probed, not assumed
    assert "openai" in by_name[bench.BASELINE]["heavy"]
    assert by_name["import openai_trigger_bot"]["heavy"] == []
    assert "rich" not in by_name["trigger-bot --help"]["heavy"]
    assert {r["ok"] for r in results if r["target"]} <= {True, False}
    assert "PASS" in text or "MISS" in text


def test_a_failing_scenario_fails_the_benchmark(bench: ModuleType) -> None:
    broken = bench.Scenario("broken", "import openai_trigger_bot.no_such_module")
    with pytest.raises(bench.BenchmarkFailure, match="broken: exit 1: ModuleNotFoundError"):
        bench.measure((broken,), 1, lambda line: None)
