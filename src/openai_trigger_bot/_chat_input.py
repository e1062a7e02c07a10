"""Chat Completions messages to Responses API input items, or a ``UsageError`` saying what is wrong.

:class:`~openai_trigger_bot.GovernedClient` takes the messages users already have. The Responses
API refuses the Chat Completions shapes (``role: "tool"``, assistant ``tool_calls``), so every
message is converted before anything is sent, or refused with its index and what to change:

=========================================  ===================================================
Chat Completions message                   Responses input item(s)
=========================================  ===================================================
system / developer / user, string content  the same message (``{"role", "content"}``)
... content parts                          ``text`` → ``input_text``, ``image_url`` →
                                           ``input_image`` (``detail`` ``auto`` if unset),
                                           ``file`` → ``input_file``
assistant content / ``refusal``            an assistant message with that text (parts joined
                                           by a newline); the API records it as output text
assistant ``tool_calls`` (type function)   one ``function_call`` item each (``call_id`` = the
                                           call's ``id``; ``arguments`` the JSON string)
tool (``tool_call_id``, content)           ``function_call_output`` (a string, or
                                           ``input_text`` parts)
=========================================  ===================================================

Responses-form input passes through when valid: ``input_*`` content parts, ``output_text`` parts
of an assistant message, and ``function_call`` / ``function_call_output`` items. Pydantic models
(``completion.choices[0].message``) are read with ``model_dump``; ``None`` values count as absent;
an assistant message's ``annotations`` are dropped (its text is what the model reads).

Refused: the legacy ``function`` role and assistant ``function_call``, ``name`` and ``audio``
keys, ``input_audio`` and unknown content parts, custom tool calls, a tool message whose
``tool_call_id`` matches no earlier assistant tool call (or answers one twice), and a tool call
left without an answer: the API refuses a function call without its output. Every item built is
checked against the openai SDK's request types before the run starts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from openai.types.responses.easy_input_message_param import EasyInputMessageParam
from openai.types.responses.response_function_tool_call_param import (
    ResponseFunctionToolCallParam,
)
from openai.types.responses.response_input_file_param import ResponseInputFileParam
from openai.types.responses.response_input_image_param import ResponseInputImageParam
from openai.types.responses.response_input_param import FunctionCallOutput
from openai.types.responses.response_input_text_param import ResponseInputTextParam
from pydantic import TypeAdapter, ValidationError

from .exceptions import UsageError

__all__ = ["input_items"]

_SDK_TYPES: dict[str, Any] = {
    "message": EasyInputMessageParam,
    "function_call": ResponseFunctionToolCallParam,
    "function_call_output": FunctionCallOutput,
    "input_text": ResponseInputTextParam,
    "input_image": ResponseInputImageParam,
    "input_file": ResponseInputFileParam,
}
_INPUT_ROLES = ("user", "system", "developer")
_MESSAGE_KEYS = {"role", "content", "type"}
_ASSISTANT_KEYS = {"role", "content", "type", "tool_calls", "refusal", "phase", "annotations"}
_TOOL_KEYS = {"role", "content", "tool_call_id"}
_REFUSED_KEYS = {
    "name": "'name' has no equivalent in the Responses API; put the speaker into the content",
    "audio": "assistant audio cannot be sent back to the Responses API; send its transcript "
    "as content",
    "function_call": "the legacy assistant 'function_call' has no call id; use 'tool_calls' "
    "with an 'id' and answer it with a 'tool' message",
}


def input_items(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Convert messages (oldest first) to Responses input items.

    Args:
        messages: Chat Completions messages (dicts or the SDK's pydantic models), or items
            already in Responses form.

    Returns:
        The input items, in order, each valid for the openai SDK's request types.

    Raises:
        UsageError: A message cannot be sent to the Responses API; the message names the index
            (``messages[3]``), what is wrong and what to do.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise UsageError("messages must be a non-empty list of {'role': ..., 'content': ...}")
    converter = _Converter()
    for index, message in enumerate(messages):
        converter.add(index, _as_mapping(index, message))
    converter.finish()
    return converter.items


class _Converter:
    """Converts messages one by one, pairing each tool call with its answer."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.calls: dict[str, tuple[int, str]] = {}  # call id -> (message index, tool name)
        self.answered: dict[str, int] = {}  # call id -> index of the message answering it

    def add(self, i: int, m: dict[str, Any]) -> None:
        kind = m.get("type")
        if kind == "function_call":
            self._native_call(i, m)
            return
        if kind == "function_call_output":
            self._answer(i, m.get("call_id"), "call_id", m)
            return
        if kind not in (None, "message"):
            _fail(
                i,
                f"input items of type {kind!r} are not supported here",
                "send messages, function_call or function_call_output items",
            )
        role = m.get("role")
        if role in _INPUT_ROLES:
            self._input_message(i, role, m)
        elif role == "assistant":
            self._assistant(i, m)
        elif role == "tool":
            self._tool(i, m)
        elif role == "function":
            _fail(
                i,
                "the legacy 'function' role cannot be answered in the Responses API",
                "give the call an id in an assistant 'tool_calls' entry and answer it with "
                "{'role': 'tool', 'tool_call_id': ..., 'content': ...}",
            )
        else:
            what = "the message has no 'role'" if role is None else f"unknown role {role!r}"
            _fail(i, what, "use user, system, developer, assistant or tool")

    def finish(self) -> None:
        for call_id, (i, name) in self.calls.items():
            if call_id not in self.answered:
                _fail(
                    i,
                    f"tool call {call_id!r} ({name}) has no tool message answering it, and the "
                    "Responses API refuses a function call without its output",
                    f"add {{'role': 'tool', 'tool_call_id': {call_id!r}, 'content': ...}} after "
                    "it, or drop the call",
                )

    # -- one method per kind of message ---------------------------------------------------

    def _input_message(self, i: int, role: str, m: dict[str, Any]) -> None:
        _keys(i, m, _MESSAGE_KEYS, role)
        content = m.get("content")
        if isinstance(content, str):
            item: dict[str, Any] = {"role": role, "content": content}
        elif isinstance(content, (list, tuple)) and content:
            item = {"role": role, "content": [_input_part(i, j, p) for j, p in enumerate(content)]}
        else:
            _fail(
                i,
                f"a {role} message needs 'content': a string or a non-empty list of parts",
                "set the content",
            )
        self.items.append(_checked(i, "message", item))

    def _assistant(self, i: int, m: dict[str, Any]) -> None:
        _keys(i, m, _ASSISTANT_KEYS, "assistant")
        texts = _assistant_texts(i, m.get("content"))
        refusal = m.get("refusal")
        if refusal is not None:
            if not isinstance(refusal, str):
                _fail(i, "the assistant 'refusal' must be a string", "fix or drop it")
            texts.append(refusal)
        calls = m.get("tool_calls") or []
        if not isinstance(calls, (list, tuple)):
            _fail(i, "'tool_calls' must be a list", "fix the message")
        if not texts and not calls:
            _fail(i, "an assistant message needs content or tool_calls", "drop the message")
        if texts:
            item: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts)}
            if "phase" in m:
                item["phase"] = m["phase"]
            self.items.append(_checked(i, "message", item))
        for k, call in enumerate(calls):
            call_id, name, arguments = _tool_call(i, k, call)
            self._register(i, call_id, name)
            item = {"type": "function_call", "call_id": call_id, "name": name}
            self.items.append(_checked(i, "function_call", {**item, "arguments": arguments}))

    def _tool(self, i: int, m: dict[str, Any]) -> None:
        _keys(i, m, _TOOL_KEYS, "tool")
        output = _tool_output(i, m.get("content"))
        call_id = m.get("tool_call_id")
        item = {"type": "function_call_output", "call_id": call_id, "output": output}
        self._answer(i, call_id, "tool_call_id", item)

    def _native_call(self, i: int, m: dict[str, Any]) -> None:
        item = _checked(i, "function_call", m)
        self._register(i, item["call_id"], item["name"])
        self.items.append(item)

    # -- pairing calls with answers -------------------------------------------------------

    def _register(self, i: int, call_id: str, name: str) -> None:
        if call_id in self.calls:
            first = self.calls[call_id][0]
            _fail(
                i,
                f"tool call id {call_id!r} is used twice (first in messages[{first}])",
                "give every tool call its own id",
            )
        self.calls[call_id] = (i, name)

    def _answer(self, i: int, call_id: Any, key: str, item: dict[str, Any]) -> None:
        if not isinstance(call_id, str) or not call_id:
            _fail(
                i,
                f"a tool answer needs '{key}', the id of the assistant tool call it answers",
                f"set '{key}'",
            )
        if call_id not in self.calls:
            _fail(
                i,
                f"{key} {call_id!r} matches no earlier assistant tool call",
                "answer only calls made in an earlier assistant message's 'tool_calls'",
            )
        if call_id in self.answered:
            _fail(
                i,
                f"tool call {call_id!r} is answered twice (first in "
                f"messages[{self.answered[call_id]}])",
                "send one tool message per call",
            )
        self.answered[call_id] = i
        self.items.append(_checked(i, "function_call_output", item))


