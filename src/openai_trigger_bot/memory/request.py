"""What a trigger asks to recall from memory before its run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MemoryRequest"]


class MemoryRequest(BaseModel):
    """A trigger's memory request: which scopes to read and how much to bring in.

    Attributes:
        scopes: The scopes to read from (for example ``("global", "user:alice")``); nothing
            outside them is ever recalled.
        query: The text to rank memories by relevance; the trigger's data when omitted.
        recent_limit: How many of the most recent memories to include.
        semantic_limit: How many of the most relevant memories to include.
        max_chars: Character budget of the injected memory block.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scopes: tuple[str, ...] = ("global",)
    query: str | None = None
    recent_limit: int = Field(4, ge=0)
    semantic_limit: int = Field(6, ge=0)
    max_chars: int = Field(4000, ge=0)
