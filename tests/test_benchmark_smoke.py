"""Smoke test of ``benchmarks/runner_overhead.py``: its server, the floor loop and our runner.

Starts the scripted Responses server in its own process on 127.0.0.1, runs 2 triggers through
each client, and checks that every run completed and that the runner sends exactly the floor's
request bytes (nothing resent). The Agents SDK part needs the optional ``bench`` extra.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import runner_overhead as bench  # noqa: E402
from _responses_server import REASONING_BYTES, TOOL_ROUNDS, ServerProcess  # noqa: E402

TRIGGERS = 2


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(max_lifetime=120) as proc:
        yield proc


@pytest.fixture
def env(server: ServerProcess) -> Iterator[tuple[bench.Clients, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    clients = bench.Clients(server.base_url)
    try:
        yield clients, loop
    finally:
        clients.close(loop)
        loop.close()


def _measure_all(server: ServerProcess, scenarios: list[bench.Scenario]) -> dict[Any, Any]:
    out = {}
    for i, sc in enumerate(scenarios):
        m = bench.measure(sc, server, 1 + i * TRIGGERS, TRIGGERS)
        out[(sc.name, sc.concurrency)] = m
    return out


def test_floor_and_runner_complete_with_equal_bytes(
    server: ServerProcess, env: tuple[bench.Clients, asyncio.AbstractEventLoop]
) -> None:
    clients, loop = env
    scenarios = bench.build_scenarios(
        clients, loop, concurrencies=(1, 2), with_agents=False, stateless=False
    )
    assert {(s.name, s.concurrency) for s in scenarios} == {
        ("ours", 1),
        ("floor", 1),
        ("ours", 2),
        ("floor", 2),
    }
    # measure() raises BenchmarkFailure unless every trigger completed with 3 tool calls and
    # the server saw exactly 4 requests per trigger and no error.
    results = _measure_all(server, scenarios)
    for conc in (1, 2):
        ours, floor = results[("ours", conc)], results[("floor", conc)]
        assert ours.requests == floor.requests == TRIGGERS * bench.REQUESTS_PER_TRIGGER
        assert ours.bytes_per_trigger == floor.bytes_per_trigger
        assert ours.chained == floor.chained == TRIGGERS * TOOL_ROUNDS
        assert ours.resent == floor.resent == 0
        assert ours.cpu_s > 0 and floor.cpu_s > 0


def test_stateless_runner_and_floor_resend_the_same_bytes(
    server: ServerProcess, env: tuple[bench.Clients, asyncio.AbstractEventLoop]
) -> None:
    """Stateless mode: nothing chained, every later round resent, as many bytes as a
    hand-written stateless SDK loop, more than chained mode."""
    clients, loop = env
    scenarios = bench.build_scenarios(clients, loop, concurrencies=(1, 2), with_agents=False)
    results = _measure_all(server, scenarios)
    for conc in (1, 2):
        ours, floor = results[("ours-stateless", conc)], results[("floor-stateless", conc)]
        assert ours.bytes_per_trigger == floor.bytes_per_trigger
        assert ours.bytes_per_trigger > results[("ours", conc)].bytes_per_trigger
        assert ours.chained == floor.chained == 0
        assert ours.resent == floor.resent == TRIGGERS * TOOL_ROUNDS


def test_reasoning_scenarios_resend_reasoning_items_only_when_stateless(
    server: ServerProcess, env: tuple[bench.Clients, asyncio.AbstractEventLoop]
) -> None:
    clients, loop = env
    scenarios = [
        s
        for s in bench.build_scenarios(
            clients, loop, concurrencies=(1,), with_agents=False, reasoning=True
        )
        if "reasoning" in s.name or s.name == "ours"
    ]
    results = _measure_all(server, scenarios)
    plain, chained = results[("ours", 1)], results[("ours-reasoning", 1)]
    stateless = results[("ours-reasoning-stateless", 1)]
    assert chained.bytes_per_trigger - plain.bytes_per_trigger < 200  # the reasoning field only
    # rounds 2, 3 and 4 resend 1, 2 and 3 reasoning items
    assert stateless.bytes_per_trigger - chained.bytes_per_trigger > 6 * REASONING_BYTES


def test_agents_sdk_completes(
    server: ServerProcess, env: tuple[bench.Clients, asyncio.AbstractEventLoop]
) -> None:
    clients, loop = env  # openai-agents comes with the dev extra
    scenarios = [
        s
        for s in bench.build_scenarios(clients, loop, concurrencies=(1,), extras=True)
        if s.name.startswith("agents")
    ]
    results = _measure_all(server, scenarios)
    default, chained = results[("agents", 1)], results[("agents-chained", 1)]
    assert default.resent == TRIGGERS * TOOL_ROUNDS  # resends history by default
    assert chained.chained == TRIGGERS * TOOL_ROUNDS


def test_server_rejects_unknown_previous_response(server: ServerProcess) -> None:
    import openai

    server.reset()
    with (
        openai.OpenAI(
            base_url=server.base_url,
            api_key="x",
            max_retries=0,
            http_client=openai.DefaultHttpxClient(trust_env=False),
        ) as client,
        pytest.raises(openai.BadRequestError),
    ):
        client.responses.create(model="gpt-5.2", input="hi", previous_response_id="resp_x")
    assert server.stats()["errors"] == 1
