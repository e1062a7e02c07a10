"""Test doubles for bots built on openai-trigger-bot (offline; no API key needed)."""

from ._builders import function_call, message, response_body
from .scripted import ScriptedResponses, ScriptStep, api_error

__all__ = [
    "ScriptStep",
    "ScriptedResponses",
    "api_error",
    "function_call",
    "message",
    "response_body",
]
