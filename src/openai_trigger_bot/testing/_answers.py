"""What the scripted API adds to scripted output items, as the real API would.

- **Usage that grows with the context.** A chained request is billed for everything the model
  sees: the instructions and tools sent now, the previous responses' input and output (carried
  over by ``previous_response_id``; instructions are not), and the new input. Tokens are
  estimated from JSON size (4 bytes a token, at least 1), so a run's later rounds report more
  input tokens than its first, as on the real API.
- **Reasoning state.** ``reasoning`` items carry ``encrypted_content`` (what a stateless client
  needs to send reasoning back): by default always, as the openai SDK 3.57 documents the API
  now does ("populated by default for reasoning items returned by ``POST /v1/responses``",
  ``ResponseReasoningItem.encrypted_content``); or, as the API documented before and ``include``
  still selects, only when the request's ``include`` lists ``reasoning.encrypted_content``
  (otherwise it is removed).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ENCRYPTED_REASONING", "ContextUsage", "estimate_tokens", "reasoning_as_asked"]

#: The ``include`` value that asks for reasoning items' ``encrypted_content``.
ENCRYPTED_REASONING = "reasoning.encrypted_content"


def estimate_tokens(value: Any) -> int:
    """A token estimate of JSON data: its compact UTF-8 size over 4, at least 1 (0 for none)."""
    if value is None or value == [] or value == "":
        return 0
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, len(text.encode("utf-8", "surrogatepass")) // 4)


class ContextUsage:
    """Input and output tokens of each answer, growing with the chained context."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: dict[str, int] = {}  # response id -> tokens it carries into a chain

    def usage(
        self, body: Mapping[str, Any], output: Sequence[Mapping[str, Any]]
    ) -> tuple[int, int]:
        """``(input_tokens, output_tokens)`` for answering ``body`` with ``output``."""
        with self._lock:
            carried = self._context.get(str(body.get("previous_response_id")), 0)
        prefix = estimate_tokens(body.get("instructions")) + estimate_tokens(body.get("tools"))
        new_input = estimate_tokens(body.get("input"))
        return prefix + carried + new_input, max(estimate_tokens(list(output)), 1)

    def remember(self, response_id: str, body: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """Record what response ``response_id`` (answering ``body``) carries into a chain."""
        usage = data.get("usage")
        output_tokens = usage.get("output_tokens", 0) if isinstance(usage, Mapping) else 0
        with self._lock:
            carried = self._context.get(str(body.get("previous_response_id")), 0)
            self._context[response_id] = (
                carried + estimate_tokens(body.get("input")) + int(output_tokens or 0)
            )


def reasoning_as_asked(
    output: Sequence[Mapping[str, Any]], include: Any, *, always: bool = True
) -> list[dict[str, Any]]:
    """The output items with ``encrypted_content`` on reasoning items: on every one when
    ``always``, else only if ``include`` asks for it.

    A reasoning item without one gets a stable opaque value (base64 of its id).
    """
    asked = always or (isinstance(include, list) and ENCRYPTED_REASONING in include)
    items: list[dict[str, Any]] = []
    for raw in output:
        item = dict(raw)
        if item.get("type") == "reasoning":
            if not asked:
                item.pop("encrypted_content", None)
            elif not item.get("encrypted_content"):
                token = f"scripted-reasoning:{item.get('id', '')}".encode()
                item["encrypted_content"] = base64.b64encode(token).decode()
        items.append(item)
    return items
