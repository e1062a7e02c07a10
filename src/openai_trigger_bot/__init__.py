"""openai-trigger-bot: bots that act only through tools on the OpenAI Responses API.

Every proposed tool call is validated (and, with governance, decided on) before it runs; the
model's text is recorded but never acted on.
"""

from .actions import Action, ActionRegistry, action
from .bot import Bot
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
from .governance.approvals import ApprovalRequest
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
from .result import ActionCall, ModelCall, RunResult, RunStatus, Usage
from .settings import BotSettings
from .triggers import Invocation, Trigger

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionCall",
    "ActionDefinitionError",
    "ActionError",
    "ActionRegistry",
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
    "Invocation",
    "LocalRulesEvaluator",
    "Memory",
    "MemoryManager",
    "MemoryRequest",
    "MemoryStore",
    "ModelCall",
    "OpenAIEmbedder",
    "OutcomeOutbox",
    "PolicyError",
    "ProposedAction",
    "RemoteEvaluator",
    "RunResult",
    "RunStatus",
    "SQLiteMemoryStore",
    "StorePathError",
    "Trigger",
    "TriggerBotError",
    "TriggerDefinitionError",
    "Usage",
    "UsageError",
    "__version__",
    "action",
]
