"""What a run did, as tables for the terminal (``trigger-bot demo``)."""

from __future__ import annotations

from rich.console import Console, RenderableType

from .._json import dumps
from ..governance.decision import ExecutionEvent
from ..result import RunResult
from ._console import emit, make_console, table

__all__ = ["print_resumed", "print_run", "run_report"]


def _decision(event: ExecutionEvent) -> str:
    d = event.decision
    if d is None:
        return f"(no decision: {event.failure})" if event.failure else "-"
    rules = ", ".join(d.matched_rules) or d.evaluator or ""
    return f"{d.recommendation} [{rules}]" if rules else d.recommendation


def run_report(result: RunResult, console: Console) -> list[RenderableType | str]:
    """Describe a run: its status, its model calls and every tool-call outcome.

    Args:
        result: The run.
        console: The console the report is for (its width and kind shape the tables).

    Returns:
        Lines of text and tables, in order, for :func:`~._console.emit`.
    """
    parts: list[RenderableType | str] = [
        f"run {result.run_id[:12]}  bot={result.bot}  trigger={result.trigger}  "
        f"status={result.status}",
    ]
    if result.error:
        parts.append(f"error: {result.error}")
    parts += ["", "Model calls"]
    parts.append(
        table(
            console,
            ["round", "response", "tool calls", "in tok", "cached", "out tok", "ms"],
            [
                [
                    str(m.round),
                    m.response_id or "-",
                    ", ".join(m.tool_calls) or (m.error or "(text only)"),
                    str(m.usage.input_tokens),
                    str(m.usage.cached_input_tokens),
                    str(m.usage.output_tokens),
                    f"{m.duration_ms:.1f}",
                ]
                for m in result.model_calls
            ],
        )
    )
    parts += ["", "Tool calls (every call the model proposed, the decision, and what happened)"]
    parts.append(
        table(
            console,
            ["tool", "arguments", "decision", "policy reason", "outcome", "what the model heard"],
            [
                [
                    e.tool,
                    dumps(e.arguments) if e.arguments else "-",
                    _decision(e),
                    e.decision.reason if e.decision else (e.error or "-"),
                    e.status,
                    e.message_to_model,
                ]
                for e in result.events
            ],
        )
    )
    if result.text:
        parts += ["", f"Model text (recorded, not acted on): {result.text}"]
    u = result.usage
    parts += [
        "",
        f"{len(result.model_calls)} model calls, {len(result.action_calls)} actions executed, "
        f"{u.input_tokens} input tokens ({u.cached_input_tokens} cached), "
        f"{u.output_tokens} output tokens",
    ]
    return parts


def print_run(result: RunResult, console: Console | None = None) -> None:
    """Print :func:`run_report` of a run (on standard output by default)."""
    out = console if console is not None else make_console()
    emit(out, *run_report(result, out))


def print_resumed(result: RunResult, call_ids: set[str], console: Console | None = None) -> None:
    """Print how a resumed run settled the calls that waited (``call_ids``), then its end.

    One record per call (``field  value`` lines, which wrap to any width): the tool, its
    arguments, the decision, who approved, the outcome and what the model heard.
    """
    out = console if console is not None else make_console()
    rows = []
    for e in result.events:
        if e.call_id not in call_ids:
            continue
        approval = e.approval
        approved = (
            "-"
            if approval is None
            else f"{approval.resolution} by {approval.approver or '?'}: {approval.comment or ''}"
        )
        rows += [
            ["tool", e.tool],
            ["arguments", dumps(e.arguments) if e.arguments else "-"],
            ["decision", _decision(e)],
            ["approval", approved],
            ["outcome", e.status],
            ["what the model heard", e.message_to_model],
        ]
    u = result.usage
    emit(
        out,
        f"run {result.run_id[:12]} resumed  status={result.status}",
        "",
        table(out, ["field", "value"], rows),
        "",
        *([f"Model text (recorded, not acted on): {result.text}", ""] if result.text else []),
        f"{len(result.model_calls)} model calls, {len(result.action_calls)} actions executed, "
        f"{u.input_tokens} input tokens ({u.cached_input_tokens} cached), "
        f"{u.output_tokens} output tokens",
    )
