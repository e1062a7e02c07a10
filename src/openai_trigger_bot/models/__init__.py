"""Model backends for the runner: the OpenAI Responses adapter and the protocol it implements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import (
        FunctionCallItem,
        ModelError,
        ModelResponse,
        OffloadingModel,
        ResponsesModel,
        parse_response,
    )
    from .openai import OpenAIResponsesModel

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".base": (
            "FunctionCallItem",
            "ModelError",
            "ModelResponse",
            "OffloadingModel",
            "ResponsesModel",
            "parse_response",
        ),
        ".openai": ("OpenAIResponsesModel",),
    },
)

__all__ = [
    "FunctionCallItem",
    "ModelError",
    "ModelResponse",
    "OffloadingModel",
    "OpenAIResponsesModel",
    "ResponsesModel",
    "parse_response",
]
