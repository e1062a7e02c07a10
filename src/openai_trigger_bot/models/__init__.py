"""Model backends for the runner: the OpenAI Responses adapter and the protocol it implements."""

from .base import FunctionCallItem, ModelError, ModelResponse, ResponsesModel, parse_response
from .openai import OpenAIResponsesModel

__all__ = [
    "FunctionCallItem",
    "ModelError",
    "ModelResponse",
    "OpenAIResponsesModel",
    "ResponsesModel",
    "parse_response",
]
