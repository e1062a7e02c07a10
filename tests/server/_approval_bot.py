"""The bot a test server resumes: two risky actions, a scripted model, runs in a file.

The server resumes runs in its own process, so the scripted model and what ran are module
globals that the test reads. :func:`build` makes a bot on a run store file.
"""

from __future__ import annotations

from pathlib import Path

from openai_trigger_bot import Bot, action
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ran: list[str] = []
scripted = ScriptedResponses([])


@action(risk="high")
def restart(cluster: str) -> str:
    """Restart a cluster.

    Args:
        cluster: Cluster name.
    """
    ran.append(f"restart:{cluster}")
    return f"restarted {cluster}"


@action(risk="high", approvals_required=2)
def rotate(service: str) -> str:
    """Rotate a service's credentials (four eyes).

    Args:
        service: Service name.
    """
    ran.append(f"rotate:{service}")
    return "rotated"


def build(store: Path | None) -> Bot:
    """A fresh script (a round of two calls, then an answer) and a bot on ``store``.

    ``None`` keeps the bot's runs in memory.
    """
    global scripted
    ran.clear()
    scripted = ScriptedResponses(
        [
            [
                function_call("restart", {"cluster": "prod"}),
                function_call("rotate", {"service": "billing"}),
            ],
            [message("done")],
        ]
    )
    bot = Bot("ops", client=scripted.client(), run_store=store)

    @bot.trigger("incident", prompt="Handle the incident.", hidden_actions=[restart, rotate])
    def incident() -> dict[str, str]:
        return {"alert": "disk full"}

    return bot
