"""Bot settings: the model, the instructions, and the budgets of every run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BotSettings"]


class BotSettings(BaseModel):
    """How a bot talks to the model and how far a run may go.

    Attributes:
        model: The Responses API model.
        system_prompt: The bot's own instructions, placed first (stable, cache-friendly).
        max_model_calls: Model calls per run; reaching it ends the run with
            ``status == "max_model_calls"``.
        max_action_calls: Executed actions per run; calls beyond it are not run and the run
            ends with ``status == "max_action_calls"``.
        timeout_s: Wall-time budget of a run (``None``: no deadline). A model call in flight
            is cancelled at the deadline; a started action is never interrupted, but no new
            action starts after it.
        prompt_cache_key: Overrides the default cache key ``"{bot}:{trigger}"``.
        parallel_tool_calls: Let the model propose several calls per response.
        temperature: Sampling temperature, if the model accepts one.
        max_output_tokens: Output token cap per model call.
        reasoning_effort: Reasoning effort for reasoning models.
        extra_body: More request fields, sent as given on every model call.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = "gpt-5.2"
    system_prompt: str = ""
    max_model_calls: int = Field(8, ge=1)
    max_action_calls: int = Field(16, ge=0)
    timeout_s: float | None = Field(300.0, gt=0)
    prompt_cache_key: str | None = None
    parallel_tool_calls: bool = True
    temperature: float | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    extra_body: dict[str, Any] = Field(default_factory=dict)
