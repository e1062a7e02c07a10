"""The OpenAI API's documented limits, each with its source.

Sources (cited by key in the comments below):

* ``[SO]`` OpenAI API docs, Structured Outputs guide, "Supported schemas" (strict mode, used by
  strict function tools too): https://platform.openai.com/docs/guides/structured-outputs
* ``[FN]`` OpenAI API reference, function tools (``name``: "a-z, A-Z, 0-9, or contain
  underscores and dashes, with a maximum length of 64"); the API's own error text is
  "Invalid 'tools[0].name': string does not match pattern. Expected a string that matches the
  pattern '^[a-zA-Z0-9_-]+$'".
* ``[EMB]`` The openai SDK 3.57, ``types/embedding_create_params.py`` (from the API's OpenAPI
  spec): "must not exceed the max input tokens for the model (8192 tokens for all embedding
  models), cannot be an empty string, and any array must be 2048 dimensions or less ... a
  maximum of 300,000 tokens summed across all inputs in a single request".
* ``[ERR]`` The API's error texts quoted in public threads, collected in the project's
  ``shared/NOTES.md`` ("Limits the real Responses API enforces", checked 2026-12-02):
  "Invalid 'prompt_cache_key': string too long. Expected a string with maximum length 64";
  ``max_output_tokens`` below 16 is ``integer_below_min_value``.
"""

from __future__ import annotations

import re

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
    "token_bound",
]

#: A function tool's name [FN].
TOOL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")

#: ``prompt_cache_key`` length in characters [ERR].
PROMPT_CACHE_KEY_MAX_CHARS = 64
#: The smallest ``max_output_tokens`` the Responses API accepts [ERR].
MAX_OUTPUT_TOKENS_MIN = 16

#: Levels of nesting in a strict schema: "up to 10 levels of nesting" [SO].
SCHEMA_MAX_DEPTH = 10
#: "A schema may have up to 5000 object properties total" [SO].
SCHEMA_MAX_PROPERTIES = 5000
#: "A schema may have up to 1000 enum values across all enum properties" [SO].
SCHEMA_MAX_ENUM_VALUES = 1000
#: "the total string length of all property names, definition names, enum values, and const
#: values cannot exceed 120,000 characters" [SO].
SCHEMA_MAX_STRING_CHARS = 120_000
#: "For a single enum property with string values, the total string length of all enum values
#: cannot exceed 15,000 characters when there are more than 250 enum values" [SO].
SCHEMA_LARGE_ENUM_VALUES = 250
SCHEMA_LARGE_ENUM_MAX_CHARS = 15_000
#: The ``format`` values strict mode supports for strings [SO].
SUPPORTED_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

#: Inputs in one embeddings request ("any array must be 2048 dimensions or less") [EMB].
EMBEDDING_MAX_INPUTS = 2048
#: Tokens in one embeddings input [EMB].
EMBEDDING_MAX_TOKENS_PER_INPUT = 8192
#: Tokens summed across the inputs of one embeddings request [EMB].
EMBEDDING_MAX_TOKENS_PER_REQUEST = 300_000


def token_bound(text: str) -> int:
    """An upper bound of the tokens ``text`` costs: its UTF-8 length in bytes.

    Every token of OpenAI's byte-level BPE tokenizers covers at least one byte, so this never
    undercounts (tiktoken would be exact, but downloads its encodings at run time).
    """
    return len(text.encode("utf-8", "surrogatepass"))
