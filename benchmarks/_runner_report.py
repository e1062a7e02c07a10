"""Results of ``runner_overhead.py``: measurements, the best repetition, targets, the rich table.

Scenario names say the mode: a name ending in ``-stateless`` resends the run every round
(``store: false``); without it the run chains with ``previous_response_id``. Each row is
compared with the floor of its own mode (``floor`` or ``floor-stateless``: a hand-written SDK
loop doing the same thing) and, for request bytes, with its chained twin (the same name
without ``-stateless``).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata

import openai
from _responses_server import TOOL_ROUNDS
from rich.table import Table

__all__ = ["Measurement", "Report", "judge", "result_table", "versions"]

STATELESS = "-stateless"
ORDER = [
    "ours",
    "ours-stateless",
    "ours-gate-off",
    "ours-gate-rules",
    "ours-reasoning",
    "ours-reasoning-stateless",
    "floor",
    "floor-stateless",
    "agents",
    "agents-chained",
]


@dataclass
class Measurement:
    """One measured repetition of a scenario."""

    scenario: str
    concurrency: int
    triggers: int
    cpu_s: float
    wall_s: float
    requests: int
    request_bytes: int
    chained: int
    resent: int

    @property
    def cpu_us_per_tool_round(self) -> float:
        """Client CPU per tool round in µs (per trigger / 3)."""
        return self.cpu_s / self.triggers / TOOL_ROUNDS * 1e6

    @property
    def bytes_per_trigger(self) -> float:
        """Request body bytes per trigger."""
        return self.request_bytes / self.triggers


@dataclass
class Report:
    """Best repetition per scenario, and the target verdicts."""

    best: dict[tuple[str, int], Measurement] = field(default_factory=dict)
    all_runs: list[Measurement] = field(default_factory=list)
    verdicts: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, m: Measurement) -> None:
        """Record a repetition; keep the lowest-CPU one per scenario."""
        self.all_runs.append(m)
        key = (m.scenario, m.concurrency)
        if key not in self.best or m.cpu_s < self.best[key].cpu_s:
            self.best[key] = m

    def floor_of(self, m: Measurement) -> Measurement | None:
        """The floor of ``m``'s mode at its concurrency (none for the reasoning variants)."""
        if "reasoning" in m.scenario:
            return None
        name = "floor-stateless" if m.scenario.endswith(STATELESS) else "floor"
        return self.best.get((name, m.concurrency))

    def chained_twin(self, m: Measurement) -> Measurement | None:
        """The chained scenario ``m`` is the stateless variant of (``None`` if it is chained)."""
        if not m.scenario.endswith(STATELESS):
            return None
        return self.best.get((m.scenario[: -len(STATELESS)], m.concurrency))


def judge(report: Report, concurrencies: Sequence[int] = (1, 32)) -> list[tuple[str, bool, str]]:
    """PASS/MISS per target (and the stretch goal) from the best repetitions."""
    out: list[tuple[str, bool, str]] = []
    for c in concurrencies:
        ours = report.best.get(("ours", c))
        floor = report.best.get(("floor", c))
        agents = report.best.get(("agents", c))
        if ours is None or floor is None:
            continue
        r = ours.cpu_us_per_tool_round / floor.cpu_us_per_tool_round
        out.append((f"c={c}: CPU/tool round <= 1.10x floor", r <= 1.10, f"{r:.2f}x"))
        if agents is not None:
            ra = ours.cpu_us_per_tool_round / agents.cpu_us_per_tool_round
            out.append((f"c={c}: CPU/tool round <= 0.50x Agents SDK", ra <= 0.5, f"{ra:.2f}x"))
        eq = ours.bytes_per_trigger == floor.bytes_per_trigger
        out.append(
            (
                f"c={c}: request bytes/trigger == floor",
                eq,
                f"{ours.bytes_per_trigger:.0f} vs {floor.bytes_per_trigger:.0f}",
            )
        )
        out.append((f"c={c}: stretch: beats the floor", r < 1.0, f"{r:.2f}x"))
        off = report.best.get(("ours-gate-off", c))
        rules = report.best.get(("ours-gate-rules", c))
        if off is not None and rules is not None:
            extra = rules.cpu_us_per_tool_round / off.cpu_us_per_tool_round - 1
            out.append(
                (f"c={c}: gate (100 local rules) overhead <= 5%", extra <= 0.05, f"{extra:+.1%}")
            )
        out.extend(_stateless_verdicts(report, c))
    report.verdicts = out
    return out


def _stateless_verdicts(report: Report, c: int) -> list[tuple[str, bool, str]]:
    """Stateless mode against a hand-written stateless SDK loop (the same targets)."""
    ours = report.best.get(("ours-stateless", c))
    floor = report.best.get(("floor-stateless", c))
    if ours is None or floor is None:
        return []
    r = ours.cpu_us_per_tool_round / floor.cpu_us_per_tool_round
    got = f"{ours.bytes_per_trigger:.0f} vs {floor.bytes_per_trigger:.0f}"
    return [
        (f"c={c}: stateless CPU/tool round <= 1.10x its floor", r <= 1.10, f"{r:.2f}x"),
        (
            f"c={c}: stateless bytes/trigger == its floor",
            ours.bytes_per_trigger == floor.bytes_per_trigger,
            got,
        ),
    ]


def _ratio(value: float, base: Measurement | None, attr: str) -> str:
    if base is None:
        return "-"
    return f"{value / getattr(base, attr):.2f}x"


def result_table(report: Report) -> Table:
    """The result table (best repetition per scenario), for ``rich`` to print."""
    table = Table(title="runner overhead: best repetition per scenario")
    for name, justify in (
        ("scenario", "left"),
        ("conc", "right"),
        ("CPU µs/round", "right"),
        ("vs floor", "right"),
        ("vs agents", "right"),
        ("bytes/trigger", "right"),
        ("bytes vs floor", "right"),
        ("bytes vs chained", "right"),
        ("chained/resent", "right"),
        ("wall s", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    rank = {name: i for i, name in enumerate(ORDER)}
    for key in sorted(report.best, key=lambda k: (k[1], rank.get(k[0], len(ORDER)))):
        m = report.best[key]
        floor = report.floor_of(m)
        agents = report.best.get(("agents", m.concurrency))
        twin = report.chained_twin(m)
        cpu = m.cpu_us_per_tool_round
        table.add_row(
            m.scenario,
            str(m.concurrency),
            f"{cpu:.0f}",
            _ratio(cpu, floor, "cpu_us_per_tool_round"),
            _ratio(cpu, agents, "cpu_us_per_tool_round"),
            f"{m.bytes_per_trigger:.0f}",
            _ratio(m.bytes_per_trigger, floor, "bytes_per_trigger"),
            _ratio(m.bytes_per_trigger, twin, "bytes_per_trigger"),
            f"{m.chained}/{m.resent}",
            f"{m.wall_s:.2f}",
        )
    return table


def versions() -> dict[str, str]:
    """Date and versions worth printing with the figures."""

    def ver(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "openai": openai.__version__,
        "openai-agents": ver("openai-agents"),
        "httpx2": ver("httpx2"),
        "openai-trigger-bot": ver("openai-trigger-bot"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