# -- pieces of a message ------------------------------------------------------------------


def _input_part(i: int, j: int, part: Any) -> dict[str, Any]:
    """One content part of a user, system or developer message, in Responses form."""
    if not isinstance(part, Mapping):
        _fail(i, f"content[{j}] is not a content part (a dict with a 'type')", "fix the part")
    kind = part.get("type")
    out: dict[str, Any]
    if kind == "text":
        out = {"type": "input_text", "text": part.get("text")}
    elif kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        detail = image.get("detail", "auto") if isinstance(image, Mapping) else "auto"
        out = {"type": "input_image", "image_url": url, "detail": detail}
    elif kind == "file":
        file = part.get("file")
        if not isinstance(file, Mapping) or not ({"file_data", "file_id"} & set(file)):
            _fail(i, f"content[{j}]: a file part needs 'file_data' or 'file_id'", "fix the part")
        keys = ("file_data", "file_id", "filename")
        out = {"type": "input_file", **{k: file[k] for k in keys if k in file}}
    elif kind in ("input_text", "input_image", "input_file"):
        out = dict(part)
        if kind == "input_image":
            out.setdefault("detail", "auto")
    elif kind == "input_audio":
        _fail(
            i,
            f"content[{j}]: audio parts cannot be sent in Responses API messages",
            "transcribe the audio and send the text",
        )
    else:
        _fail(
            i,
            f"content[{j}] has the unsupported part type {kind!r}",
            "use text, image_url or file (or input_text, input_image, input_file)",
        )
    if out["type"] == "input_image" and not (out.get("image_url") or out.get("file_id")):
        _fail(i, f"content[{j}]: an image part needs a URL (or a file id)", "fix the part")
    if kind in ("text", "image_url", "file") and "prompt_cache_breakpoint" in part:
        out["prompt_cache_breakpoint"] = part["prompt_cache_breakpoint"]
    return _checked(i, out["type"], out, f"content[{j}]")


