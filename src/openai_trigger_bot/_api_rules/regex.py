"""What the API accepts in a strict schema's ``pattern``.

Two refusals are known from the API's own error texts (quoted in public threads):

* "Invalid JSON schema: regex lookaround is not supported. Found at $.properties.to.items.pattern"
  (github.com/tombii/better-ccflare/issues/357, github.com/pleaseai/shunt/pull/558): strict
  mode compiles patterns into its grammar without look-ahead or look-behind;
* "Invalid schema for function 'Artifact': '...' is not a 'regex'" (github.com/pleaseai/shunt/
  pull/488, github.com/BerriAI/litellm/pull/40485): every ``pattern`` must also compile with
  Python's ``re`` (so ``\\p{L}`` and other escapes Python lacks are refused).
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

__all__ = ["has_lookaround", "pattern_problem"]

_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


def has_lookaround(pattern: str) -> bool:
    """Whether ``pattern`` has a look-ahead or look-behind group.

    Escaped characters and the contents of character classes are skipped, so ``\\(?=`` and
    ``[(?=]`` are literal text, not groups.
    """
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a literal member, not the end of the class.
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):
                i += 1
            continue
        elif char == "(" and pattern.startswith(_LOOKAROUND, i):
            return True
        i += 1
    return False


@lru_cache(maxsize=512)
def pattern_problem(pattern: str) -> str | None:
    """Why the API would refuse ``pattern`` in a strict schema, or ``None`` if it would not.

    Returns:
        The API's reason, in its own words where known.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. FutureWarning "Possible nested set"
            re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return f"{pattern!r} is not a 'regex'"
    if has_lookaround(pattern):
        return "regex lookaround is not supported"
    return None
