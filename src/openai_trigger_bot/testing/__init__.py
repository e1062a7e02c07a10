"""Test doubles for bots built on openai-trigger-bot (offline; no API key needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..governance.evaluator import StaticEvaluator
    from ..governance.remote.testing import FakeDecisionService, Fault
    from ._builders import (
        failed,
        function_call,
        incomplete,
        message,
        queued,
        rate_limited,
        reasoning,
        refusal,
        response_body,
        server_error,
    )
    from ._server import ScriptedServer
    from .approvals import RecordingApprovalHandler
    from .scripted import ScriptedResponses, ScriptStep, api_error

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        "..governance.evaluator": ("StaticEvaluator",),
        "..governance.remote.testing": ("FakeDecisionService", "Fault"),
        "._builders": (
            "failed",
            "function_call",
            "incomplete",
            "message",
            "queued",
            "rate_limited",
            "reasoning",
            "refusal",
            "response_body",
            "server_error",
        ),
        ".approvals": ("RecordingApprovalHandler",),
        "._server": ("ScriptedServer",),
        ".scripted": ("ScriptedResponses", "ScriptStep", "api_error"),
    },
)

__all__ = [
    "FakeDecisionService",
    "Fault",
    "RecordingApprovalHandler",
    "ScriptStep",
    "ScriptedResponses",
    "ScriptedServer",
    "StaticEvaluator",
    "api_error",
    "failed",
    "function_call",
    "incomplete",
    "message",
    "queued",
    "rate_limited",
    "reasoning",
    "refusal",
    "response_body",
    "server_error",
]