def _assistant_texts(i: int, content: Any) -> list[str]:
    """The texts of an assistant message's content (a string, or text and refusal parts)."""
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [content]
    if not isinstance(content, (list, tuple)):
        _fail(i, "assistant 'content' must be a string or a list of parts", "fix the content")
    texts: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, Mapping) else None
        key = "refusal" if kind == "refusal" else "text"
        if kind not in ("text", "output_text", "refusal"):
            _fail(i, f"content[{j}] of an assistant message is not text", "send its text only")
        if not isinstance(part.get(key), str):
            _fail(i, f"content[{j}] needs a string {key!r}", "fix the part")
        texts.append(part[key])
    return texts


def _tool_call(i: int, k: int, call: Any) -> tuple[str, str, str]:
    """The id, function name and arguments of one assistant ``tool_calls`` entry."""
    where = f"tool_calls[{k}]"
    if not isinstance(call, Mapping):
        _fail(i, f"{where} is not a tool call (a dict)", "fix the call")
    if call.get("type") == "custom":
        _fail(i, f"{where} is a custom tool call", "only function tool calls can be governed")
    if call.get("type") != "function":
        _fail(i, f"{where} needs 'type': 'function'", "set the type")
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        _fail(i, f"{where} needs an 'id' (a non-empty string)", "set the id")
    function = call.get("function")
    if not isinstance(function, Mapping):
        _fail(i, f"{where} needs 'function': {{'name': ..., 'arguments': ...}}", "set it")
    name, arguments = function.get("name"), function.get("arguments")
    if not isinstance(name, str) or not name:
        _fail(i, f"{where}.function needs a 'name'", "set the tool name")
    if not isinstance(arguments, str):
        _fail(
            i,
            f"{where}.function.arguments must be a JSON string, got {type(arguments).__name__}",
            "pass json.dumps(arguments)",
        )
    return call_id, name, arguments


def _tool_output(i: int, content: Any) -> str | list[dict[str, Any]]:
    """A tool message's content as a ``function_call_output`` output."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)) and content:
        parts = []
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, Mapping) else None
            if kind not in ("text", "input_text"):
                _fail(i, f"content[{j}] of a tool message must be a text part", "send text")
            text = {"type": "input_text", "text": part.get("text")}
            parts.append(_checked(i, "input_text", text, f"content[{j}]"))
        return parts
    _fail(
        i,
        "a tool message needs 'content': a string or a non-empty list of text parts",
        "send the tool's result as text",
    )


# -- checks ---------------------------------------------------------------------------------


def _as_mapping(i: int, message: Any) -> dict[str, Any]:
    if isinstance(message, Mapping):
        raw: Mapping[Any, Any] = message
    elif callable(getattr(message, "model_dump", None)):
        raw = message.model_dump(exclude_none=True)
    else:
        _fail(
            i,
            f"expected a dict like {{'role': 'user', 'content': ...}}, got {message!r:.80}",
            "pass messages as dicts",
        )
    return {k: v for k, v in raw.items() if v is not None}


def _keys(i: int, m: Mapping[str, Any], allowed: set[str], role: str) -> None:
    extra = sorted(str(k) for k in m if k not in allowed)
    for key in extra:
        if key in _REFUSED_KEYS:
            _fail(i, f"{role} message has {key!r}", _REFUSED_KEYS[key])
    if extra:
        _fail(
            i,
            f"{role} message has key(s) the Responses API does not accept: {', '.join(extra)}",
            f"keep only {', '.join(sorted(allowed))}",
        )


@functools.cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(_SDK_TYPES[kind])


def _checked(i: int, kind: str, item: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """``item`` as is, after checking it against the openai SDK's type for ``kind``."""
    try:
        _adapter(kind).validate_python(item)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        label = f"{where} ({kind})" if where else kind
        _fail(i, f"{label} is not valid for the Responses API: {loc}: {err['msg']}", "fix it")
    return dict(item)


def _fail(i: int, what: str, fix: str) -> NoReturn:
    raise UsageError(f"messages[{i}]: {what}; {fix}")
