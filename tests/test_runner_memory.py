"""The runner with memory: recall before the data, capture of runs and outcomes, and policy
history that persists across bots and restarts."""

from __future__ import annotations

from pathlib import Path

from openai_trigger_bot import (
    Bot,
    HashingEmbedder,
    MemoryManager,
    MemoryRequest,
    SQLiteMemoryStore,
    action,
)
from openai_trigger_bot.governance import LocalRulesEvaluator
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[str] = []


@action(target_from_args="service", secret=["token"])
def restart(service: str, token: str) -> str:
    """Restart a service.

    Args:
        service: The service.
        token: Deploy token.
    """
    ran.append(service)
    return "restarted"


POLICY = """
policy: restarts
version: "1"
default: {recommendation: do_not_proceed}
rules:
  - id: restart-ok
    actions: [restart]
    decision: proceed
  - id: restart-flapping
    actions: [restart]
    when: 'history.executed >= 2'
    history: {window: 1h, per_target: true}
    decision: {recommendation: do_not_proceed, reason: restarted twice within the hour}
"""


def _bot(memory: MemoryManager, scripted: ScriptedResponses, policy_dir: Path | None = None) -> Bot:
    bot = Bot(name="ops", client=scripted.client(), memory=memory, policy=policy_dir)
    bot.register_actions(restart)

    @bot.trigger(
        "on-alert",
        prompt="Handle the alert.",
        default_action=restart,
        memory_request=MemoryRequest(scopes=("global", "service:api"), query="api restarts"),
    )
    def on_alert(alert: str) -> dict[str, str]:
        return {"alert": alert}

    return bot


def _restart_once() -> ScriptedResponses:
    return ScriptedResponses(
        [
            [function_call("restart", {"service": "api", "token": "tok-SECRET-99"})],
            [message("done")],
        ]
    )


def test_memories_are_recalled_before_the_data_as_user_content(tmp_path: Path) -> None:
    memory = MemoryManager(store=SQLiteMemoryStore(tmp_path / "m.db"), embedder=HashingEmbedder())
    memory.remember("The api service restarts slowly on Mondays.", scope="service:api")
    memory.remember("A note for another service.", scope="service:db")
    scripted = ScriptedResponses([[message("nothing to do")]])
    bot = _bot(memory, scripted)
    bot.run(bot.triggers["on-alert"]("api latency high"))
    first = scripted.requests[0]["input"]
    assert [item["role"] for item in first] == ["user", "user"]
    assert "restarts slowly on Mondays" in first[0]["content"]
    assert "another service" not in first[0]["content"]  # other scopes never leak in
    assert first[-1]["content"].startswith("Trigger data:")
    # instructions (the cached prefix) do not change with memories
    assert "Mondays" not in scripted.requests[0]["instructions"]
    memory.close()


def test_runs_and_outcomes_are_captured_without_secrets(tmp_path: Path) -> None:
    ran.clear()
    memory = MemoryManager(store=SQLiteMemoryStore(tmp_path / "m.db"), embedder=HashingEmbedder())
    bot = _bot(memory, _restart_once())
    result = bot.run(bot.triggers["on-alert"]("api down"))
    assert result.status == "completed" and ran == ["api"]
    block = memory.recall(MemoryRequest(scopes=("service:api",), recent_limit=10), query="api")
    assert block is not None
    assert "restart on api: executed" in block
    assert "Run of trigger on-alert: completed" in block
    assert "tok-SECRET-99" not in block
    memory.close()


def test_policy_history_persists_across_bots_and_restarts(tmp_path: Path) -> None:
    ran.clear()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "restarts.yaml").write_text(POLICY)
    db = tmp_path / "memory.db"
    statuses = []
    for _ in range(3):  # three separate bots (think: three processes) on one memory file
        memory = MemoryManager(store=SQLiteMemoryStore(db), embedder=HashingEmbedder())
        bot = _bot(memory, _restart_once(), policy_dir=policies)
        assert isinstance(bot.governance.evaluator, LocalRulesEvaluator)  # type: ignore[union-attr]
        statuses.append(bot.run(bot.triggers["on-alert"]("api down")).events[0].status)
        memory.close()
    assert statuses == ["executed", "executed", "blocked"]
    assert ran == ["api", "api"]
