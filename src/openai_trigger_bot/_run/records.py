"""The run's own record of what happened: the subscriber that builds ``RunResult``.

Events are keyed by call id: when a call that waited for approval settles on resume, its new
event replaces the ``approval_required`` one, so a result holds one outcome per proposed call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..governance.decision import ExecutionEvent
from ..governance.redaction import SecretValues
from ..result import ActionCall, ModelCall
from .calls import scrub_action_call, scrub_event
from .settle import Settled

__all__ = ["RunRecords"]


@dataclass
class RunRecords:
    """Model calls, action calls and events of one run (a settle subscriber)."""

    model_calls: list[ModelCall] = field(default_factory=list)
    action_calls: list[ActionCall] = field(default_factory=list)
    events: list[ExecutionEvent] = field(default_factory=list)
    text: str = ""
    last_response_id: str | None = None
    secrets: SecretValues = field(default_factory=SecretValues)
    """Every secret value the model passed in this run (see ``governance.redaction``)."""

    async def settled(self, item: Settled) -> None:
        """Record a settled outcome (replacing an earlier event of the same call)."""
        self.add_event(item.result.event)
        if item.result.action_call is not None:
            self.action_calls.append(item.result.action_call)

    def add_event(self, event: ExecutionEvent) -> None:
        """Append ``event``, or replace the event of the same call id."""
        for i in range(len(self.events) - 1, -1, -1):
            if self.events[i].call_id == event.call_id:
                self.events[i] = event
                return
        self.events.append(event)

    def scrubbed(self) -> None:
        """Scrub every record with all secret values of the run: a value that became known
        as secret in a later round is removed from the earlier rounds' records too."""
        secrets = self.secrets
        if not secrets:
            return
        self.events = [scrub_event(e, secrets) for e in self.events]
        self.action_calls = [scrub_action_call(c, secrets) for c in self.action_calls]
        self.model_calls = [
            c.model_copy(
                update={
                    "text": secrets.text(c.text),
                    "commentary": secrets.text(c.commentary),
                    "refusal": None if c.refusal is None else secrets.text(c.refusal),
                }
            )
            for c in self.model_calls
        ]
        self.text = secrets.text(self.text)
