"""Smoke test of ``benchmarks/deadline_overrun.py``: its server and its three bot clients.

Only the scenario that ends at once (a 429 asking for a wait the deadline cannot afford): the
others take real seconds by design. No timing is asserted; the benchmark measures that.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import deadline_overrun as bench  # noqa: E402


def test_runs_end_without_waiting_for_a_retry_after_past_the_deadline() -> None:
    (scenario,) = [s for s in bench.SCENARIOS if s.status == 429]
    rows = [bench.Row(scenario, client) for client in bench.CLIENTS[1:]]
    with bench._Server() as server:
        for i, row in enumerate(rows):
            bench._measure(server, row, f"smoke{i}")
        arrivals = dict(server.arrivals)
    for i, row in enumerate(rows):
        assert [s.outcome for s in row.samples] == ["error"], row.client
        assert len(arrivals[f"smoke{i}"]) == 1, row.client  # one request, no retry
