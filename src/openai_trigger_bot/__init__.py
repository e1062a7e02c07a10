"""openai-trigger-bot: bots that act only through tools on the OpenAI Responses API.

Every proposed tool call is validated (and, with governance, decided on) before it runs; the
model's text is recorded but never acted on.

The names below are imported on first use (see :mod:`._lazy`): ``import openai_trigger_bot``
loads none of the library's heavier parts (memory and numpy, CEL rules, the remote evaluator,
the server), and ``from openai_trigger_bot import Bot, action`` loads only what a bot needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from .exceptions import (
    ActionDefinitionError,
    ActionError,
    ArgumentsError,
    ConfigurationError,
    PolicyError,
    StorePathError,
    TriggerBotError,
    TriggerDefinitionError,
    UsageError,
)

if TYPE_CHECKING:
    from ._run.state import ResumeRefused
    from .actions import Action, ActionRegistry, action
    from .bot import Bot
    from .governance.approvals import Approval, ApprovalRequest
    from .governance.decision import Decision, ExecutionEvent, ProposedAction
    from .governance.gate import Governance
    from .governance.outbox import OutcomeOutbox
    from .governance.remote import RemoteEvaluator
    from .governance.rules import LocalRulesEvaluator
    from .governed_client import GovernedClient
    from .memory import (
        Embedder,
        FileMemoryStore,
        HashingEmbedder,
        InMemoryMemoryStore,
        Memory,
        MemoryManager,
        MemoryRequest,
        MemoryStore,
        OpenAIEmbedder,
        SQLiteMemoryStore,
    )
    from .result import ActionCall, ModelCall, PendingApproval, RunResult, RunStatus, Usage
    from .runs import InMemoryRunStore, RunStore, SQLiteRunStore
    from .settings import BotSettings
    from .triggers import Invocation, Trigger

__version__ = "0.1.0"

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".actions": ("Action", "ActionRegistry", "action"),
        ".bot": ("Bot",),
        ".governance.approvals": ("Approval", "ApprovalRequest"),
        ".governance.decision": ("Decision", "ExecutionEvent", "ProposedAction"),
        ".governance.gate": ("Governance",),
        ".governance.outbox": ("OutcomeOutbox",),
        ".governance.remote": ("RemoteEvaluator",),
        ".governance.rules": ("LocalRulesEvaluator",),
        ".governed_client": ("GovernedClient",),
        ".memory": (
            "Embedder",
            "FileMemoryStore",
            "HashingEmbedder",
            "InMemoryMemoryStore",
            "Memory",
            "MemoryManager",
            "MemoryRequest",
            "MemoryStore",
            "OpenAIEmbedder",
            "SQLiteMemoryStore",
        ),
        "._run.state": ("ResumeRefused",),
        ".result": (
            "ActionCall",
            "ModelCall",
            "PendingApproval",
            "RunResult",
            "RunStatus",
            "Usage",
        ),
        ".runs": ("InMemoryRunStore", "RunStore", "SQLiteRunStore"),
        ".settings": ("BotSettings",),
        ".triggers": ("Invocation", "Trigger"),
    },
)

__all__ = [
    "Action",
    "ActionCall",
    "ActionDefinitionError",
    "ActionError",
    "ActionRegistry",
    "Approval",
    "ApprovalRequest",
    "ArgumentsError",
    "Bot",
    "BotSettings",
    "ConfigurationError",
    "Decision",
    "Embedder",
    "ExecutionEvent",
    "FileMemoryStore",
    "Governance",
    "GovernedClient",
    "HashingEmbedder",
    "InMemoryMemoryStore",
    "InMemoryRunStore",
    "Invocation",
    "LocalRulesEvaluator",
    "Memory",
    "MemoryManager",
    "MemoryRequest",
    "MemoryStore",
    "ModelCall",
    "OpenAIEmbedder",
    "OutcomeOutbox",
    "PendingApproval",
    "PolicyError",
    "ProposedAction",
    "RemoteEvaluator",
    "ResumeRefused",
    "RunResult",
    "RunStatus",
    "RunStore",
    "SQLiteMemoryStore",
    "SQLiteRunStore",
    "StorePathError",
    "Trigger",
    "TriggerBotError",
    "TriggerDefinitionError",
    "Usage",
    "UsageError",
    "__version__",
    "action",
]
