"""Bot settings: the model, the instructions, and the budgets of every run."""

from __future__ import annotations

from typing import Any, Literal

from openai.types.shared import ReasoningEffort
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._cache_key import check_cache_key
from .exceptions import ConfigurationError

__all__ = ["MIN_OUTPUT_TOKENS", "BotSettings"]

#: The API's minimum for ``max_output_tokens`` (a lower value is a 400, integer_below_min_value).
MIN_OUTPUT_TOKENS = 16

#: Request fields that say where a run's context lives: the runner sets them, never extra_body.
_CONTEXT_KEYS = ("store", "previous_response_id", "conversation")


class BotSettings(BaseModel):
    """How a bot talks to the model and how far a run may go.

    Attributes:
        model: The Responses API model.
        system_prompt: The bot's own instructions, placed first (stable, cache-friendly).
        max_model_calls: Model calls per run; reaching it ends the run with
            ``status == "max_model_calls"``.
        max_action_calls: Executed actions per run; calls beyond it are not run and the run
            ends with ``status == "max_action_calls"``.
        timeout_s: Wall-time budget of a run (``None``: no deadline). Every model call gets the
            time left as its whole budget, retries and their waits included; a call in flight
            is cancelled at the deadline. A started action is never interrupted, but no new
            action starts after it.
        prompt_cache_key: Overrides the default cache key ``"{bot}:{trigger}"`` (at most 64
            characters, the API's limit; a longer default is shortened automatically).
        parallel_tool_calls: Let the model propose several calls per response.
        temperature: Sampling temperature, if the model accepts one.
        max_output_tokens: Output token cap per model call (at least 16, the API's minimum).
        reasoning_effort: Reasoning effort for reasoning models: any value of the installed
            OpenAI SDK's ``ReasoningEffort``.
        store: ``True`` (default): responses are stored and every round chains from the last
            one with ``previous_response_id``, sending only the new tool outputs. ``False``:
            stateless mode, for organisations with zero data retention: nothing is stored,
            no request names a previous response, and every round resends the whole run so
            far (the first input, every earlier output item, reasoning items with their
            ``encrypted_content`` included, and the tool outputs); requests ask for
            ``include: ["reasoning.encrypted_content"]``.
        extra_body: More request fields, sent as given on every model call (``include``
            values are added to the runner's own).
        approval_ttl_s: How long an approval request holds, in seconds from when it is made
            (default one hour; must be a finite number > 0). An action's own
            ``@action(approval_ttl_s=...)`` wins. The request's ``expires_at`` says when.
        max_pending_approvals: The most approvals of this bot that may wait at once (in its
            run store; default 100, ``None``: no cap). Past it, a call that needs approval is
            blocked with a clear reason (failure ``approval_cap``): approval fatigue.
        approval_timeout_s: How long an approval handler may take to answer (``None``: no
            limit but the run's deadline). A handler that takes longer blocks the call
            (failure ``approval_error``), like one that raises.
        approval_error: What a failing approval handler (raises, times out, answers something
            not understood) does: ``block`` (default, fail closed) or ``suspend`` (the call
            waits in the run store for a person, as if the handler had deferred).
        run_retention_s: How long a finished run stays in the run store (default 7 days);
            older ones are purged when a resumed run ends.

    Raises:
        ConfigurationError: A ``prompt_cache_key`` over 64 characters; a ``prompt_cache_key``
            / ``max_output_tokens`` in ``extra_body`` the API would refuse; or ``store``,
            ``previous_response_id`` or ``conversation`` in ``extra_body`` (the runner keeps
            the run's context itself: use ``store``).
        pydantic.ValidationError: A value of the wrong type or out of range.
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
    max_output_tokens: int | None = Field(None, ge=MIN_OUTPUT_TOKENS)
    reasoning_effort: ReasoningEffort = None
    store: bool = True
    extra_body: dict[str, Any] = Field(default_factory=dict)
    approval_ttl_s: float = Field(3600.0, gt=0, allow_inf_nan=False)
    max_pending_approvals: int | None = Field(100, ge=1)
    approval_timeout_s: float | None = Field(None, gt=0, allow_inf_nan=False)
    approval_error: Literal["block", "suspend"] = "block"
    run_retention_s: float = Field(7 * 86400.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _api_limits(self) -> BotSettings:
        check_cache_key(self.prompt_cache_key, "BotSettings.prompt_cache_key")
        extra = self.extra_body
        for key in _CONTEXT_KEYS:
            if key in extra:
                raise ConfigurationError(
                    f"BotSettings.extra_body[{key!r}]: the runner keeps a run's context itself "
                    "(chained with previous_response_id, or resent in full with "
                    "BotSettings(store=False)); set BotSettings.store instead"
                )
        include = extra.get("include")
        if include is not None and (
            not isinstance(include, list) or not all(isinstance(v, str) for v in include)
        ):
            raise ConfigurationError(
                f"BotSettings.extra_body['include'] is {include!r}; the API needs a list of strings"
            )
        if "prompt_cache_key" in extra:
            check_cache_key(extra["prompt_cache_key"], "BotSettings.extra_body['prompt_cache_key']")
        if "max_output_tokens" in extra:
            value = extra["max_output_tokens"]
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < MIN_OUTPUT_TOKENS
            ):
                raise ConfigurationError(
                    f"BotSettings.extra_body['max_output_tokens'] is {value!r}; the API needs "
                    f"an integer of at least {MIN_OUTPUT_TOKENS}"
                )
        return self
