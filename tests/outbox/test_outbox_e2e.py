"""Outcome reports from a governed bot reach a real `trigger-bot serve` exactly once, also when
the service was down while the bot ran."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import httpx

from openai_trigger_bot import Bot, action
from openai_trigger_bot.governance import Decision
from openai_trigger_bot.governance.outbox import OutcomeOutbox
from openai_trigger_bot.server import create_app, serve_in_thread
from openai_trigger_bot.testing import ScriptedResponses, StaticEvaluator, function_call, message

from ..server.conftest import SHIPPED_POLICIES, TOKEN


@action
def restart(service: str) -> str:
    """Restart a service.

    Args:
        service: The service.
    """
    return "restarted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_reports(base_url: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        response = c.get("/v1/reports", params={"limit": 1000})
        response.raise_for_status()
        return list(response.json()["reports"])


def test_reports_reach_the_server_once_after_it_comes_back(tmp_path: Path) -> None:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    outbox = OutcomeOutbox(
        tmp_path / "outbox.db", url=base_url, token=TOKEN, backoff_initial=0.02, backoff_max=0.1
    )
    scripted = ScriptedResponses(
        [
            [
                function_call("restart", {"service": "a"}),
                function_call("restart", {"service": "b"}),
            ],
            [message("done")],
        ]
    )
    bot = Bot(
        name="ops",
        client=scripted.client(),
        policy=StaticEvaluator(Decision(recommendation="proceed")),
        outbox=outbox,
    )
    bot.register_actions(restart)

    @bot.trigger("t", prompt="p", hidden_actions=[restart])
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())  # the decision service is down: nothing listens on the port
    assert result.status == "completed"
    assert outbox.stats().pending == 2

    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "server.db")
    with serve_in_thread(app, port=port) as url:
        assert outbox.flush(timeout=10)
        # a crash after sending but before marking: the same reports go again
        db = sqlite3.connect(tmp_path / "outbox.db")
        db.execute("UPDATE reports SET delivered_at = NULL")
        db.commit()
        db.close()
        assert outbox.flush(timeout=10)
        reports = _server_reports(url)
    outbox.close()
    keys = [r["idempotency_key"] for r in reports]
    assert len(keys) == 2 == len(set(keys))
    assert {k.rsplit(":", 1)[1] for k in keys} == {"executed"}  # type: ignore[union-attr]
