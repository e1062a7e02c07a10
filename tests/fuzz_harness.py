"""A hostile-model harness: random tool calls against a governed bot, and an independent oracle.

Shared by ``tests/test_governance_property.py`` (a few hundred cases in CI) and
``benchmarks/governance_fuzz.py`` (10,000+ cases, printing the count of forbidden executions).

The bot offers ``transfer`` (global) and ``note`` (hidden, allowed for the trigger); ``wipe``
is registered but never allowed. The policy blocks transfers over 100 and wants approval over
50. The oracle re-checks every execution that actually happened, from the arguments the action
received, without asking the library: a name outside the allowed pair, a transfer over 50, a
destination outside the two accounts, or a non-string note is a forbidden execution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.governance import LocalRulesEvaluator
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

POLICY = """
policy: fuzz
version: "1"
default: {recommendation: do_not_proceed}
rules:
  - id: transfer-small
    actions: [transfer]
    decision: proceed
  - id: transfer-review
    actions: [transfer]
    when: 'args.amount > 50'
    decision: review_recommended
  - id: transfer-block
    actions: [transfer]
    when: 'args.amount > 100'
    decision: do_not_proceed
  - id: notes
    actions: [note]
    decision: proceed
"""


@dataclass
class Ledger:
    """Every execution that really happened."""

    executed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def build(ledger: Ledger, scripted: ScriptedResponses, *, governed: bool = True) -> Bot:
    """A governed bot whose actions write to ``ledger``."""

    @action(global_action=True)
    def transfer(amount: int, to: Literal["ops", "billing"]) -> str:
        """Move money between internal accounts.

        Args:
            amount: Whole euros.
            to: The destination account.
        """
        ledger.executed.append(("transfer", {"amount": amount, "to": to}))
        return "moved"

    @action
    def note(text: str) -> str:
        """Write a note.

        Args:
            text: The note.
        """
        ledger.executed.append(("note", {"text": text}))
        return "noted"

    @action
    def wipe(confirm: bool) -> str:
        """Delete everything (never allowed for the trigger)."""
        ledger.executed.append(("wipe", {"confirm": confirm}))
        return "wiped"

    bot = Bot(
        name="fuzz",
        client=scripted.client(),
        settings=BotSettings(max_model_calls=12, max_action_calls=40),
        policy=LocalRulesEvaluator.from_yaml_string(POLICY) if governed else None,
        governed=governed,
    )
    bot.register_actions(transfer, note, wipe)

    @bot.trigger("t", prompt="p", hidden_actions=[note])
    def t() -> dict[str, str]:
        return {}

    return bot


def forbidden(name: str, args: dict[str, Any]) -> bool:
    """The oracle: would this execution break the rules? (independent of the library)."""
    if name == "transfer":
        amount, to = args.get("amount"), args.get("to")
        ok_amount = type(amount) is int and amount <= 50
        return not (ok_amount and to in ("ops", "billing"))
    if name == "note":
        return not isinstance(args.get("text"), str)
    return True  # wipe, or anything else


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)

_raw_arguments = st.one_of(
    st.text(max_size=30),  # not JSON, mostly
    st.just("[" * 3000 + "]" * 3000),  # hostile nesting
    st.just('{"amount": 1e999, "to": "ops"}'),
    st.just('{"amount": NaN, "to": "ops"}'),
    st.just('{"amount": 10, "to": "ops", "to": "treasury"}'),  # duplicate key
    _json_values.map(json.dumps),
)

_amounts = st.one_of(
    st.integers(-(10**12), 10**12),
    st.integers(40, 120),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
_accounts = st.one_of(
    st.sampled_from(["ops", "billing", "treasury", "OPS", ""]), st.text(max_size=5)
)


@st.composite
def _call(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["transfer", "transfer", "note", "wipe", "random", "raw"]))
    if kind == "transfer":
        args: dict[str, Any] = {"amount": draw(_amounts), "to": draw(_accounts)}
        if draw(st.booleans()) and draw(st.booleans()):
            args["extra"] = draw(_json_values)
        return function_call("transfer", args)
    if kind == "note":
        return function_call("note", {"text": draw(st.one_of(st.text(max_size=20), _json_values))})
    if kind == "wipe":
        return function_call("wipe", {"confirm": draw(st.booleans())})
    if kind == "random":
        name = draw(st.one_of(st.text(max_size=12), st.sampled_from(["Transfer", "note ", "wipe"])))
        return function_call(name, draw(_raw_arguments))
    name = draw(st.sampled_from(["transfer", "note", "wipe"]))
    return function_call(name, draw(_raw_arguments))


scripts = st.lists(st.lists(_call(), min_size=1, max_size=4), min_size=1, max_size=4)
"""A model's whole run: 1-4 responses of 1-4 tool calls each (a final message is appended)."""


@dataclass(frozen=True)
class CaseResult:
    """One fuzz case: what ran, and which of those executions the oracle forbids."""

    proposed: int
    executed: int
    forbidden: int
    status: str


def run_case(script: list[list[dict[str, Any]]], *, governed: bool = True) -> CaseResult:
    """Run one script against a fresh governed bot and check every execution.

    ``governed=False`` turns the gate off: the oracle must then find forbidden executions
    (this is how the tests show the oracle can fail).
    """
    ledger = Ledger()
    steps: list[Any] = [list(r) for r in script] + [[message("done")]]
    bot = build(ledger, ScriptedResponses(steps), governed=governed)
    result = bot.run(bot.triggers["t"]())
    bad = sum(1 for name, args in ledger.executed if forbidden(name, args))
    executed_events = sum(1 for e in result.events if e.status in ("executed", "tool_error"))
    if executed_events != len(ledger.executed):
        bad += abs(executed_events - len(ledger.executed))  # an execution the record misses
    return CaseResult(
        proposed=sum(len(r) for r in script),
        executed=len(ledger.executed),
        forbidden=bad,
        status=result.status,
    )
