"""Where the gate's CPU goes inside a real run: the runner benchmark's bots, profiled.

Runs the c=1 scenarios of ``runner_overhead.py --gate`` (``ours``: the default risk-tier
policy; ``ours-gate-off``; ``ours-gate-rules``: 100 local rules) against the same scripted
server, and reports for each:

- CPU per tool round (``time.process_time``), best of ``--reps`` interleaved repetitions,
  exactly as ``runner_overhead.py`` measures it;
- the time spent inside the evaluator's ``evaluate`` (``perf_counter_ns`` around each call,
  p50 and mean), to compare with ``benchmarks/governance.py``'s hot loop;
- with ``--profile``, a cProfile of one more repetition per scenario, and the functions whose
  own time differs most between two scenarios (``--diff rules:default`` by default).

Usage::

    python benchmarks/gate_profile.py                   # 200 triggers x 5 reps
    python benchmarks/gate_profile.py --profile --top 30
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "src"))

from _responses_server import TOOL_ROUNDS, ServerProcess
from runner_overhead import Clients, make_bot, order_id_for

GATES = {"default": "default", "off": "off", "rules": "rules"}


class TimedEvaluator:
    """Wraps ``evaluate`` of the bot's evaluator with a ``perf_counter_ns`` timer."""

    def __init__(self, evaluator: Any) -> None:
        self.inner = evaluator
        self.samples: list[int] = []
        self.cpu_samples: list[int] = []
        inner_evaluate = evaluator.evaluate
        clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
        samples, cpu_samples = self.samples, self.cpu_samples

        def evaluate(proposal: Any) -> Any:
            start, cpu_start = clock(), cpu_clock()
            try:
                return inner_evaluate(proposal)
            finally:
                cpu_samples.append(cpu_clock() - cpu_start)
                samples.append(clock() - start)

        evaluator.evaluate = evaluate  # an instance attribute shadows the method


def _runner(client: Any, gate: str) -> tuple[Callable[[int, int], None], TimedEvaluator | None]:
    bot, trig = make_bot(client, gate=gate)
    timed = TimedEvaluator(bot.governance.evaluator) if bot.governance is not None else None

    def run(start: int, n: int) -> None:
        for i in range(start, start + n):
            result = bot.run(trig(order_id_for(i)))
            if result.status != "completed" or len(result.action_calls) != TOOL_ROUNDS:
                raise RuntimeError(f"{gate}: {result.status} {result.error}")

    return run, timed


def _cpu(run: Callable[[int, int], None], start: int, n: int) -> float:
    gc.collect()
    cpu0 = time.process_time()
    run(start, n)
    return (time.process_time() - cpu0) / (n * TOOL_ROUNDS) * 1e6


def _own_times(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile)
    out: dict[str, float] = {}
    for (path, line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        out[f"{Path(path).name}:{line}({name})"] = row[2]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--gates", default="default,off,rules")
    parser.add_argument("--profile", action="store_true", help="cProfile one more repetition")
    parser.add_argument("--diff", default="rules:default", help="A:B, own-time diff to print")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    gates = [g for g in args.gates.split(",") if g]
    with ServerProcess(max_lifetime=3600) as server:
        clients = Clients(server.base_url)
        client = clients.sync()
        runners = {g: _runner(client, GATES[g]) for g in gates}
        next_id = 1
        for run, _ in runners.values():  # warm-up
            run(next_id, 20)
            next_id += 20
        for _, timed in runners.values():
            if timed is not None:
                timed.samples.clear()
                timed.cpu_samples.clear()
        best: dict[str, float] = {}
        for _ in range(args.reps):
            for g, (run, _) in runners.items():
                cpu = _cpu(run, next_id, args.triggers)
                next_id += args.triggers
                best[g] = min(best.get(g, cpu), cpu)
        base = best.get("default")
        print(
            f"{'gate':<8} {'CPU µs/round':>12} {'vs default':>10} {'evaluate µs: wall p50':>22} "
            f"{'mean':>6} {'thread CPU p50':>15} {'mean':>6}"
        )
        for g, (_, timed) in runners.items():
            vs = f"{best[g] / base - 1:+.1%}" if base else "-"
            cells = ["-"] * 4
            if timed is not None and timed.samples:
                cells = [
                    f(samples) / 1000
                    for samples in (timed.samples, timed.cpu_samples)
                    for f in (statistics.median, statistics.fmean)
                ]
                cells = [f"{c:.1f}" for c in cells]
            print(
                f"{g:<8} {best[g]:>12.0f} {vs:>10} {cells[0]:>22} {cells[1]:>6} {cells[2]:>15} "
                f"{cells[3]:>6}"
            )
        if args.profile:
            own: dict[str, dict[str, float]] = {}
            for g, (run, _) in runners.items():
                profile = cProfile.Profile()
                profile.enable()
                run(next_id, args.triggers)
                profile.disable()
                next_id += args.triggers
                own[g] = _own_times(profile)
            a, b = args.diff.split(":")
            rounds = args.triggers * TOOL_ROUNDS
            keys = set(own[a]) | set(own[b])
            diff = sorted(
                ((own[a].get(k, 0.0) - own[b].get(k, 0.0), k) for k in keys), reverse=True
            )
            total = sum(d for d, _ in diff)
            print(f"\nown time {a} - {b} per round (profiled, total {total / rounds * 1e6:.0f} µs)")
            for d, k in diff[: args.top]:
                print(f"{d / rounds * 1e6:9.1f} µs  {k}")
        clients.close(None)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
