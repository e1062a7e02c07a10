"""A suspended run's state: versioned, serialisable, and free of secret values.

When a run suspends (a call waits for a person) the runner writes a :class:`RunState` to the
run store; ``bot.resume`` reads it back, in this process or another one with the same bot
definition. It holds what the next request needs and what the result records:

- where the context is: the suspended response's id (chained mode) or every item sent so far
  plus that response's output (stateless mode);
- that response's calls, each with its settled result (if it settled before the suspension)
  or the id of the approval it waits for;
- the records so far (model calls, action calls, events), the actions used, the last text;
- the request prefix (model, instructions, tools) and a fingerprint of every tool, so a resume
  against a changed bot (an action gone, a signature changed) is refused.

Secret values are scrubbed from everything written. A call whose arguments held a secret value
is marked ``secret``: its real arguments stay in the memory of the process that made it, so it
can run when resumed there, and is blocked when resumed anywhere else.

``version`` is the format's version: a state written by a newer release is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..actions import Action
from ..exceptions import UsageError
from ..models.base import ModelResponse
from ..result import Usage

__all__ = [
    "RUN_STATE_FORMAT",
    "RUN_STATE_VERSION",
    "ResumeRefused",
    "RoundCall",
    "RunState",
    "tool_fingerprints",
]

RUN_STATE_FORMAT = "openai-trigger-bot/run-state"
RUN_STATE_VERSION = 1


class ResumeRefused(UsageError):
    """A suspended run cannot be resumed by this bot (changed definition, newer format...)."""


class RoundCall(BaseModel):
    """One function call of the suspended response.

    Attributes:
        call_id: The model's call id.
        name: The tool name.
        arguments: The model's argument text, secret values scrubbed.
        secret: Secret values were scrubbed from ``arguments``: only the process that made
            the call can run it.
        result: Its settled result (``ledger.to_json``), if it settled before the suspension.
        approval_id: The approval it waits for, if it does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str
    name: str
    arguments: str
    secret: bool = False
    result: dict[str, Any] | None = None
    approval_id: str | None = None


class RunState(BaseModel):
    """Everything a resume needs (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["openai-trigger-bot/run-state"] = "openai-trigger-bot/run-state"
    version: int = RUN_STATE_VERSION
    run_id: str
    bot: str
    trigger: str
    base_body: dict[str, Any]
    tools: dict[str, str]
    items: list[dict[str, Any]] | None = None
    """Stateless mode: every item sent so far (``None``: chained mode)."""
    response_id: str
    response_output: list[dict[str, Any]] = []
    """Stateless mode: the suspended response's output items (resent on resume)."""
    calls: list[RoundCall]
    model_calls: list[dict[str, Any]] = []
    action_calls: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    actions_used: int = 0
    text: str = ""

    @classmethod
    def load(cls, data: Mapping[str, Any], *, run_id: str) -> RunState:
        """Read a stored state, refusing one this release cannot read.

        Raises:
            ResumeRefused: Not a run state, or one written by a newer release.
        """
        if data.get("format") != RUN_STATE_FORMAT:
            raise ResumeRefused(f"run {run_id}: the stored state is not a run state")
        version = data.get("version")
        if not isinstance(version, int) or version > RUN_STATE_VERSION:
            raise ResumeRefused(
                f"run {run_id}: its state has format version {version!r}, this release reads "
                f"version {RUN_STATE_VERSION}; resume it with a newer openai-trigger-bot"
            )
        return cls.model_validate(dict(data))

    def response(self) -> ModelResponse:
        """The suspended response, as the context needs it to advance."""
        return ModelResponse(
            id=self.response_id,
            status="completed",
            function_calls=(),
            text="",
            usage=Usage(),
            raw={"output": list(self.response_output)},
        )

    def check_tools(self, allowed: Mapping[str, Action[Any]]) -> None:
        """Refuse to resume with a bot whose tools differ from the suspended run's.

        Raises:
            ResumeRefused: An action is gone, new, or its tool definition changed.
        """
        now = tool_fingerprints(allowed)
        gone = sorted(set(self.tools) - set(now))
        added = sorted(set(now) - set(self.tools))
        changed = sorted(n for n in self.tools if n in now and now[n] != self.tools[n])
        problems = []
        if gone:
            problems.append(f"actions gone: {', '.join(gone)}")
        if changed:
            problems.append(f"actions changed (signature or description): {', '.join(changed)}")
        if added:
            problems.append(f"actions added: {', '.join(added)}")
        if problems:
            raise ResumeRefused(
                f"run {self.run_id} was suspended by another definition of bot {self.bot!r} "
                f"({'; '.join(problems)}); resume it with the definition that started it, or "
                "cancel it"
            )


def tool_fingerprints(allowed: Mapping[str, Action[Any]]) -> dict[str, str]:
    """A sha256 of each offered tool's definition (name, description, parameters), by name."""
    return {
        name: hashlib.sha256(
            json.dumps(action.tool, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        for name, action in allowed.items()
    }
