"""Shared helpers for the governance tests."""

from __future__ import annotations

from typing import Any

from openai_trigger_bot.governance import ActionMetadata, Decision, ProposedAction


class FakeClock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def proposal(
    action: str = "refund", arguments: dict[str, Any] | None = None, **fields: Any
) -> ProposedAction:
    """A proposal; ``system``, ``environment``, ``risk`` and ``tags`` go into the metadata."""
    meta = {
        key: fields.pop(key) for key in ("system", "environment", "risk", "tags") if key in fields
    }
    return ProposedAction(
        action=action,
        arguments=arguments or {},
        metadata=ActionMetadata(**meta),
        run_id="run-1",
        call_id="call-1",
        **fields,
    )


PROCEED = Decision(recommendation="proceed", risk=0.1)
CAUTION = Decision(recommendation="proceed_with_caution", risk=0.3)
REVIEW = Decision(recommendation="review_recommended", risk=0.5)
BLOCK = Decision(recommendation="do_not_proceed", risk=0.9)
