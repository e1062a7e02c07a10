"""Secret parameters never leave the action: redact them in records, scrub them from text."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "redact_arguments", "scrub", "scrub_data", "secret_values"]

REDACTED = "[REDACTED]"


def redact_arguments(arguments: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """A copy of ``arguments`` with every secret parameter's value replaced by ``[REDACTED]``."""
    if not secret:
        return dict(arguments)
    return {k: (REDACTED if k in secret else v) for k, v in arguments.items()}


def secret_values(arguments: Mapping[str, Any], secret: Collection[str]) -> tuple[str, ...]:
    """The text forms of the secret arguments' values (what :func:`scrub` removes).

    Each value is taken as is and in its JSON-escaped form (a secret with a quote or a
    backslash appears escaped inside JSON text). Values under 3 characters are skipped:
    scrubbing one or two characters would mangle unrelated text.
    """
    found: set[str] = set()
    for key in secret:
        value = arguments.get(key)
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        for form in (text, json.dumps(text, ensure_ascii=False)[1:-1]):
            if len(form) >= 3:
                found.add(form)
    return tuple(sorted(found, key=len, reverse=True))


def scrub_data(data: Any, values: Collection[str]) -> Any:
    """JSON data with secret values removed: strings scrubbed, numbers equal to one replaced."""
    if isinstance(data, str):
        return scrub(data, values)
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, (int, float)):
        return REDACTED if str(data) in values else data
    if isinstance(data, list):
        return [scrub_data(item, values) for item in data]
    if isinstance(data, dict):
        return {scrub(str(k), values): scrub_data(v, values) for k, v in data.items()}
    return data


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``[REDACTED]``."""
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text
