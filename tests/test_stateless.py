"""Stateless mode, ``BotSettings(store=False)``, for organisations with zero data retention.

Every round resends the run so far instead of chaining: no request names a previous response,
every request says ``store: false`` and asks for ``reasoning.encrypted_content``, and reasoning
items come back before the calls they preceded. The strict scripted API refuses a request that
chains from an unstored response or drops a reasoning item, so each scenario below passing in
both modes, with the same records, shows stateless mode gives the same results.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from openai_trigger_bot import (
    Bot,
    BotSettings,
    ConfigurationError,
    GovernedClient,
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    RunResult,
    SQLiteMemoryStore,
    action,
)
from openai_trigger_bot.governance import Decision, LocalRulesEvaluator, ProposedAction
from openai_trigger_bot.testing import ScriptedResponses, function_call, message, reasoning

ENCRYPTED = "reasoning.encrypted_content"
ran: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


@action(value_from_args="order_id")
def lookup(order_id: str) -> dict[str, str]:
    """Look an order up.

    Args:
        order_id: The order id.
    """
    ran.append(("lookup", {"order_id": order_id}))
    return {"order_id": order_id, "status": "shipped"}


@action(value_from_args="amount", target_from_args="order_id")
def refund(order_id: str, amount: float) -> str:
    """Refund an order.

    Args:
        order_id: The order id.
        amount: Amount in EUR.
    """
    ran.append(("refund", {"order_id": order_id, "amount": amount}))
    return "refunded"


@action
def restart(cluster: str) -> str:
    """Restart a cluster.

    Args:
        cluster: The cluster.
    """
    ran.append(("restart", {"cluster": cluster}))
    return "restarted"


POLICY = """
policy: desk
version: "1"
default: {recommendation: do_not_proceed}
rules:
  - id: lookups
    actions: [lookup]
    decision: proceed
  - id: small-refunds
    actions: [refund]
    decision: proceed
  - id: large-refunds
    actions: [refund]
    when: 'value > 100'
    decision: {recommendation: do_not_proceed, reason: too large}
  - id: restarts
    actions: [restart]
    decision: {recommendation: review_recommended, reason: needs a human}
