"""A message-driven entry point for users coming from decision adapters for OpenAI tool calls.

``GovernedClient`` is a thin layer over the same :class:`~openai_trigger_bot.Bot`, runner and
gate: tools are registered by name, a run starts from a list of messages instead of a trigger::

    with GovernedClient(client, policy="policies/") as gc:
        gc.tool("issue_refund", issue_refund, value_from_args="amount", risk="medium")
        result = gc.run(messages=[{"role": "user", "content": "Refund order 42"}],
                        model="gpt-5.2", instructions="You are a billing assistant.")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import openai
from pydantic import BaseModel

from ._cache_key import default_cache_key
from ._chat_input import input_items
from ._lifecycle import Closing
from ._run.loop import RunSpec, run_loop
from .actions import Action
from .bot import Bot
from .exceptions import UsageError
from .governance.approvals import ApprovalHandler
from .result import RunResult
from .settings import BotSettings

__all__ = ["GovernedClient"]


class GovernedClient(Closing):
    """Register tools, run from messages; every tool call passes the governance gate.

    Args:
        client: An ``OpenAI`` or ``AsyncOpenAI`` client (or ``None``: created from the
            environment on first run and closed with this object).
        name: The bot name in records and the prompt cache key.
        settings: Model, default instructions (``system_prompt``) and budgets.
        **governance: ``policy``, ``enforcement``, ``fail_mode``, ``approval_handler``,
            ``on_decision``, ``actor``, ``domain``, ``governance``, ``run_store`` (see
            :class:`Bot`).
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        *,
        name: str = "governed-client",
        settings: BotSettings | None = None,
        **governance: Any,
    ) -> None:
        self.bot = Bot(name, client, settings=settings, **governance)
        self._bodies: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Action[Any]]]] = {}

    # -- tools -----------------------------------------------------------------------------

    def tool(self, name: str, fn: Callable[..., Any], **options: Any) -> Action[Any]:
        """Register ``fn`` as the tool ``name``.

        Args:
            name: The tool name the model calls.
            fn: A typed, documented function (sync or async).
            **options: ``description`` and the governance metadata of :func:`action`
                (``system``, ``risk``, ``environment``, ``tags``, ``value_from_args``,
                ``target_from_args``, ``metadata_from_args``, ``fail_mode``, ``secret``).

        Raises:
            ActionDefinitionError: The function cannot be a strict tool, or a bad option.
        """
        act: Action[Any] = Action(fn, name=name, global_action=True, **options)
        self.bot.register_actions(act)
        self._bodies.clear()
        return act

    def register_tool(self, item: Action[Any] | Callable[..., Any], **options: Any) -> Action[Any]:
        """Register an ``@action`` as is, or a plain function under its own name."""
        if isinstance(item, Action):
            if options:
                raise UsageError("options go into @action(...) for an action that already exists")
            self.bot.register_actions(item)
            self._bodies.clear()
            return item
        return self.tool(getattr(item, "__name__", ""), item, **options)

    def list_tools(self) -> list[dict[str, Any]]:
        """The function-tool definitions sent to the model, in registration order."""
        return [a.tool for a in self.bot.actions]

    # -- runs ------------------------------------------------------------------------------

    def run(
        self,
        messages: Sequence[Mapping[str, Any] | BaseModel],
        *,
        model: str | None = None,
        instructions: str | None = None,
        on_approval_required: ApprovalHandler | None = None,
    ) -> RunResult:
        """Run from messages until the model stops calling tools (or a budget ends the run).

        Args:
            messages: Input messages, oldest first: Chat Completions messages (``system``,
                ``developer``, ``user``, ``assistant`` with ``tool_calls``, ``tool``) are
                converted to Responses input items (dicts, or the SDK's message models);
                Responses-form items pass through.
            model: Overrides the settings' model.
            instructions: Overrides the settings' ``system_prompt``.
            on_approval_required: Overrides the approval handler for this run.

        Raises:
            UsageError: A message the Responses API would refuse (named by its index: the
                legacy ``function`` role, a tool answer matching no earlier tool call, a tool
                call left unanswered, an unsupported content part...), before any request;
                or called inside a running event loop.
        """
        return self.bot.run_spec(self._spec(messages, model, instructions, on_approval_required))

    async def arun(
        self,
        messages: Sequence[Mapping[str, Any] | BaseModel],
        *,
        model: str | None = None,
        instructions: str | None = None,
        on_approval_required: ApprovalHandler | None = None,
    ) -> RunResult:
        """The async twin of :meth:`run`."""
        return await run_loop(self._spec(messages, model, instructions, on_approval_required))

    def run_with_approval(
        self,
        messages: Sequence[Mapping[str, Any] | BaseModel],
        *,
        on_approval_required: ApprovalHandler,
        model: str | None = None,
        instructions: str | None = None,
    ) -> RunResult:
        """:meth:`run` with an approval handler asked for every call that needs approval."""
        return self.run(
            messages,
            model=model,
            instructions=instructions,
            on_approval_required=on_approval_required,
        )

    def _spec(
        self,
        messages: Sequence[Mapping[str, Any] | BaseModel],
        model: str | None,
        instructions: str | None,
        on_approval: ApprovalHandler | None,
    ) -> RunSpec:
        items = input_items(messages)
        bot = self.bot
        text = bot.settings.system_prompt if instructions is None else instructions
        key = (model or bot.settings.model, text)
        cached = self._bodies.get(key)
        if cached is None:
            allowed = {a.name: a for a in bot.actions}
            cache_key = default_cache_key(bot.name, "messages")
            body = bot.request_body(allowed, text, cache_key, model=model)
            cached = self._bodies[key] = (body, allowed)
        body, allowed = cached
        governance: Any = True
        if on_approval is not None and bot.governance is not None:
            governance = dataclasses.replace(bot.governance, approval_handler=on_approval)
        return bot.make_spec("messages", body, allowed, items, governance=governance)

    def resume(self, run_id: str, decisions: Mapping[str, Any] | None = None) -> RunResult:
        """Continue a suspended run (see :meth:`Bot.resume <openai_trigger_bot.Bot.resume>`)."""
        return self.bot.resume(run_id, decisions)

    async def aresume(self, run_id: str, decisions: Mapping[str, Any] | None = None) -> RunResult:
        """The async twin of :meth:`resume`."""
        return await self.bot.aresume(run_id, decisions)

    def cancel(self, run_id: str) -> None:
        """End a suspended run (see :meth:`Bot.cancel <openai_trigger_bot.Bot.cancel>`)."""
        self.bot.cancel(run_id)

    async def acancel(self, run_id: str) -> None:
        """The async twin of :meth:`cancel`."""
        await self.bot.acancel(run_id)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the bot (its worker threads, event loops, and the client it created).

        A client passed in stays open: it is the caller's. Idempotent; a closed
        ``GovernedClient`` refuses to run.
        """
        self.bot.close()
