"""Secret parameters never leave the action: redact them in records, scrub them from text.

A parameter declared secret (``@action(secret=[...])``) is a secret as a whole: every leaf
value inside it (strings, and numbers as text, however deeply nested in lists, dicts or
models) is a *secret value*. A run keeps one :class:`SecretValues` that learns the secret
values of every call the model proposes, valid or not, and everything recorded for the run is
scrubbed with it, whatever key holds the value: a secret the model repeats under another key
is still a secret.

Where a value can be found:

- **Structured fields** (arguments, outputs, extractor results): a string or number leaf equal
  to a secret value is replaced by ``[REDACTED]``, whatever its length; longer secrets are also
  cut out of string leaves that contain them.
- **Free text** (error messages, outputs sent to the model): every form the value takes in the
  text we emit is cut out (see :func:`text_forms`): raw, JSON-escaped with and without ASCII
  escaping, ``repr`` and ``ascii`` in either quoting, a ``bytes`` repr of its UTF-8,
  URL-encoded, and each escape applied once more (a JSON document inside a JSON string, a repr
  of a dict holding JSON...). Leaves shorter than :data:`MIN_SEARCH_CHARS` are not searched
  for in free text: cutting "42" out of every message would mangle unrelated text.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MIN_SEARCH_CHARS",
    "REDACTED",
    "SecretValues",
    "redact_arguments",
    "scrub",
]

REDACTED = "[REDACTED]"

MIN_SEARCH_CHARS = 4
"""Secret values shorter than this are redacted in structured fields only."""

_MAX_LEAVES = 10_000
"""At most this many leaves are read from one secret argument (hostile input stays bounded)."""


_BOTH_QUOTES = "'\""
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


def _quoted_repr(text: str, fn: Callable[[str], str]) -> str:
    # Inside a larger string holding both quote kinds, repr() delimits with ' and escapes
    # each ' as \': add both kinds, so the delimiter (and the escaping) is always that one.
    return fn(text + _BOTH_QUOTES)[1:-4]


def _escapes() -> tuple[Callable[[str], str], ...]:
    """How a string is escaped when it is embedded in JSON or Python text."""
    return (
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: json.dumps(s)[1:-1],
        lambda s: _UNICODE_ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), json.dumps(s)[1:-1]),
        lambda s: repr(s)[1:-1],
        lambda s: _quoted_repr(s, repr),
        lambda s: ascii(s)[1:-1],
        lambda s: _quoted_repr(s, ascii),
    )


def _encodings() -> tuple[Callable[[str], str], ...]:
    """How a string appears when its bytes are shown: a bytes repr, URL encodings."""
    return (
        lambda s: repr(s.encode())[2:-1],
        lambda s: quote(s, safe=""),
        lambda s: quote(s),
        lambda s: quote_plus(s),
    )


_ESCAPES = _escapes()
_ENCODINGS = _encodings()


def text_forms(value: str) -> set[str]:
    """Every form ``value`` takes in text we emit.

    Raw; escaped once for JSON (with and without ASCII escaping, lower- or upper-case hex) or
    Python (``repr`` and ``ascii``, in either quoting); shown as bytes (a ``bytes`` repr) or
    URL-encoded; and each escape applied once more (JSON inside a JSON string, a repr of a dict
    that holds JSON...).
    """
    once = {escape(value) for escape in _ESCAPES} | {value}
    once |= {encode(value) for encode in _ENCODINGS}
    twice = {escape(form) for form in once for escape in _ESCAPES}
    return once | twice


def leaves(value: Any) -> Iterator[str]:
    """The text of every string and number leaf inside ``value`` (keys are not leaves).

    Lists, tuples, sets, dicts, pydantic models and dataclasses are walked; booleans and
    ``None`` are not secrets. At most :data:`_MAX_LEAVES` leaves are produced.
    """
    stack = [value]
    produced = 0
    while stack and produced < _MAX_LEAVES:
        item = stack.pop()
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, str):
            produced += 1
            yield item
        elif isinstance(item, (int, float)):
            produced += 1
            yield _number_text(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "model_dump"):  # a pydantic model
            stack.append(item.model_dump())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.append(dataclasses.asdict(item))
        else:
            produced += 1
            yield str(item)


def _number_text(number: int | float) -> str:
    try:
        return str(number)
    except ValueError:  # an int past the interpreter's digit limit: too long to be a leaf
        return ""


class SecretValues:
    """The secret values known in one run, and the scrubbing that keeps them out of records.

    Learns values as calls are proposed (:meth:`learn`); every scrub uses all values known so
    far. Safe to share between the calls of a run (one event loop; learning only adds).
    """

    __slots__ = ("_exact", "_forms")

    def __init__(self) -> None:
        self._exact: set[str] = set()
        self._forms: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._exact)

    def learn(self, arguments: Mapping[str, Any], secret: Collection[str]) -> None:
        """Add the leaves of each secret parameter's value in ``arguments``."""
        new = {
            leaf
            for key in secret
            if key in arguments
            for leaf in leaves(arguments[key])
            if leaf and leaf not in self._exact
        }
        if not new:
            return
        self._exact |= new
        forms = set(self._forms)
        for value in new:
            if len(value) >= MIN_SEARCH_CHARS:
                forms |= {f for f in text_forms(value) if len(f) >= MIN_SEARCH_CHARS}
        # Longest first, so a secret that contains another is cut out whole.
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    @property
    def forms(self) -> tuple[str, ...]:
        """The text forms searched for in free text, longest first."""
        return self._forms

    def text(self, text: str) -> str:
        """``text`` without any form of any known secret value."""
        return scrub(text, self._forms) if self._forms else text

    def data(self, data: Any) -> Any:
        """JSON data without secret values (see the module docstring)."""
        if not self._exact:
            return data
        return _scrub_tree(data, self._exact, self._forms)


def _scrub_tree(data: Any, exact: Collection[str], forms: Collection[str]) -> Any:
    if isinstance(data, str):
        return REDACTED if data in exact else scrub(data, forms)
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, (int, float)):
        return REDACTED if _number_text(data) in exact else data
    if isinstance(data, (list, tuple)):
        return [_scrub_tree(item, exact, forms) for item in data]
    if isinstance(data, Mapping):
        return {scrub(str(k), forms): _scrub_tree(v, exact, forms) for k, v in data.items()}
    return data


def redact_arguments(arguments: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """A copy of ``arguments`` with every secret parameter's value replaced by ``[REDACTED]``."""
    if not secret:
        return dict(arguments)
    return {k: (REDACTED if k in secret else v) for k, v in arguments.items()}


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``[REDACTED]``."""
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text
