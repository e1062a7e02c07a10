"""Output items sent back as input: what the real API requires of reasoning items.

A client that manages the context itself (stateless, ``store: false``; or any request that
resends earlier output items) must send a reasoning model's items back as the API returned
them. The scripted API remembers every item it returned (:class:`IssuedItems`) and refuses,
with the real API's status and error text, a request that breaks one of these rules:

1. **An unstored reasoning item needs its ``encrypted_content``.** A ``reasoning`` item sent
   without one is looked up by id among stored items; if its response was not stored (or the
   id is unknown): 404, "Item with id 'rs_...' not found. Items are not persisted when `store`
   is set to false. Try again with `store` set to true, or remove this item from your input."
   Source: the API's error text quoted in community.openai.com/t/1269225,
   letta-ai/letta-code#2378 and can1357/oh-my-pi#41 (404).
2. **``encrypted_content`` must be what the API issued.** Anything else (a made-up value, or
   the value of another reasoning item): 400 ``invalid_encrypted_content``, "The encrypted
   content gAAA...DQ== could not be verified." Source: openai/codex#8145, #8132.
3. **A reasoning item needs its following item.** The item that followed it in the response
   (its function call or message) must come right after it: else 400, "Item 'rs_...' of type
   'reasoning' was provided without its required following item." Source:
   continuedev/continue#8933, openai/openai-node#1567.
4. **A function call or message needs its reasoning item.** A ``function_call`` or assistant
   ``message`` item that a reasoning item preceded in the response must be preceded by that
   reasoning item in the input: else 400, "Item 'fc_...' of type 'function_call' was provided
   without its required 'reasoning' item: 'rs_...'." Source: cline/cline#12242,
   mastra-ai/mastra#8738, continuedev/continue#10018 (and #12620 for messages). The real API
   pairs items by their ``id``; the scripted one also pairs a ``function_call`` sent without
   its ``id`` by ``call_id``, so a client that rebuilds call items instead of sending them back
   cannot drop the reasoning either (stricter than the error texts show, as OpenAI's
   reasoning guide asks: "include ... all reasoning items" after function calls when not
   chaining; cookbook "Handling Function Calls with Reasoning Models").

Together with "every ``function_call_output`` follows its ``function_call``" (checked in
:mod:`._request_rules`), a stateless request whose tool outputs answer a reasoning model's
calls is refused unless those calls' reasoning items come back first, with their
``encrypted_content``.

``encrypted_content`` is on every reasoning item the scripted API returns (the openai SDK 3.57
``ResponseReasoningItem``: "populated by default for reasoning items returned by
``POST /v1/responses``"), or, with ``ScriptedResponses(encrypted_reasoning="when_included")``,
only when ``include`` lists ``reasoning.encrypted_content`` (the API's older documented
behaviour, which ``include`` still selects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._request_shape import ApiError

__all__ = ["IssuedItems"]


@dataclass(frozen=True, slots=True)
class _Reasoning:
    encrypted: str | None
    stored: bool
    following: tuple[str | None, str | None] | None  # (id, call_id) of the next output item


def _key(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    call_id = item.get("call_id") if item.get("type") == "function_call" else None
    item_id = item.get("id")
    return (
        item_id if isinstance(item_id, str) else None,
        call_id if isinstance(call_id, str) else None,
    )


def _short(value: str) -> str:
    """The API's way of naming an encrypted value: its first and last 4 characters."""
    return value if len(value) <= 12 else f"{value[:4]}...{value[-4:]}"


class IssuedItems:
    """Every reasoning item the scripted API returned, and which items need one.

    Not thread-safe: the scripted API calls it under its own lock.
    """

    def __init__(self) -> None:
        self._reasoning: dict[str, _Reasoning] = {}
        self._encrypted: set[str] = set()
        self._needs: dict[str, str] = {}  # item id or "call:<call_id>" -> its reasoning item id

    def add(self, output: Any, *, stored: bool) -> None:
        """Remember the output items of one response (``stored``: its ``store`` was not false)."""
        items = [i for i in output if isinstance(i, Mapping)] if isinstance(output, list) else []
        last: str | None = None
        for n, item in enumerate(items):
            item_id = item.get("id")
            if item.get("type") == "reasoning" and isinstance(item_id, str):
                encrypted = item.get("encrypted_content")
                encrypted = encrypted if isinstance(encrypted, str) and encrypted else None
                following = _key(items[n + 1]) if n + 1 < len(items) else None
                self._reasoning[item_id] = _Reasoning(encrypted, stored, following)
                if encrypted is not None:
                    self._encrypted.add(encrypted)
                last = item_id
                continue
            if last is None:
                continue
            item_id, call_id = _key(item)
            if item_id is not None:
                self._needs[item_id] = last
            if call_id is not None:
                self._needs[f"call:{call_id}"] = last

    def error(self, body: Mapping[str, Any]) -> ApiError | None:
        """Why the real API would refuse the reasoning items (or their absence) in ``body``."""
        inputs = body.get("input")
        if not isinstance(inputs, list):
            return None
        seen: set[str] = set()
        for n, item in enumerate(inputs):
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            if kind == "reasoning":
                problem = self._reasoning_item(item, inputs[n + 1] if n + 1 < len(inputs) else None)
                if problem is not None:
                    return problem
                seen.add(str(item.get("id")))
            elif kind in ("function_call", "message"):
                problem = self._needs_reasoning(item, seen)
                if problem is not None:
                    return problem
        return None

    def _reasoning_item(self, item: Mapping[str, Any], following: Any) -> ApiError | None:
        item_id = str(item.get("id"))
        known = self._reasoning.get(item_id)
        encrypted = item.get("encrypted_content")
        if encrypted:  # rule 2
            if (
                not isinstance(encrypted, str)
                or encrypted not in self._encrypted
                or (known is not None and known.encrypted != encrypted)
            ):
                return ApiError(
                    f"The encrypted content {_short(str(encrypted))} could not be verified.",
                    None,
                    "invalid_encrypted_content",
                )
        elif known is None or not known.stored:  # rule 1
            return ApiError(
                f"Item with id '{item_id}' not found. Items are not persisted when `store` is "
                "set to false. Try again with `store` set to true, or remove this item from "
                "your input.",
                "input",
                status=404,
            )
        if known is not None and known.following is not None:  # rule 3
            item_id_next, call_id_next = known.following
            ok = isinstance(following, Mapping) and (
                (item_id_next is not None and following.get("id") == item_id_next)
                or (
                    call_id_next is not None
                    and following.get("type") == "function_call"
                    and following.get("call_id") == call_id_next
                )
            )
            if not ok:
                return ApiError(
                    f"Item '{item_id}' of type 'reasoning' was provided without its required "
                    "following item.",
                    "input",
                )
        return None

    def _needs_reasoning(self, item: Mapping[str, Any], seen: set[str]) -> ApiError | None:
        item_id, call_id = _key(item)
        need = self._needs.get(item_id) if item_id is not None else None
        if need is None and call_id is not None:
            need = self._needs.get(f"call:{call_id}")
        if need is None or need in seen:  # rule 4
            return None
        name = item_id if item_id is not None else f"call_id {call_id}"
        return ApiError(
            f"Item '{name}' of type '{item.get('type')}' was provided without its required "
            f"'reasoning' item: '{need}'.",
            "input",
        )
