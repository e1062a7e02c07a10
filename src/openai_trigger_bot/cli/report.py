"""Plain-text tables of a run, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from .._json import dumps
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
    parts.append("Tool calls (every call the model proposed, and what happened)")
    parts.append(
        table(
            ["tool", "outcome", "arguments", "result / what the model was told"],
            [
                [e.tool, e.status, dumps(e.arguments) if e.arguments else "-", e.message_to_model]
                for e in result.events
            ],
            [20, 18, 46, 70],
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
