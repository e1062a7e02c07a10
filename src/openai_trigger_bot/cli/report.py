"""Plain-text tables of a run, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from .._json import dumps
from ..governance.decision import ExecutionEvent
from ..result import RunResult

__all__ = ["render", "table"]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    """A fixed-width text table; cells longer than their column are cut with an ellipsis."""
    cells = [[_cut(str(c), w) for c, w in zip(row, widths, strict=False)] for row in rows]
    cols = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in cols)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, cols, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, cols, strict=True)) for r in cells]
    return "\n".join(out)


def _decision(event: ExecutionEvent) -> str:
    d = event.decision
    if d is None:
        return f"(no decision: {event.failure})" if event.failure else "-"
    rules = ", ".join(d.matched_rules) or d.evaluator or ""
    return f"{d.recommendation} [{rules}]" if rules else d.recommendation


def render(result: RunResult) -> str:
    """Describe a run: its status, its model calls and every tool-call outcome."""
    parts = [
        f"run {result.run_id[:12]}  bot={result.bot}  trigger={result.trigger}  "
        f"status={result.status}",
    ]
    if result.error:
        parts.append(f"error: {result.error}")
    parts.append("")
    parts.append("Model calls")
    parts.append(
        table(
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
            [6, 28, 48, 7, 7, 7, 8],
        )
    )
    parts.append("")
    parts.append("Tool calls (every call the model proposed, the decision, and what happened)")
    parts.append(
        table(
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
            [18, 34, 36, 40, 17, 50],
        )
    )
    if result.text:
        parts.append("")
        parts.append(f"Model text (recorded, not acted on): {_cut(result.text, 140)}")
    u = result.usage
    parts.append("")
    parts.append(
        f"{len(result.model_calls)} model calls, {len(result.action_calls)} actions executed, "
        f"{u.input_tokens} input tokens ({u.cached_input_tokens} cached), "
        f"{u.output_tokens} output tokens"
    )
    return "\n".join(parts)
