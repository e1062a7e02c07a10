"""Fuzz the governance gate: random hostile tool calls, count forbidden executions (must be 0).

Runs the property of ``tests/test_governance_property.py`` for many more cases (default
10,000): random tool names, malformed and hostile arguments, disallowed actions and calls the
policy blocks or sends for approval, against a real governed bot on the scripted Responses API.
An independent oracle re-checks every execution that happened.

    python benchmarks/governance_fuzz.py [--cases 10000]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz_harness import CaseResult, run_case, scripts


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz cases and print the table; exit 1 on any forbidden execution."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args(argv)
    results: list[CaseResult] = []

    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(scripts)
    def fuzz(script: list[list[dict[str, Any]]]) -> None:
        results.append(run_case(script))

    started = time.perf_counter()
    fuzz()
    elapsed = time.perf_counter() - started
    statuses = collections.Counter(r.status for r in results)
    forbidden = sum(r.forbidden for r in results)
    rows = [
        ("cases (runs)", len(results)),
        ("tool calls proposed", sum(r.proposed for r in results)),
        ("actions executed", sum(r.executed for r in results)),
        *((f"runs ending {status}", n) for status, n in sorted(statuses.items())),
        ("forbidden executions", forbidden),
    ]
    print(f"governance fuzz — {time.strftime('%Y-%m-%d')} — {elapsed:.1f} s")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value:>8}")
    print("PASS" if forbidden == 0 else "FAIL: forbidden executions happened")
    return 0 if forbidden == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
