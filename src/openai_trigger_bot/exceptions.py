"""Exceptions raised by openai-trigger-bot.

Runtime faults of a run (a bad tool call from the model, an action that raises, a failed API
call, a budget that runs out) are *outcomes* recorded in :class:`~openai_trigger_bot.RunResult`,
never exceptions. Exceptions are for mistakes a developer must fix, raised as early as possible
(at decoration time, at bot construction, at policy load)::

    TriggerBotError
    ├── ConfigurationError          a definition or setting is wrong; fix the code or config
    │   ├── ActionDefinitionError   @action cannot turn this function into a strict tool
    │   ├── TriggerDefinitionError  @bot.trigger(...) is inconsistent (unknown default action, ...)
    │   ├── PolicyError             a policy file is broken (carries file and line)
    │   └── StorePathError          a store's file path cannot be used (missing directory,
    │                               a directory in its place, no permission); also an
    │                               OSError. Memory stores raise MemoryPathError, which
    │                               is a MemoryStoreError too
    ├── ArgumentsError              tool-call arguments failed validation (caught by the runner,
    │                               turned into an ``invalid`` outcome the model is told about)
    ├── UsageError                  the API was called in a way that cannot work
    │   │                           (e.g. ``Bot.run`` inside a running event loop)
    │   └── ResumeRefused           a suspended run cannot be resumed by this bot (its
    │                               definition changed, a newer state format)
    ├── RunError                    a run store refused an operation (runs.errors: RunNotFound,
    │                               ApprovalClosed, RunBusy, RunStoreError, ...)
    ├── EvaluatorError              a policy evaluator could not decide (governance.errors; the
    │                               gate turns it into an outcome through ``fail_mode``)
    ├── MemoryStoreError            a memory file is corrupt, foreign or of another schema
    │                               version (memory.errors: MemoryFileError, MemorySchemaError)
    └── EmbeddingError              an embedder failed (memory.errors)

:class:`ActionError` is different: actions raise it on purpose to send a message to the model
(``tool_error`` with exactly that text) instead of the generic failure notice.
"""

from __future__ import annotations

__all__ = [
    "ActionDefinitionError",
    "ActionError",
    "ArgumentsError",
    "ConfigurationError",
    "PolicyError",
    "StorePathError",
    "TriggerBotError",
    "TriggerDefinitionError",
    "UsageError",
]


class TriggerBotError(Exception):
    """Base class of every exception this library raises."""


class ConfigurationError(TriggerBotError):
    """A definition or setting is wrong and must be fixed before the bot can run."""


class ActionDefinitionError(ConfigurationError):
    """``@action`` cannot build a strict function tool from the decorated function."""


class TriggerDefinitionError(ConfigurationError):
    """A trigger definition is inconsistent (for example, an unknown default action)."""


class PolicyError(ConfigurationError):
    """A policy file or policy configuration is broken.

    Attributes:
        path: The file that failed, when known.
        line: The 1-based line of the problem, when known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line


class StorePathError(ConfigurationError, OSError):
    """A store's file cannot be opened at the path it was given.

    Raised when a memory store, outbox or report store is opened: the message names the path,
    what is wrong with it (a directory that does not exist, a directory in place of the file,
    no permission, a read-only file system) and what to do. Nothing is created or changed.
    It is also an :class:`OSError`, so code that handles file errors handles it.
    """


class ArgumentsError(TriggerBotError):
    """Tool-call arguments did not validate against the action's schema.

    The message is short and written for the model, which gets it as the tool output.
    """


class UsageError(TriggerBotError):
    """The library was used in a way that cannot work (the message says what to do instead)."""


class ActionError(Exception):
    """Raised by an action to tell the model why it failed.

    The runner records a ``tool_error`` and sends ``str(error)`` to the model verbatim, so
    write it for the model: short, actionable, and free of secrets. Any other exception an
    action raises is reported to the model as a generic, short failure notice.
    """
