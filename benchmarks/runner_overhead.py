"""Client CPU per tool round and request bytes per trigger: this runner vs the floor vs Agents SDK.

A scripted Responses server runs in a separate process on 127.0.0.1 (real HTTP/1.1 keep-alive,
see ``_responses_server.py``). Every trigger takes 3 tool rounds (one ``lookup_order`` call
each) and a final text answer: 4 requests. Scenarios, at concurrency 1 and 32:

- ``ours``: this library, ``Bot.run`` with ``openai.OpenAI`` at concurrency 1 and ``Bot.arun``
  with ``openai.AsyncOpenAI`` under a semaphore at 32.
- ``floor``: a minimal hand-written loop over ``client.responses.create(**kw)`` with the same
  request fields as ``bot.request_preview(...)``, chaining with ``previous_response_id`` and
  sending only the ``function_call_output`` items, calling the tool function directly.
- ``agents``: the OpenAI Agents SDK's ``Runner.run`` with its defaults (it resends the whole
  history every round instead of chaining), tracing disabled.
- ``agents-chained`` (information only, ``--extras``): the Agents SDK with
  ``auto_previous_response_id=True``, its documented switch to chain instead of resending.
- ``ours-stateless`` / ``floor-stateless``: the same two in stateless mode (``store: false``,
  for zero data retention): no ``previous_response_id``; every round resends the first input,
  the earlier output items and the tool outputs (the floor: ``input += response.output`` and
  the outputs, as OpenAI's cookbook does). Compared with each other and with their chained twins.
- ``ours-reasoning`` / ``ours-reasoning-stateless`` (``--reasoning``): the runner with
  ``reasoning_effort="low"``; the server then answers with a reasoning item carrying
  ``REASONING_BYTES`` of ``encrypted_content`` (a stand-in size), which stateless mode resends.

Client CPU is ``time.process_time()`` of this process (all its threads) around the measured
triggers; the server's CPU is in the other process and excluded. Each scenario is warmed up,
then measured ``--reps`` times, interleaved with the others; the table shows the best (lowest
CPU) repetition. Quote ratios from one run, not absolute times.

Usage::

    python benchmarks/runner_overhead.py                 # N=200 at c=1, N=640 at c=32
    python benchmarks/runner_overhead.py --quick         # smoke run
    python benchmarks/runner_overhead.py --triggers 400 --reps 5 --json out.json
    python benchmarks/runner_overhead.py --reasoning   # also a reasoning model, both modes

Exits non-zero when a run fails (a trigger not completing, a server error), never because a
target is missed: targets are printed as PASS / MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _responses_server
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "src"))  # the library

import openai
from _responses_server import REASONING_BYTES, TOOL_NAME, TOOL_ROUNDS, ServerProcess
from _runner_report import Measurement, Report, judge, result_table, versions
from rich.console import Console

from governance import policy_yaml as governance_policy_yaml
from openai_trigger_bot import Bot, BotSettings, Trigger, action
from openai_trigger_bot.governance import LocalRulesEvaluator

__all__ = [
    "SYSTEM_PROMPT",
    "Clients",
    "FloorLoop",
    "Measurement",
    "Scenario",
    "lookup_order",
    "main",
    "make_bot",
    "measure",
]

MODEL = "gpt-5.2"
SYSTEM_PROMPT = "You are an order-desk assistant. Use the tools to look orders up."
REQUESTS_PER_TRIGGER = TOOL_ROUNDS + 1
MAX_ROUNDS = 6  # safety bound for the hand-written loops (same as max_model_calls)


def lookup_order(order_id: str) -> dict[str, str]:
    """Look up an order.

    Args:
        order_id: The order id.
    """
    return {"order_id": order_id, "status": "shipped"}


lookup_order_action = action(global_action=True)(lookup_order)


def order_id_for(i: int) -> str:
    """The order id of the ``i``-th trigger (fixed width, so bytes do not depend on ``i``)."""
    return f"A-{i:07d}"


def rules_policy(rule_count: int = 100) -> LocalRulesEvaluator:
    """``rule_count`` local rules (the governance benchmark's synthetic policy) plus two rules
    for ``lookup_order``: a baseline and a CEL condition on its arguments."""
    text, _ = governance_policy_yaml(rule_count - 2)
    text += (
        "  - id: lookup-baseline\n    actions: [lookup_order]\n    decision: proceed\n"
        "  - id: lookup-odd-id\n    actions: [lookup_order]\n"
        "    when: 'size(args.order_id) != 9'\n    decision: review_recommended\n"
    )
    return LocalRulesEvaluator.from_yaml_string(text)


def make_bot(
    client: openai.OpenAI | openai.AsyncOpenAI,
    *,
    gate: str = "default",
    store: bool = True,
    reasoning: bool = False,
) -> tuple[Bot, Trigger]:
    """The benchmark bot (as in the issue) and its ``order-status`` trigger.

    Args:
        client: The OpenAI client.
        gate: ``default`` (the bot's default risk-tier policy), ``rules`` (100 local rules)
            or ``off`` (``governed=False``, the baseline of the gate-overhead target).
        store: ``False``: stateless mode.
        reasoning: Ask for ``reasoning_effort="low"`` (the server answers with reasoning items).
    """
    settings = BotSettings(
        model=MODEL,
        system_prompt=SYSTEM_PROMPT,
        max_model_calls=6,
        store=store,
        reasoning_effort="low" if reasoning else None,
    )
    bot = Bot(
        name="bench",
        client=client,
        settings=settings,
        policy=rules_policy() if gate == "rules" else None,
        governed=gate != "off",
    )
    bot.register_actions(lookup_order_action)

    @bot.trigger(
        "order-status",
        prompt="Look up the order and report its status.",
        default_action=lookup_order_action,
    )
    def order_status(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    return bot, order_status


def _dumps(value: Any) -> str:
    """Compact JSON, as a careful hand-written loop (and the OpenAI SDK) would send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class BenchmarkFailure(RuntimeError):
    """A trigger run did not end as scripted."""


# -- (b) the floor: a minimal hand-written openai SDK loop ------------------------------------


@dataclass(frozen=True)
class FloorLoop:
    """The minimal hand-written loop with the official SDK, using the bot's request fields.

    With ``store: false`` in ``base`` it is the stateless loop of OpenAI's cookbook: no
    ``previous_response_id``; each round sends the history so far plus ``response.output``
    (the SDK's output items, as returned) and the tool outputs.

    Attributes:
        base: ``model``, ``instructions``, ``tools``, ``tool_choice``, ``parallel_tool_calls``,
            ``store``, ``prompt_cache_key`` (and ``include``) exactly as in
            ``bot.request_preview(...)``.
        tools: The Python functions by tool name, called directly.
    """

    base: dict[str, Any]
    tools: dict[str, Callable[..., Any]]

    @classmethod
    def from_preview(cls, preview: dict[str, Any]) -> FloorLoop:
        """Take every request field but ``input`` from a request preview."""
        base = {k: v for k, v in preview.items() if k != "input"}
        return cls(base=base, tools={TOOL_NAME: lookup_order})

    @staticmethod
    def first_input(order_id: str) -> list[Any]:
        """The first round's input, built like a hand-written loop would."""
        return [{"role": "user", "content": "Trigger data:\n" + _dumps({"order_id": order_id})}]

    def _outputs(self, response: Any) -> list[Any]:
        out: list[Any] = []
        for item in response.output:
            if item.type == "function_call":
                value = self.tools[item.name](**json.loads(item.arguments))
                out.append(
                    {
                        "type": "function_call_output",
                        "call_id": item.call_id,
                        "output": _dumps(value),
                    }
                )
        return out

    def _next(self, response: Any, outputs: list[Any], history: list[Any]) -> dict[str, Any]:
        """The next request's arguments; a stateless loop extends ``history`` in place."""
        if self.base.get("store") is False:
            history += [*response.output, *outputs]
            return {**self.base, "input": list(history)}
        return {**self.base, "previous_response_id": response.id, "input": outputs}

    def run(self, client: openai.OpenAI, order_id: str) -> int:
        """One trigger, sync. Returns the number of tool calls executed."""
        history = self.first_input(order_id)
        response = client.responses.create(**self.base, input=list(history))
        calls = 0
        for _ in range(MAX_ROUNDS - 1):
            outputs = self._outputs(response)
            if not outputs:
                break
            calls += len(outputs)
            response = client.responses.create(**self._next(response, outputs, history))
        _check(bool(response.output_text) and calls == TOOL_ROUNDS, "floor", calls)
        return calls

    async def arun(self, client: openai.AsyncOpenAI, order_id: str) -> int:
        """One trigger, async. Returns the number of tool calls executed."""
        history = self.first_input(order_id)
        response = await client.responses.create(**self.base, input=list(history))
        calls = 0
        for _ in range(MAX_ROUNDS - 1):
            outputs = self._outputs(response)
            if not outputs:
                break
            calls += len(outputs)
            response = await client.responses.create(**self._next(response, outputs, history))
        _check(bool(response.output_text) and calls == TOOL_ROUNDS, "floor", calls)
        return calls


def _check(ok: bool, who: str, detail: object) -> None:
    if not ok:
        raise BenchmarkFailure(f"{who}: a trigger did not complete as scripted ({detail})")


# -- scenarios ------------------------------------------------------------------------------


@dataclass
class Scenario:
    """A named way to run triggers at a given concurrency.

    Attributes:
        name: ``ours``, ``floor``, ``agents``, ``agents-chained``, a ``-stateless`` variant...
        concurrency: Triggers in flight at once.
        run_batch: Runs triggers ``start .. start+n-1`` and returns when all have completed
            (raises :class:`BenchmarkFailure` otherwise).
        target: Whether the targets are judged on this scenario.
    """

    name: str
    concurrency: int
    run_batch: Callable[[int, int], None]
    target: bool = True


async def _gather_limited(
    n: int, start: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> None:
    """Run ``one(i)`` for ``i`` in ``start .. start+n-1``, at most ``concurrency`` at once."""
    sem = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with sem:
            await one(i)

    await asyncio.gather(*(guarded(i) for i in range(start, start + n)))


class Clients:
    """Creates the SDK clients of a benchmark and closes them all at the end.

    Every client has the SDK's default settings, no retries, and ignores proxy settings from
    the environment (the benchmark talks to 127.0.0.1 only).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._sync: list[openai.OpenAI] = []
        self._async: list[openai.AsyncOpenAI] = []

    def sync(self) -> openai.OpenAI:
        """A new ``OpenAI`` client."""
        client = openai.OpenAI(
            base_url=self.base_url,
            api_key="x",
            max_retries=0,
            http_client=openai.DefaultHttpxClient(trust_env=False),
        )
        self._sync.append(client)
        return client

    def async_(self) -> openai.AsyncOpenAI:
        """A new ``AsyncOpenAI`` client."""
        client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key="x",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(trust_env=False),
        )
        self._async.append(client)
        return client

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close every client (the async ones on ``loop``, where their pools live)."""
        for c in self._sync:
            c.close()
        for a in self._async:
            loop.run_until_complete(a.close())
        self._sync.clear()
        self._async.clear()


def build_scenarios(
    clients: Clients,
    loop: asyncio.AbstractEventLoop,
    *,
    concurrencies: Sequence[int] = (1, 32),
    with_agents: bool = True,
    extras: bool = False,
    gate: bool = False,
    stateless: bool = True,
    reasoning: bool = False,
) -> list[Scenario]:
    """Create clients, bots and agents once; return the scenarios to measure.

    ``stateless=True`` adds ``ours-stateless`` and ``floor-stateless``; ``gate=True`` adds
    ``ours-gate-off`` (no gate) and ``ours-gate-rules`` (100 local rules) for the
    gate-overhead target; ``reasoning=True`` adds ``ours-reasoning`` and
    ``ours-reasoning-stateless``.

    Async scenarios run on ``loop`` (one loop for the whole benchmark, so the async clients
    keep their connection pools between repetitions).
    """
    sync_client, async_client = clients.sync(), clients.async_()

    def check_ours(result: Any) -> None:
        ok = result.status == "completed" and len(result.action_calls) == TOOL_ROUNDS
        _check(ok and all(c.ok for c in result.action_calls), "ours", result.error or result.status)

    def ours(conc: int, **options: Any) -> Callable[[int, int], None]:
        """``Bot.run`` with the sync client at concurrency 1, else ``Bot.arun`` with the async
        one under a semaphore."""
        if conc == 1:
            bot, trig = make_bot(sync_client, **options)

            def run(start: int, n: int) -> None:
                for i in range(start, start + n):
                    check_ours(bot.run(trig(order_id_for(i))))

            return run
        abot, atrig = make_bot(async_client, **options)

        async def one(i: int) -> None:
            check_ours(await abot.arun(atrig(order_id_for(i))))

        return lambda start, n: _run_on(loop, _gather_limited(n, start, conc, one))

    def floor_loop(store: bool) -> FloorLoop:
        bot, trig = make_bot(sync_client, store=store)
        preview = bot.request_preview(trig(order_id_for(0)))
        floor = FloorLoop.from_preview(preview)
        if floor.first_input(order_id_for(0)) != preview["input"]:
            raise BenchmarkFailure("the floor's first input differs from the runner's")
        return floor

    def floor_runs(floor: FloorLoop, conc: int) -> Callable[[int, int], None]:
        if conc == 1:

            def run(start: int, n: int) -> None:
                for i in range(start, start + n):
                    floor.run(sync_client, order_id_for(i))

            return run

        async def one(i: int) -> None:
            await floor.arun(async_client, order_id_for(i))

        return lambda start, n: _run_on(loop, _gather_limited(n, start, conc, one))

    floor = floor_loop(True)
    floor_stateless = floor_loop(False) if stateless else None
    scenarios: list[Scenario] = []
    for conc in concurrencies:
        scenarios.append(Scenario("ours", conc, ours(conc)))
        scenarios.append(Scenario("floor", conc, floor_runs(floor, conc)))
        if floor_stateless is not None:
            scenarios.append(Scenario("ours-stateless", conc, ours(conc, store=False), False))
            scenarios.append(
                Scenario("floor-stateless", conc, floor_runs(floor_stateless, conc), False)
            )
    if gate:
        for variant in ("off", "rules"):
            for conc in concurrencies:
                scenarios.append(
                    Scenario(f"ours-gate-{variant}", conc, ours(conc, gate=variant), target=False)
                )
    if reasoning:
        for conc in concurrencies:
            for name, store in (("ours-reasoning", True), ("ours-reasoning-stateless", False)):
                run = ours(conc, reasoning=True, store=store)
                scenarios.append(Scenario(name, conc, run, target=False))
    if with_agents:
        agent_runs = _agents_runs(clients.async_(), floor.base["instructions"], floor)
        for conc in concurrencies:
            scenarios.append(Scenario("agents", conc, agent_runs(loop, conc, False)))
            if extras:
                scenarios.append(
                    Scenario("agents-chained", conc, agent_runs(loop, conc, True), target=False)
                )
    return scenarios


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> None:
    loop.run_until_complete(coro)


def _agents_runs(
    aio: openai.AsyncOpenAI, instructions: str, floor: FloorLoop
) -> Callable[[asyncio.AbstractEventLoop, int, bool], Callable[[int, int], None]]:
    """Build the Agents SDK agent; return a factory of batch runners."""
    import agents

    agents.set_tracing_disabled(True)  # it would otherwise export traces to the internet
    agent: agents.Agent[Any] = agents.Agent(
        name="bench",
        instructions=instructions,
        tools=[agents.function_tool(lookup_order)],
        model=agents.OpenAIResponsesModel(model=MODEL, openai_client=aio),
    )

    def factory(
        loop: asyncio.AbstractEventLoop, conc: int, chained: bool
    ) -> Callable[[int, int], None]:
        async def one(i: int) -> None:
            result = await agents.Runner.run(
                agent,
                floor.first_input(order_id_for(i)),
                auto_previous_response_id=chained,
            )
            calls = sum(isinstance(x, agents.ToolCallOutputItem) for x in result.new_items)
            _check(bool(result.final_output) and calls == TOOL_ROUNDS, "agents", calls)

        return lambda start, n: _run_on(loop, _gather_limited(n, start, conc, one))

    return factory


# -- measurement ----------------------------------------------------------------------------


def measure(
    scenario: Scenario, server: ServerProcess, start: int, n: int, *, name: str | None = None
) -> Measurement:
    """Run ``n`` triggers of a scenario; client CPU, wall time and the server's byte count."""
    server.reset()
    gc.collect()
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    scenario.run_batch(start, n)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    stats = server.stats()
    if stats["errors"]:
        raise BenchmarkFailure(f"{scenario.name}: the server answered {stats['errors']} errors")
    if stats["requests"] != n * REQUESTS_PER_TRIGGER:
        raise BenchmarkFailure(
            f"{scenario.name}: {stats['requests']} requests for {n} triggers "
            f"(expected {n * REQUESTS_PER_TRIGGER})"
        )
    return Measurement(
        scenario=name or scenario.name,
        concurrency=scenario.concurrency,
        triggers=n,
        cpu_s=cpu,
        wall_s=wall,
        requests=stats["requests"],
        request_bytes=stats["request_bytes"],
        chained=stats["chained"],
        resent=stats["resent"],
    )


def run_benchmark(
    server: ServerProcess,
    *,
    triggers_c1: int,
    triggers_c32: int,
    reps: int,
    warmup: int,
    with_agents: bool = True,
    extras: bool = False,
    gate: bool = False,
    stateless: bool = True,
    reasoning: bool = False,
    concurrencies: Sequence[int] = (1, 32),
    log: Callable[[str], None] = print,
) -> Report:
    """Warm up every scenario, then measure ``reps`` interleaved repetitions of each."""
    loop = asyncio.new_event_loop()
    clients = Clients(server.base_url)
    try:
        scenarios = build_scenarios(
            clients,
            loop,
            concurrencies=concurrencies,
            with_agents=with_agents,
            extras=extras,
            gate=gate,
            stateless=stateless,
            reasoning=reasoning,
        )
        next_id = 1
        for sc in scenarios:
            n = max(warmup, sc.concurrency) if warmup else 0
            if n:
                measure(sc, server, next_id, n)
                next_id += n
        report = Report()
        for rep in range(reps):
            for sc in scenarios:
                n = triggers_c1 if sc.concurrency == 1 else triggers_c32
                m = measure(sc, server, next_id, n)
                next_id += n
                report.add(m)
                log(
                    f"  rep {rep + 1}/{reps}  {sc.name:<15} c={sc.concurrency:<3} "
                    f"{m.cpu_us_per_tool_round:9.0f} µs/round  {m.wall_s:6.2f} s"
                )
        return report
    finally:
        try:
            clients.close(loop)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _agents_available() -> bool:
    try:
        import agents  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--triggers",
        type=int,
        default=None,
        help="triggers per measured repetition (default: 200 at c=1, 640 at c=32)",
    )
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions (best kept)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up triggers per scenario")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--no-agents", action="store_true", help="skip the Agents SDK")
    parser.add_argument(
        "--extras", action="store_true", help="also measure agents with auto_previous_response_id"
    )
    parser.add_argument(
        "--gate", action="store_true", help="also measure the gate's overhead (off vs 100 rules)"
    )
    parser.add_argument(
        "--reasoning",
        action="store_true",
        help="also a reasoning model (reasoning items), chained and stateless",
    )
    parser.add_argument("--no-stateless", action="store_true", help="skip stateless mode")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    if args.quick:
        n1, n32, reps, warmup = 10, 64, 1, 4
    else:
        n1, n32, reps, warmup = 200, 640, args.reps, 20
    if args.triggers is not None:
        n1 = n32 = args.triggers
    if args.warmup is not None:
        warmup = args.warmup
    with_agents = not args.no_agents and _agents_available()

    console = Console() if sys.stdout.isatty() else Console(width=160)  # whole rows in a log
    info = versions()
    console.print("runner_overhead: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    console.print(
        f"triggers: {n1} at c=1, {n32} at c=32, {TOOL_ROUNDS} tool rounds each; "
        f"best of {reps} interleaved repetitions; warm-up {warmup}"
    )
    if not with_agents:
        console.print(
            "the Agents SDK is not measured (--no-agents, or openai-agents is not installed)"
        )
    try:
        with ServerProcess(max_lifetime=3600) as server:
            report = run_benchmark(
                server,
                triggers_c1=n1,
                triggers_c32=n32,
                reps=reps,
                warmup=warmup,
                with_agents=with_agents,
                extras=args.extras,
                gate=args.gate,
                stateless=not args.no_stateless,
                reasoning=args.reasoning,
                log=console.print,
            )
    except BenchmarkFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    console.print()
    console.print(result_table(report))
    console.print(
        "chained/resent: requests sent with previous_response_id / later rounds resending the "
        "whole history (the Agents SDK by default, and stateless mode). vs floor: against the "
        "floor of the same mode (floor-stateless for -stateless rows). bytes vs chained: "
        "against the same scenario chained."
    )
    if args.reasoning:
        console.print(f"reasoning items carry {REASONING_BYTES} bytes of encrypted_content each.")
    console.print()
    for name, ok, detail in judge(report):
        tag = ("PASS" if ok else "no") if "stretch" in name else ("PASS" if ok else "MISS")
        console.print(f"{tag:<5} {name:<48} {detail}", highlight=False)
    if args.json is not None:
        payload = {
            "versions": info,
            "runs": [
                {**asdict(m), "cpu_us_per_tool_round": m.cpu_us_per_tool_round}
                for m in report.all_runs
            ],
            "verdicts": [{"target": n, "pass": ok, "detail": d} for n, ok, d in report.verdicts],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
