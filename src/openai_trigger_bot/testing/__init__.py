"""Test doubles for bots built on openai-trigger-bot (offline; no API key needed)."""

from ..governance.evaluator import StaticEvaluator
from ..governance.remote.testing import FakeDecisionService, Fault
from ._builders import function_call, message, response_body
from .approvals import RecordingApprovalHandler
from .scripted import ScriptedResponses, ScriptStep, api_error

__all__ = [
    "FakeDecisionService",
    "Fault",
    "RecordingApprovalHandler",
    "ScriptStep",
    "ScriptedResponses",
    "StaticEvaluator",
    "api_error",
    "function_call",
    "message",
    "response_body",
]
