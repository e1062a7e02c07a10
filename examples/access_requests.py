"""An access-request bot: the example `trigger-bot demo` runs.

A ticket asks for temporary access to a production system. The bot looks the requester up,
grants time-boxed access (its default action) and tells the requester. Every call passes the
policy in ``examples/policies/access_desk.yaml``. The offline script below also makes the model
do what real models sometimes do — call a tool this trigger does not allow, send arguments that
fail validation, give a vague justification, ask for more access than the policy lets it grant
alone — to show what executes, what is refused, what is blocked and what waits for a human.

Run it offline (no API key): ``python examples/access_requests.py``; or ``trigger-bot demo``.
With ``OPENAI_API_KEY`` set: ``trigger-bot demo --live``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import openai
from pydantic import BaseModel

from openai_trigger_bot import Approval, Bot, BotSettings, RunResult, action
from openai_trigger_bot.testing import ScriptedResponses, ScriptStep, function_call, message

POLICY_DIR = Path(__file__).resolve().parent / "policies"

DIRECTORY = {
    "alice": {"team": "payments", "on_call": True, "manager": "carol"},
    "bob": {"team": "marketing", "on_call": False, "manager": "dave"},
}


class Role(str, Enum):
    """Access levels the bot may grant."""

    READ_ONLY = "read-only"
    OPERATOR = "operator"


class Grant(BaseModel):
    """A time-boxed access grant."""

    user: str
    system: str
    role: Role
    expires_at: datetime


@action(global_action=True)
def lookup_user(username: str) -> dict[str, Any]:
    """Look a user up in the company directory.

    Args:
        username: The directory username, e.g. "alice".
    """
    entry = DIRECTORY.get(username)
    if entry is None:
        return {"found": False}
    return {"found": True, "username": username, **entry}


@action(global_action=True)
def notify_requester(username: str, text: str) -> dict[str, str]:
    """Send the requester a chat message about their ticket.

    Args:
        username: Who to notify.
        text: The message, one or two sentences.
    """
    return {"status": "sent", "to": username}


@action(system="iam", environment="production", risk="medium", target_from_args="system")
def grant_access(user: str, system: str, role: Role, justification: str, hours: int = 2) -> Grant:
    """Grant temporary access to a system.

    Args:
        user: The username to grant access to.
        system: The system, e.g. "payments-db".
        role: The access level.
        justification: Why, naming the ticket or incident.
        hours: How long the grant lasts (1-8 hours).
    """
    if not 1 <= hours <= 8:
        raise ValueError("hours must be between 1 and 8")
    expires = datetime.now(timezone.utc) + timedelta(hours=hours)
    return Grant(user=user, system=system, role=role, expires_at=expires)


@action
def rotate_credentials(system: str) -> str:
    """Rotate every credential of a system (not offered to the access-request trigger)."""
    return f"rotated {system}"


def build_bot(client: openai.OpenAI | openai.AsyncOpenAI, *, model: str = "gpt-5.2") -> Bot:
    """The bot with its actions and its one trigger."""
    bot = Bot(
        name="access-bot",
        client=client,
        settings=BotSettings(
            model=model,
            system_prompt="You are the access desk of an engineering organisation.",
            max_model_calls=8,
        ),
        policy=POLICY_DIR,
        domain="infra",
    )
    bot.register_actions(lookup_user, notify_requester, grant_access, rotate_credentials)

    @bot.trigger(
        "access-request",
        prompt="Handle the access request in the ticket: check the requester, grant the "
        "smallest access that fits, and tell them what you did.",
        default_action=grant_access,
    )
    def access_request(
        ticket: str, username: str, system: str, reason: str, level: Literal["read", "write"]
    ) -> dict[str, Any]:
        return {
            "ticket": ticket,
            "requester": username,
            "system": system,
            "reason": reason,
            "level": level,
        }

    return bot


def offline_script() -> list[ScriptStep]:
    """What the scripted model answers, round by round."""
    why = "INC-2201: read the refunds table to find the failed refunds"
    grant = {"user": "alice", "system": "payments-db", "role": "read-only", "hours": None}
    return [
        [function_call("lookup_user", {"username": "alice"})],
        [
            # not allowed for this trigger: refused, never executed
            function_call("rotate_credentials", {"system": "payments-db"}),
            # fails validation ("admin" is not a Role): refused, the model is told why
            function_call("grant_access", {**grant, "role": "admin", "justification": why}),
        ],
        # a vague justification: the policy blocks it
        [function_call("grant_access", {**grant, "justification": "pls"})],
        [
            function_call("grant_access", {**grant, "justification": why}),
            function_call(
                "notify_requester",
                {"username": "alice", "text": "You have read-only access to payments-db for 2h."},
            ),
        ],
        # operator access to production: the policy wants a human to approve
        [function_call("grant_access", {**grant, "role": "operator", "justification": why})],
        # after the reviewer approved, the run resumed: the model hears the grant's result
        [message("Granted alice read-only access, and operator access for 2 hours (approved).")],
    ]


def run_demo(client: openai.OpenAI | None = None, *, model: str = "gpt-5.2") -> RunResult:
    """Run the access-request trigger once (offline unless a real client is given)."""
    with build_bot(client or ScriptedResponses(offline_script()).client(), model=model) as bot:
        trigger = bot.triggers["access-request"]
        return bot.run(
            trigger(
                ticket="OPS-1432",
                username="alice",
                system="payments-db",
                reason="Investigating failed refunds in INC-2201; need to read the refunds table.",
                level="read",
            )
        )


REVIEWER = Approval(
    approved=True,
    approver="oncall-lead",
    comment="INC-2201 is open; operator access for 2 hours is fine",
)
"""What the demo's reviewer answers to the call that waits for approval."""


def run_demo_reviewed(
    client: openai.OpenAI | None = None, *, model: str = "gpt-5.2"
) -> tuple[RunResult, RunResult | None]:
    """Run the trigger; if a call waits for approval, a reviewer approves it and the run resumes.

    Returns:
        The suspended (or finished) run, and the resumed run (``None`` if nothing waited).
    """
    with build_bot(client or ScriptedResponses(offline_script()).client(), model=model) as bot:
        trigger = bot.triggers["access-request"]
        first = bot.run(
            trigger(
                ticket="OPS-1432",
                username="alice",
                system="payments-db",
                reason="Investigating failed refunds in INC-2201; need to read the refunds table.",
                level="read",
            )
        )
        if first.status != "approval_required":
            return first, None
        decisions = {p.id: REVIEWER for p in first.pending_approvals}
        return first, bot.resume(first.run_id, decisions)


if __name__ == "__main__":
    from openai_trigger_bot.cli.report import print_run

    print_run(run_demo())
