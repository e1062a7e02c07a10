"""What a trigger asks to recall from memory before its run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MemoryRequest"]

CHARS_PER_TOKEN = 4


class MemoryRequest(BaseModel):
    """A trigger's memory request: which scopes to read and how much to bring in.

    Attributes:
        scopes: The scopes to read from (for example ``("global", "user:alice")``); nothing
            outside them is ever recalled.
        query: The text to rank memories by relevance; the trigger's data when omitted.
        recent_limit: How many of the most recent memories to include.
        recent_capture_limit: How many of those ``recent_limit`` slots automatic captures
            (``trigger_run``, ``action``, ``tool_outcome``) may take while kept memories
            (facts and every other kind) compete for them; default ``recent_limit // 2``.
            Slots one share leaves unused go to the other, so a bot with no facts still sees
            its last ``recent_limit`` captures, and captures never push a kept fact out.
        semantic_limit: How many of the most relevant memories to include.
        max_chars: Character budget of the injected memory block (header included).
        max_tokens: Optional token budget of the block, estimated as 4 characters per token;
            the tighter of the two budgets applies.
        capture_scope: Where this trigger's runs and tool outcomes are remembered. When
            omitted: the first scope that is not ``"global"`` (captures describe this
            conversation or user; ``global`` is kept for deliberate facts), else ``"global"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scopes: tuple[str, ...] = ("global",)
    query: str | None = None
    recent_limit: int = Field(4, ge=0)
    recent_capture_limit: int | None = Field(None, ge=0)
    semantic_limit: int = Field(6, ge=0)
    max_chars: int = Field(4000, ge=0)
    max_tokens: int | None = Field(None, ge=0)
    capture_scope: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _share_fits(self) -> MemoryRequest:
        if self.recent_capture_limit is not None and self.recent_capture_limit > self.recent_limit:
            raise ValueError(
                f"recent_capture_limit ({self.recent_capture_limit}) cannot exceed recent_limit "
                f"({self.recent_limit})"
            )
        return self

    @property
    def capture_share(self) -> int:
        """The recent slots captures may take when kept memories compete for them."""
        if self.recent_capture_limit is None:
            return self.recent_limit // 2
        return self.recent_capture_limit

    @property
    def char_budget(self) -> int:
        """The block's budget in characters (``max_chars``, or less under ``max_tokens``)."""
        if self.max_tokens is None:
            return self.max_chars
        return min(self.max_chars, self.max_tokens * CHARS_PER_TOKEN)

    @property
    def capture_scopes(self) -> tuple[str, ...]:
        """What to pass as ``scopes=`` to the manager's capture hooks for this trigger."""
        return (self.capture_scope,) if self.capture_scope else self.scopes
