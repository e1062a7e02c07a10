"""Secret parameters never leave the action: redact them in records, scrub them from text."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "redact_arguments", "scrub", "secret_values"]

REDACTED = "[REDACTED]"


def redact_arguments(arguments: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """A copy of ``arguments`` with every secret parameter's value replaced by ``[REDACTED]``."""
    if not secret:
        return dict(arguments)
    return {k: (REDACTED if k in secret else v) for k, v in arguments.items()}


def secret_values(arguments: Mapping[str, Any], secret: Collection[str]) -> tuple[str, ...]:
    """The text forms of the secret arguments' values (what :func:`scrub` removes).

    Very short values (under 4 characters) are skipped: scrubbing them would mangle unrelated
    text, and they carry too little to be a credential.
    """
    found: list[str] = []
    for key in secret:
        value = arguments.get(key)
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        if len(text) >= 4:
            found.append(text)
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``[REDACTED]``."""
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text
