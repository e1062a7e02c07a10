"""The real OpenAI API's rules for what we send it, in one place.

Used by the library where it builds requests (``@action`` checks its tool at decoration,
settings check their values) and by the scripted API in :mod:`openai_trigger_bot.testing`,
which refuses what the real API would refuse, so the two cannot drift apart. Every rule cites
its source in a comment (see :mod:`.limits`, :mod:`.regex` and :mod:`.schema`).
"""

from __future__ import annotations

from typing import Any

from .limits import (
    EMBEDDING_MAX_INPUTS,
    EMBEDDING_MAX_TOKENS_PER_INPUT,
    EMBEDDING_MAX_TOKENS_PER_REQUEST,
    MAX_OUTPUT_TOKENS_MIN,
    PROMPT_CACHE_KEY_MAX_CHARS,
    SCHEMA_LARGE_ENUM_MAX_CHARS,
    SCHEMA_LARGE_ENUM_VALUES,
    SCHEMA_MAX_DEPTH,
    SCHEMA_MAX_ENUM_VALUES,
    SCHEMA_MAX_PROPERTIES,
    SCHEMA_MAX_STRING_CHARS,
    SUPPORTED_FORMATS,
    TOOL_NAME_PATTERN,
    token_bound,
)
from .regex import has_lookaround, pattern_problem
from .schema import SchemaProblem, schema_problems

__all__ = [
    "EMBEDDING_MAX_INPUTS",
    "EMBEDDING_MAX_TOKENS_PER_INPUT",
    "EMBEDDING_MAX_TOKENS_PER_REQUEST",
    "MAX_OUTPUT_TOKENS_MIN",
    "PROMPT_CACHE_KEY_MAX_CHARS",
    "SCHEMA_LARGE_ENUM_MAX_CHARS",
    "SCHEMA_LARGE_ENUM_VALUES",
    "SCHEMA_MAX_DEPTH",
    "SCHEMA_MAX_ENUM_VALUES",
    "SCHEMA_MAX_PROPERTIES",
    "SCHEMA_MAX_STRING_CHARS",
    "SUPPORTED_FORMATS",
    "TOOL_NAME_PATTERN",
    "SchemaProblem",
    "has_lookaround",
    "pattern_problem",
    "schema_problems",
    "token_bound",
    "tool_name_problem",
]


def tool_name_problem(name: Any) -> str | None:
    """Why the API would refuse ``name`` as a function tool's name, or ``None`` [FN]."""
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.fullmatch(name):
        return (
            f"{name!r} does not match the pattern '^[a-zA-Z0-9_-]{{1,64}}$' (1-64 letters, "
            "digits, '_' or '-')"
        )
    return None
