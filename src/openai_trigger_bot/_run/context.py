"""Where a run's context lives between rounds: chained on the API's side, or resent by us.

**Chained** (``BotSettings(store=True)``, the default): the API stores every response; each
round after the first names the last one in ``previous_response_id`` and sends only the new
``function_call_output`` items. Nothing already sent goes out again.

**Stateless** (``BotSettings(store=False)``, for organisations with zero data retention):
nothing is stored, so nothing can be chained (the API answers 400 "Previous response ... not
found"). Every round sends the whole run so far, in order: the first input (recalled memories
and the trigger's data), then for each earlier round every output item exactly as the API
returned it (reasoning items with their ``encrypted_content``, messages, function calls) and
the ``function_call_output`` items that answered it. The API needs all of it:

- a function call's output must follow its ``function_call`` item ("No tool call found for
  function call output ...");
- a reasoning model's ``function_call`` (and ``message``) items need the ``reasoning`` item
  that preceded them ("Item 'fc_...' of type 'function_call' was provided without its required
  'reasoning' item: 'rs_...'"), and a reasoning item needs the item that followed it ("Item
  'rs_...' of type 'reasoning' was provided without its required following item") — error
  texts quoted in openai/openai-node#1567, cline/cline#12242, mastra-ai/mastra#8738;
- an unstored reasoning item is only usable with its ``encrypted_content`` ("Item with id
  'rs_...' not found. Items are not persisted when ``store`` is set to false"), which
  ``include: ["reasoning.encrypted_content"]`` asks for (the SDK 3.57 docstring of
  ``ResponseCreateParams.include``; the same SDK's ``ResponseReasoningItem`` says the API now
  returns it by default, so asking is harmless where it is not needed).

The input only grows, by appending: each request's input is the previous request's input
followed by the new items, so the serialised request up to the new items is byte-identical
round to round and the prompt cache keeps hitting. Instructions and tools are resent every
round in both modes (the API never carries them over).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..models.base import ModelResponse

__all__ = ["ENCRYPTED_REASONING", "Chained", "Context", "Stateless", "stateless_include"]

#: The ``include`` value that asks for reasoning items' ``encrypted_content``.
ENCRYPTED_REASONING = "reasoning.encrypted_content"


def stateless_include(extra: Sequence[str] | None) -> list[str]:
    """The ``include`` of a stateless request: the user's values plus the encrypted reasoning."""
    values = list(extra or ())
    if ENCRYPTED_REASONING not in values:
        values.append(ENCRYPTED_REASONING)
    return values


class Context(Protocol):
    """The conversation state of one run."""

    def request(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """The next request body: ``base`` plus what carries the context, ``input`` last."""
        ...

    def advance(self, response: ModelResponse, outputs: list[dict[str, Any]]) -> None:
        """Take in a response whose calls were answered with ``outputs``."""
        ...


class Chained:
    """Each round chains from the last response and sends only the new items."""

    __slots__ = ("_input", "_previous")

    def __init__(self, first_input: list[dict[str, Any]]) -> None:
        self._input = first_input
        self._previous: str | None = None

    def request(self, base: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(base)
        if self._previous is not None:
            body["previous_response_id"] = self._previous
        body["input"] = self._input
        return body

    def advance(self, response: ModelResponse, outputs: list[dict[str, Any]]) -> None:
        self._previous = response.id
        self._input = outputs


class Stateless:
    """Each round resends the whole run so far (append-only, so the prefix stays cached)."""

    __slots__ = ("_items",)

    def __init__(self, first_input: list[dict[str, Any]]) -> None:
        self._items = list(first_input)

    def request(self, base: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(base)
        body["input"] = list(self._items)  # a copy: a backend may keep the body it was given
        return body

    def items(self) -> list[dict[str, Any]]:
        """Every item sent so far (a copy), for a suspended run's state."""
        return list(self._items)

    def advance(self, response: ModelResponse, outputs: list[dict[str, Any]]) -> None:
        output = response.raw.get("output")
        # Every output item as the API returned it, in its order: reasoning items pair with the
        # items around them by id, so nothing is rebuilt, reordered or dropped.
        self._items.extend(item for item in output or () if isinstance(item, dict))
        self._items.extend(outputs)
