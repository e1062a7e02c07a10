"""Prompt assembly: stable instructions first, the trigger's data last (prompt-cache friendly).

Everything here is a pure function of the bot, the trigger and the invocation, so the same
trigger always produces byte-identical instructions and tools, and only the final input item
(the data) changes between runs. That is what lets ``prompt_cache_key`` hit.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._json import dumps

__all__ = ["build_input", "build_instructions"]


def build_instructions(
    *,
    system_prompt: str,
    trigger_name: str,
    trigger_prompt: str,
    tool_names: Sequence[str],
    default_action: str | None,
) -> str:
    """The stable instructions of a trigger (identical for every run of it).

    Args:
        system_prompt: The bot's own instructions.
        trigger_name: The trigger's name.
        trigger_prompt: What this trigger asks for.
        tool_names: The tools offered for this trigger.
        default_action: The action the trigger expects, if any.
    """
    parts = [system_prompt.strip()] if system_prompt.strip() else []
    parts.append(f"# Task: {trigger_name}\n{trigger_prompt.strip()}")
    rules = [
        "# How you act",
        "- You act only by calling tools. Text you write is shown to no one and has no effect.",
        f"- The tools available for this task: {', '.join(tool_names) or 'none'}.",
    ]
    if default_action:
        rules += [
            f"- Default action: call `{default_action}`. This task is set up for it, so call it "
            "unless the data clearly shows it would be wrong, unnecessary or harmful.",
            f"- If you decide not to call `{default_action}`, call no tool (or another listed "
            "tool if the data calls for it) and reply with one short sentence saying why.",
        ]
    rules += [
        "- Fill every argument from the data; never invent identifiers.",
        "- If a tool returns an error, fix the call if the error says how, otherwise stop.",
        "- When nothing more needs doing, reply with a one-line summary and no tool call.",
    ]
    parts.append("\n".join(rules))
    return "\n\n".join(parts)


def build_input(data: object) -> list[dict[str, object]]:
    """The first round's input: the trigger's data (recalled memories go before it at run time).

    Args:
        data: The trigger's data (JSON data; serialised compactly).
    """
    text = data if isinstance(data, str) else dumps(data)
    return [{"role": "user", "content": f"Trigger data:\n{text}"}]