"""


def _call(name: str, call_id: str, **args: Any) -> dict[str, Any]:
    return function_call(name, args, call_id=call_id)


# Each scenario: a script factory (fresh item ids per run, fixed call ids) and bot options.
Script = Callable[[], list[Any]]
SCENARIOS: dict[str, tuple[Script, dict[str, Any]]] = {
    "multi-round tool calls": (
        lambda: [
            [_call("lookup", "c1", order_id="A-1")],
            [_call("lookup", "c2", order_id="A-2")],
            [_call("lookup", "c3", order_id="A-3")],
            [message("All looked up.")],
        ],
        {},
    ),
    "reasoning items and commentary": (
        lambda: [
            [
                reasoning(),
                message("Checking.", phase="commentary"),
                _call("lookup", "c1", order_id="A-1"),
            ],
            [reasoning("second thoughts"), _call("refund", "c2", order_id="A-1", amount=5)],
            [reasoning(), message("Refunded.")],
        ],
        {},
    ),
    "parallel calls": (
        lambda: [
            [
                reasoning(),
                _call("lookup", "c1", order_id="A-1"),
                _call("lookup", "c2", order_id="A-2"),
                _call("refund", "c3", order_id="A-2", amount=7.5),
            ],
            [reasoning(), _call("lookup", "c4", order_id="A-3")],
            [message("Done.")],
        ],
        {},
    ),
    "invalid calls": (
        lambda: [
            [
                reasoning(),
                _call("no_such_tool", "c1"),
                function_call("lookup", "{not json", call_id="c2"),
                _call("refund", "c3", order_id="A-1", amount="lots"),
                _call("lookup", "c4", order_id="A-1"),
            ],
            [reasoning(), _call("refund", "c5", order_id="A-1", amount=3)],
            [message("Fixed.")],
        ],
        {},
    ),
    "governance blocks a call": (
        lambda: [
            [
                reasoning(),
                _call("refund", "c1", order_id="A-1", amount=500),
                _call("refund", "c2", order_id="A-2", amount=10),
            ],
            [reasoning(), message("One refund was blocked.")],
        ],
        {},
    ),
    "governance approval_required": (
        lambda: [
            [reasoning(), _call("lookup", "c1", order_id="A-1")],
            [
                reasoning(),
                _call("restart", "c2", cluster="eu"),
                _call("lookup", "c3", order_id="A-2"),
            ],
            [message("unused")],
        ],
        {},
    ),
    "governance approval granted": (
        lambda: [
            [reasoning(), _call("restart", "c1", cluster="eu")],
            [reasoning(), _call("lookup", "c2", order_id="A-1")],
            [message("Restarted and checked.")],
        ],
        {"approval_handler": lambda proposal, decision: True},
    ),
    "action budget": (
        lambda: [
            [
                reasoning(),
                _call("lookup", "c1", order_id="A-1"),
                _call("lookup", "c2", order_id="A-2"),
            ],
            [message("unused")],
        ],
        {"max_action_calls": 1},
    ),
}


def make_bot(scripted: ScriptedResponses, *, store: bool, **options: Any) -> Bot:
    budget = options.pop("max_action_calls", 16)
    bot = Bot(
        name="desk",
        client=scripted.client(),
        settings=BotSettings(system_prompt="Order desk.", store=store, max_action_calls=budget),
        policy=LocalRulesEvaluator.from_yaml_string(POLICY),
        **options,
    )
    bot.register_actions(lookup, refund, restart)

    @bot.trigger("orders", prompt="Handle the order.", hidden_actions=[lookup, refund, restart])
    def orders(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    return bot


def record(result: RunResult) -> dict[str, Any]:
    """What a run did, without what differs by design (ids, timings, token counts)."""
    return {
        "status": result.status,
        "text": result.text,
        "error": result.error,
        "model_calls": [
            (m.round, m.tool_calls, m.text, m.commentary, m.status, m.error)
            for m in result.model_calls
        ],
        "action_calls": [
            (a.name, a.call_id, a.arguments, a.ok, a.output, a.error) for a in result.action_calls
        ],
        "events": [
            (
                e.tool,
                e.call_id,
                e.status,
                e.arguments,
                e.output,
                e.error,
                e.message_to_model,
                e.failure,
                e.decision.recommendation if e.decision else None,
            )
            for e in result.events
        ],
    }


def run(name: str, *, store: bool) -> tuple[RunResult, ScriptedResponses, list[Any]]:
    """Run scenario ``name`` in one mode; the result, the scripted API and what ran."""
    script, options = SCENARIOS[name]
    scripted = ScriptedResponses(script())
    ran.clear()
    bot = make_bot(scripted, store=store, **dict(options))
    result = bot.run(bot.triggers["orders"]("A-0"))
    return result, scripted, list(ran)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stateless_gives_the_same_results_as_chained(name: str) -> None:
    chained, chained_api, chained_ran = run(name, store=True)
    stateless, api, stateless_ran = run(name, store=False)
    assert chained.status != "error", chained.error  # the strict API accepted every request
    assert record(stateless) == record(chained)
    assert stateless_ran == chained_ran
    assert len(api.requests) == len(chained_api.requests)
    for i, body in enumerate(api.requests):
        assert "previous_response_id" not in body
        assert body["store"] is False and ENCRYPTED in body["include"]
        # the same instructions and tools every round, as in chained mode
        assert body["instructions"] == chained_api.requests[i]["instructions"]
        assert body["tools"] == chained_api.requests[i]["tools"]
    assert all(m.previous_response_id is None for m in stateless.model_calls)
    for later in chained_api.requests[1:]:  # the chained run did chain
        assert later["store"] is True and later["previous_response_id"]


def test_each_round_resends_the_run_so_far_with_reasoning_items() -> None:
    result, api, _ = run("reasoning items and commentary", store=False)
    assert result.status == "completed"
    first, second, third = (body["input"] for body in api.requests)
    assert len(first) == 1 and first[0]["role"] == "user"
    # round 2: the first input, round 1's output items as returned, then the tool output
    rs, commentary, call, out = second[1:]
    assert rs["type"] == "reasoning" and rs["encrypted_content"]
    assert commentary["type"] == "message" and commentary["phase"] == "commentary"
    assert call["type"] == "function_call" and call["call_id"] == "c1"
    assert out == {
        "type": "function_call_output",
        "call_id": "c1",
        "output": '{"order_id":"A-1","status":"shipped"}',
    }
    # round 3 starts with everything round 2 sent (append-only), then round 2's items
    assert third[: len(second)] == second
    rs2, call2, out2 = third[len(second) :]
    assert rs2["type"] == "reasoning" and rs2["encrypted_content"] and rs2["id"] != rs["id"]
    assert rs2["summary"] == [{"type": "summary_text", "text": "second thoughts"}]
    assert (call2["call_id"], out2["call_id"]) == ("c2", "c2")


def _capturing_client(scripted: ScriptedResponses, raws: list[bytes]) -> openai.OpenAI:
    def handle(request: httpx2.Request) -> httpx2.Response:
        raws.append(request.content)
        return scripted.handle(request)

    return openai.OpenAI(
        api_key="sk-test",
        base_url=scripted.base_url,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )


def test_request_bytes_only_grow_at_the_end_for_the_prompt_cache() -> None:
    """Each request is the previous one's bytes up to its last item, plus the new items: the
    prefix the prompt cache keys on never changes within a run."""
    script, _ = SCENARIOS["parallel calls"]
    scripted = ScriptedResponses(script())
    raws: list[bytes] = []
    bot = Bot(
        name="desk",
        client=_capturing_client(scripted, raws),
        settings=BotSettings(system_prompt="Order desk.", store=False),
        policy=LocalRulesEvaluator.from_yaml_string(POLICY),
    )
    bot.register_actions(lookup, refund, restart)

    @bot.trigger("orders", prompt="Handle the order.", hidden_actions=[lookup, refund, restart])
    def orders(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    result = bot.run(orders("A-0"))
    assert result.status == "completed" and len(raws) == 3
    for earlier, later in itertools.pairwise(raws):
        assert earlier.endswith(b"]}")
        assert later.startswith(earlier[:-2] + b",")  # same bytes, then more items
    assert [m.request_bytes for m in result.model_calls] == [len(r) for r in raws]
    assert result.model_calls[-1].usage.cached_input_tokens > 0


def test_a_request_that_drops_reasoning_items_is_refused() -> None:
    """A client that drops the reasoning items (as a broken runner would) gets the API's 400:
    the strict fake would catch such a regression in every test above."""
    script, _ = SCENARIOS["reasoning items and commentary"]
    scripted = ScriptedResponses(script())

    def dropping(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        body["input"] = [i for i in body["input"] if i.get("type") != "reasoning"]
        return scripted.handle(httpx2.Request("POST", request.url, json=body))

    client = openai.OpenAI(
        api_key="sk-test",
        base_url=scripted.base_url,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(dropping)),
    )
    bot = Bot(name="desk", client=client, settings=BotSettings(store=False))
    bot.register_actions(lookup, refund)

    @bot.trigger("orders", prompt="Handle the order.", hidden_actions=[lookup, refund])
    def orders(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    result = bot.run(orders("A-0"))
    assert result.status == "error"
    assert result.error is not None and "without its required 'reasoning' item" in result.error
    assert [e.status for e in result.events] == ["executed"]  # round 1 ran; nothing after


def test_recalled_memories_and_instructions_are_resent_every_round(tmp_path: Path) -> None:
    memory = MemoryManager(store=SQLiteMemoryStore(tmp_path / "m.db"), embedder=HashingEmbedder())
    memory.remember("Order A-1 was refunded once already.", scope="orders")
    scripted = ScriptedResponses(
        [[reasoning(), _call("lookup", "c1", order_id="A-1")], [message("done")]]
    )
    bot = Bot(
        name="desk",
        client=scripted.client(),
        settings=BotSettings(system_prompt="Order desk.", store=False),
        memory=memory,
    )
    bot.register_actions(lookup)

    @bot.trigger(
        "orders",
        prompt="Handle the order.",
        default_action=lookup,
        memory_request=MemoryRequest(scopes=("orders",), query="order A-1 refund"),
    )
    def orders(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    result = bot.run(orders("A-1"))
    assert result.status == "completed"
    first, second = scripted.requests
    assert "refunded once already" in first["input"][0]["content"]
    assert second["input"][:2] == first["input"]  # the memory block and the data, unchanged
    assert second["instructions"] == first["instructions"]


def test_governed_client_runs_stateless_too() -> None:
    def steps() -> list[Any]:
        return [
            [reasoning(), _call("issue_refund", "c1", order_id="42", amount=10)],
            [reasoning(), message("Refunded.")],
        ]

    def refund_tool(order_id: str, amount: float) -> str:
        """Refund an order.

        Args:
            order_id: The order.
            amount: Amount in EUR.
        """
        return f"refunded {order_id}"

    def allow(proposal: ProposedAction, decision: Decision) -> bool:
        return True

    results = []
    for store in (True, False):
        scripted = ScriptedResponses(steps())
        settings = BotSettings(store=store)
        with GovernedClient(scripted.client(), settings=settings) as gc:
            gc.tool("issue_refund", refund_tool, value_from_args="amount")
            messages = [{"role": "user", "content": "Refund order 42"}]
            results.append((gc.run(messages=messages, on_approval_required=allow), scripted))
    (chained, _), (stateless, api) = results
    assert stateless.status == "completed" and record(stateless) == record(chained)
    second = api.requests[1]
    assert "previous_response_id" not in second and second["store"] is False
    assert [i.get("type", "message") for i in second["input"]] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]


def test_settings_keep_the_context_keys_for_the_runner() -> None:
    for key, value in (("store", False), ("previous_response_id", "resp_1"), ("conversation", "c")):
        with pytest.raises(ConfigurationError, match=r"BotSettings\.store"):
            BotSettings(extra_body={key: value})
    with pytest.raises(ConfigurationError, match="list of strings"):
        BotSettings(extra_body={"include": "reasoning.encrypted_content"})


def test_include_from_extra_body_is_kept_and_extended() -> None:
    scripted = ScriptedResponses([[message("ok")], [message("ok")]])
    for store in (False, True):
        extra = {"include": ["message.output_text.logprobs"]}
        bot = Bot(
            name="b", client=scripted.client(), settings=BotSettings(store=store, extra_body=extra)
        )
        bot.register_actions(lookup)

        @bot.trigger("t", prompt="p", default_action=lookup)
        def t() -> dict[str, str]:
            return {}

        assert bot.run(t()).status == "completed"
    stateless, chained = scripted.requests
    assert stateless["include"] == ["message.output_text.logprobs", ENCRYPTED]
    assert chained["include"] == ["message.output_text.logprobs"]  # as given: nothing added
