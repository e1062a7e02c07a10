"""The cost bound of ``when:`` conditions (issue 8, item 6).

A costly CEL condition must not hold the run: what can be refused statically is a load error
with file and line; at run time a condition over its budget is a decision failure
(``over_budget``) that blocks the call unless ``fail_modes`` names the kind. No test here
measures time: the step budget is deterministic and the time part runs on an injected clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_trigger_bot import Bot, BotSettings, PolicyError, action
from openai_trigger_bot.cli import main
from openai_trigger_bot.governance import LocalRulesEvaluator, PolicyLoadError
from openai_trigger_bot.governance.errors import ConditionBudgetError, RuleEvaluationError
from openai_trigger_bot.governance.rules import ConditionBudget, compile_condition
from openai_trigger_bot.governance.rules import cel as cel_module
from openai_trigger_bot.governance.rules._cel_scan import Scan, scan
from openai_trigger_bot.governance.rules.cel import ConditionError
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

from ._helpers import proposal

# The issue's repro: nested comprehensions over the proposal's data. 300 items cost ~45M
# element copies unbounded (seconds; a few thousand items kept a run going for minutes).
NESTED = "args.items.map(x, args.items.map(y, x * y)).size() > 0"

HEADER = """
policy: bulk
version: "1"
default: {recommendation: proceed, reason: nothing matched}
rules:
"""


def rule(when: str, decision: str = "do_not_proceed", rule_id: str = "costly") -> str:
    return (
        f"  - id: {rule_id}\n    actions: [tag_all]\n    when: '{when}'\n    decision: {decision}\n"
    )


def engine(*rules: str, **kwargs: Any) -> LocalRulesEvaluator:
    return LocalRulesEvaluator.from_yaml_string(HEADER + "".join(rules), **kwargs)


class Ticker:
    """A clock that moves ``tick`` seconds each time it is read."""

    def __init__(self, tick: float) -> None:
        self.now = 0.0
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


# --- at load: refused with file and line -------------------------------------------------

THREE_DEEP = """policy: deep
version: "1"
default: {recommendation: proceed}
rules:
  - id: deep
    actions: [tag_all]
    when: |
      args.groups.exists(g,
        g.items.exists(i,
          i.tags.exists(t, t == "x")))
    decision: do_not_proceed
"""

BIG_LITERAL = """policy: big
version: "1"
default: {recommendation: proceed}
rules:
  - id: ok
    actions: [tag_all]
    when: '[1, 2, 3].exists(x, x == 2)'
    decision: proceed
  - id: big
    actions: [tag_all]
    when: '[ITEMS].map(x, x * 2).size() > 0'
    decision: do_not_proceed
