"""Local rules engine: decision latency with 100 and 1,000 rules.

Run: ``PYTHONPATH=src python benchmarks/governance.py [--evaluations N]``

The synthetic policy spreads rules over many action names (three rules per name: a baseline,
a CEL condition on the arguments and a metadata filter) plus glob rules (one per action
family). Every proposal cycles through the action names, so each evaluation looks up its
candidates, checks their dimensions, runs the CEL conditions of those that pass, and builds
(or reuses) a decision. Times are per ``evaluate()`` call on the sync path, measured with
``time.perf_counter_ns`` after a warm-up. Compare the ratio 1000/100, not the absolute times.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openai_trigger_bot.governance import (
    ActionMetadata,
    LocalRulesEvaluator,
    ProposedAction,
)

RECOMMENDATIONS = ("proceed", "proceed_with_caution", "review_recommended", "do_not_proceed")


def policy_yaml(rule_count: int) -> tuple[str, list[str]]:
    """A policy with ``rule_count`` rules, and the action names it covers."""
    glob_count = max(1, rule_count // 10)
    per_action = 3
    action_count = (rule_count - glob_count) // per_action
    families = [f"fam{i:03d}" for i in range(glob_count)]
    actions = [f"{families[i % glob_count]}_act{i:04d}" for i in range(action_count)]
    lines = [
        "policy: bench",
        'version: "1"',
        "default: {recommendation: review_recommended, reason: unlisted}",
        "rules:",
    ]
    n = 0
    for i, name in enumerate(actions):
        lines += [
            f"  - id: r{n}",
            f"    actions: [{name}]",
            "    decision: proceed",
            f"  - id: r{n + 1}",
            f"    actions: [{name}]",
            f"    when: 'args.amount > {100 + i} && args.region == \"eu\"'",
            f"    decision: {{recommendation: {RECOMMENDATIONS[i % 4]}, risk: 0.5}}",
            f"  - id: r{n + 2}",
            f"    actions: [{name}]",
            "    environment: production",
            "    risk: [high, critical]",
            "    decision: review_recommended",
        ]
        n += 3
    while n < rule_count:
        family = families[(n - action_count * per_action) % glob_count]
        lines += [
            f"  - id: r{n}",
            f'    actions: ["{family}_*"]',
            "    when: 'value != null && value > 1000'",
            "    decision: {recommendation: review_recommended, risk: 0.6}",
        ]
        n += 1
    return "\n".join(lines) + "\n", actions


def measure(rule_count: int, evaluations: int) -> tuple[float, float, int]:
    """p50 and p99 in µs over ``evaluations`` calls, and the rule count actually loaded."""
    text, actions = policy_yaml(rule_count)
    engine = LocalRulesEvaluator.from_yaml_string(text)
    proposals = [
        ProposedAction(
            action=name,
            arguments={"amount": 50 + 37 * i % 400, "region": "eu" if i % 2 else "us"},
            metadata=ActionMetadata(
                environment="production" if i % 3 == 0 else "staging",
                risk="high" if i % 5 == 0 else "low",
            ),
            value=float(200 * (i % 8)),
            run_id="bench",
            call_id=f"c{i}",
        )
        for i, name in enumerate(actions)
    ]
    evaluate = engine.evaluate
    for proposal in proposals * 3:  # warm-up: fill the per-name and decision caches
        evaluate(proposal)
    samples: list[int] = []
    count = len(proposals)
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for i in range(evaluations):
            proposal = proposals[i % count]
            start = clock()
            evaluate(proposal)
            samples.append(clock() - start)
    finally:
        gc.enable()
    samples.sort()
    p50 = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99) - 1] / 1000
    return p50, p99, len(engine.rules)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=20_000)
    args = parser.parse_args()
    results = {}
    print(f"{'rules':>6} {'p50 µs':>8} {'p99 µs':>8}")
    for size in (100, 1000):
        p50, p99, loaded = measure(size, args.evaluations)
        results[size] = p50
        print(f"{loaded:>6} {p50:>8.1f} {p99:>8.1f}")
    print(f"ratio p50 1000/100: {results[1000] / results[100]:.2f}")


if __name__ == "__main__":
    main()