""".replace("ITEMS", ", ".join(str(i) for i in range(600)))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (THREE_DEEP, 10, "nests comprehensions 3 deep"),
        (BIG_LITERAL, 11, "would take at least 180,300 steps"),
    ],
    ids=["nesting", "literal-cost"],
)
def test_a_costly_condition_is_refused_at_load_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, words: str
) -> None:
    path = tmp_path / "costly.yaml"
    path.write_text(text)
    where = f"{path}:{line}"
    with pytest.raises(PolicyLoadError) as info:
        LocalRulesEvaluator.from_directory(tmp_path)
    assert (info.value.path, info.value.line) == (str(path), line)
    assert words in str(info.value) and where in str(info.value)
    with pytest.raises(PolicyError) as bot_info:
        Bot(name="b", client=ScriptedResponses([]).client(), policy=tmp_path)
    assert where in str(bot_info.value)
    assert main(["policy", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert where in out and words in out


def test_two_levels_and_short_literals_load() -> None:
    evaluator = engine(
        rule("args.groups.exists(g, g.items.all(i, i > 0)) && [1, 2].exists(x, x == 2)")
    )
    groups = [{"items": [1, 2]}, {"items": [3]}]
    assert evaluator.evaluate(proposal("tag_all", {"groups": groups})).matched_rules == ("costly",)


# --- at run time: a decision failure -----------------------------------------------------


def test_an_over_budget_condition_is_a_decision_failure_with_its_rule() -> None:
    evaluator = engine(rule("args.items.map(x, x * 2).size() > 0"))
    with pytest.raises(ConditionBudgetError) as info:
        evaluator.evaluate(proposal("tag_all", {"items": list(range(1_000))}))
    error = info.value
    assert isinstance(error, RuleEvaluationError)
    assert error.failure == "over_budget"
    assert (error.rule_id, error.path, error.line) == ("costly", "<string>", 6)
    assert "over budget (more than 100,000 steps" in str(error)
    # A short list in the same condition is decided as usual.
    assert evaluator.evaluate(proposal("tag_all", {"items": [1, 2]})).matched_rules == ("costly",)


def test_the_issue_repro_stops_at_the_budget() -> None:
    evaluator = engine(rule(NESTED))
    with pytest.raises(ConditionBudgetError):
        evaluator.evaluate(proposal("tag_all", {"items": list(range(300))}))


def test_the_step_budget_is_configurable_and_deterministic() -> None:
    evaluator = engine(rule("args.items.exists(x, x < 0)"), budget=ConditionBudget(steps=50))
    assert evaluator.evaluate(proposal("tag_all", {"items": list(range(50))})).matched_rules == ()
    with pytest.raises(ConditionBudgetError, match="more than 50 steps"):
        evaluator.evaluate(proposal("tag_all", {"items": list(range(51))}))


@pytest.mark.parametrize(
    "when",
    [
        "args.items.exists(x, x < 0) || true",
        "args.items.all(x, x >= 0) && false",
        "true || args.items.map(x, x).size() > 0",
    ],
)
def test_an_error_cel_absorbs_is_still_over_budget(when: str) -> None:
    """CEL's ``||`` and ``&&`` swallow errors (``error || true`` is ``true``): the stop of an
    over-budget evaluation must not turn into a match or a miss."""
    evaluator = engine(rule(when), budget=ConditionBudget(steps=10))
    if when.startswith("true ||"):  # short-circuits before the loop: nothing was spent
        assert evaluator.evaluate(proposal("tag_all", {"items": list(range(100))})).matched_rules
        return
    with pytest.raises(ConditionBudgetError):
        evaluator.evaluate(proposal("tag_all", {"items": list(range(100))}))


def test_the_time_budget_stops_a_condition_on_an_injected_clock() -> None:
    budget = ConditionBudget(steps=10**9, seconds=0.25, clock=Ticker(0.01))
    evaluator = engine(rule("args.items.exists(x, x < 0)"), budget=budget)
    with pytest.raises(ConditionBudgetError, match=r"ran for more than 0\.25 s"):
        evaluator.evaluate(proposal("tag_all", {"items": list(range(1_000))}))
    assert evaluator.evaluate(proposal("tag_all", {"items": list(range(10))})).matched_rules == ()


def test_the_time_budget_is_shared_by_the_conditions_of_one_decision() -> None:
    """Many costly rules cannot add up past the budget: the time is per decision."""
    first = rule("args.a.exists(x, x < 0)", "proceed", "first")
    second = rule("args.b.exists(x, x < 0)", "proceed", "second")

    def evaluator() -> LocalRulesEvaluator:
        return engine(first, second, budget=ConditionBudget(seconds=0.25, clock=Ticker(0.1)))

    assert evaluator().evaluate(proposal("tag_all", {"a": [1], "b": []})).matched_rules == ()
    assert evaluator().evaluate(proposal("tag_all", {"a": [], "b": [1]})).matched_rules == ()
    with pytest.raises(ConditionBudgetError, match="ran for more than") as info:
        evaluator().evaluate(proposal("tag_all", {"a": [1], "b": [1]}))
    assert info.value.rule_id == "second"


def test_explain_reports_the_over_budget_rule() -> None:
    evaluator = engine(rule("args.items.exists(x, x < 0)"), budget=ConditionBudget(steps=5))
    explanation = evaluator.explain(proposal("tag_all", {"items": list(range(10))}))
    assert explanation.decision is None
    assert explanation.error is not None and "over budget" in explanation.error
    assert [check.error for check in explanation.checks] == [True]


@pytest.mark.parametrize("bad", [0, -1])
def test_a_budget_needs_a_step_and_some_time(bad: int) -> None:
    with pytest.raises(ValueError):
        ConditionBudget(steps=bad)
    with pytest.raises(ValueError):
        ConditionBudget(seconds=bad)


# --- in a bot run: the fail mode applies, the run ends -----------------------------------

ran: list[int] = []


@action
def tag_all(items: list[int]) -> str:
    """Tag every item.

    Args:
        items: Item ids.
    """
    ran.append(len(items))
    return "tagged"


def run_bot(**bot_kwargs: Any) -> Any:
    ran.clear()
    scripted = ScriptedResponses(
        [[function_call("tag_all", {"items": list(range(300))})], [message("done")]]
    )
    bot = Bot(
        name="bulk",
        client=scripted.client(),
        settings=BotSettings(timeout_s=3),
        policy=engine(rule(NESTED)),
        **bot_kwargs,
    )
    bot.register_actions(tag_all)

    @bot.trigger("t", prompt="p", hidden_actions=[tag_all])
    def t() -> dict[str, str]:
        return {}

    return bot.run(bot.triggers["t"]())


def test_a_run_with_the_issue_repro_returns_and_fails_closed() -> None:
    result = run_bot()
    assert result.status == "completed"
    event = result.events[0]
    assert (event.status, event.failure, event.decision) == ("blocked", "over_budget", None)
    assert "over budget" in (event.error or "")
    assert ran == []


def test_plain_fail_open_still_blocks_an_over_budget_call() -> None:
    # The model sets the cost (the length of its lists): fail_mode="open" covers outages only,
    # or padding a list would switch off any deny rule.
    result = run_bot(fail_mode="open")
    event = result.events[0]
    assert (event.status, event.failure, event.decision) == ("blocked", "over_budget", None)
    assert ran == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fail_modes": {"over_budget": "open"}},
        {"fail_mode": "open", "fail_modes": {"over_budget": "open"}},
    ],
    ids=str,
)
def test_naming_over_budget_in_fail_modes_executes_the_call_and_marks_it(
    kwargs: dict[str, Any],
) -> None:
    result = run_bot(**kwargs)
    event = result.events[0]
    assert (event.status, event.failure) == ("executed", "over_budget")
    assert ran == [300]


# --- the instrumented condition means what the original means ----------------------------

EQUIVALENT = [
    "args.items.exists(x, x > 2)",
    "args.items.all(x, x >= 0) && args.items.size() < 50",
    "args.items.exists_one(x, x == 3)",
    "args.items.existsOne(x, x == 3)",
    "args.items.map(x, x * 2).exists(y, y > 10)",
    "args.items.filter(x, x % 2 == 0).size() >= 1",
    "args.items.map(x, x > 1, x + 1) == args.items.filter(x, x > 1).map(x, x + 1)",
    "args.items.map(x, args.items.filter(y, y < x).size()).exists(n, n > 2)",
    "args.names.exists(n, n.startsWith(\"a,b\") || n == 'x.map(y, y)')",
    'args.names.map(n, n + ")").exists(n, n.endsWith("))"))',
    "args.names.all(n, n != r\"\\)\" && n != '''.map(x, ''')",
    "args.names.exists(n, n.contains(b'(' == b'(' ? \"(\" : \")\"))",
    "args.tags.exists(k, k == 'b' && args.tags[k] > 1)",
    "{'a': 1, 'b': 2}.all(k, k in args.tags) || [1, 2, 3].map(x, x)[2] == 3",
    "args.items.exists(x, x == 1) || args.missing",
    "args.missing || args.items.exists(x, x == 1)",
    "args.items.all(x, x < 0 && args.missing)",
    "args.items.exists(x, args.missing.exists(y, y == x))",
    "args.items.map(x, x / (x - 2)).size() > 0",
    "args.items.exists(x, // a comment (with a paren\n  x == 4)",
    "has(args.items) && args.items.map(x, [x, x]).exists(p, p[0] == p[1] && p[0] > 3)",
]


def original(source: str, variables: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", cel.compile(source).execute(cel.Context(variables=variables))
    except Exception as exc:
        return "error", (type(exc).__name__, str(exc))


def instrumented(source: str, variables: dict[str, Any]) -> tuple[str, Any]:
    condition = compile_condition(source)
    assert condition.loops, "every expression here has a comprehension"
    assert condition.program.references()["functions"].count("_budget_step") == 1
    try:
        return "value", condition.execute(variables, budget=ConditionBudget(steps=10**9))
    except ConditionBudgetError:
        raise
    except Exception as exc:
        return "error", (type(exc).__name__, str(exc))


@pytest.mark.parametrize("source", EQUIVALENT)
@settings(deadline=None, max_examples=40, derandomize=True)
@given(
    items=st.lists(st.integers(-5, 10), max_size=12),
    names=st.lists(st.sampled_from(["a", "b", "a,b", ")", "x.map(y, y)", "))", "("]), max_size=5),
    tags=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3),
)
def test_the_instrumented_condition_gives_the_same_result(
    source: str, items: list[int], names: list[str], tags: dict[str, int]
) -> None:
    variables = {"args": {"items": items, "names": names, "tags": tags}}
    assert instrumented(source, variables) == original(source, variables)


@pytest.mark.parametrize(
    "source",
    [
        '"x.map(y, y)" == "x.map(y, y)"',
        "r'.exists(a, b)' == '.exists(a, b)'",
        "'''\n.all(x,\n''' != \"\" // .filter(x, x)",
        "args.map == 1",
        "value > 1.5e3 && value < 2.0",
    ],
)
def test_no_comprehension_no_counter(source: str) -> None:
    """Text that only looks like a comprehension (strings, comments, a field) is left as is."""
    condition = compile_condition(source)
    assert condition.loops == ()
    assert scan(source).instrumented == source


def test_a_condition_may_not_call_the_counter_itself() -> None:
    with pytest.raises(ConditionError, match="may not call `_budget_step`"):
        compile_condition("[1].exists(x, _budget_step(0))")


@pytest.mark.parametrize(
    "wrong",
    [
        # The scanner took code for a string literal: a comprehension would run uncounted.
        lambda found: Scan(found.comprehensions, found.instrumented, ('"a" + [1].map(x, x)',)),
        lambda found: Scan(found.comprehensions, found.instrumented, stray_quote=True),
        # Its rewrite does not compile, or changes what the condition refers to.
        lambda found: Scan(found.comprehensions, found.instrumented + ")"),
        lambda found: Scan(found.comprehensions, found.instrumented.replace("x > 1", "y > 1")),
    ],
    ids=["literal", "stray-quote", "no-compile", "other-references"],
)
def test_a_scan_that_disagrees_with_cel_is_refused_never_run_unbounded(
    monkeypatch: pytest.MonkeyPatch, wrong: Any
) -> None:
    monkeypatch.setattr(cel_module, "scan", lambda source: wrong(scan(source)))
    with pytest.raises(ConditionError, match="could not be given a cost bound"):
        compile_condition("args.items.exists(x, x > 1)")


def test_the_shipped_policies_have_no_uncounted_comprehension() -> None:
    """Every shipped condition compiles to a program that is bounded: comprehensions counted."""
    evaluator = LocalRulesEvaluator.from_directory(Path(__file__).resolve().parents[2] / "policies")
    for item in evaluator.rules:
        if item.condition is None:
            continue
        functions = item.condition.program.references()["functions"]
        assert ("_budget_step" in functions) == bool(item.condition.loops), item.id
