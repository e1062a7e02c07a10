"""Docstring parsing for action schemas (Google, NumPy and reST styles).

A thin layer over :mod:`docstring_parser`: it picks the style automatically and returns the
two things a tool schema needs, the function description and one description per parameter.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import docstring_parser

__all__ = ["ParsedDocstring", "parse_docstring"]


@dataclass(frozen=True)
class ParsedDocstring:
    """What a tool schema takes from a docstring.

    Attributes:
        description: The summary, plus the long description (after a blank line) if present.
        params: Parameter name to description, for parameters that are documented.
    """

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Parse a docstring written in Google, NumPy or reST style.

    The style is detected by :mod:`docstring_parser`. A docstring it cannot parse is used
    verbatim (cleaned of indentation) as the description, with no parameter descriptions.

    Args:
        doc: The raw docstring, or ``None``.

    Returns:
        The description and the per-parameter descriptions.
    """
    if not doc or not doc.strip():
        return ParsedDocstring()
    try:
        parsed = docstring_parser.parse(doc, style=docstring_parser.DocstringStyle.AUTO)
    except docstring_parser.ParseError:
        return ParsedDocstring(description=inspect.cleandoc(doc))
    parts = [
        text.strip()
        for text in (parsed.short_description, parsed.long_description)
        if text and text.strip()
    ]
    params: dict[str, str] = {}
    for param in parsed.params:
        text = (param.description or "").strip()
        if text:
            params[param.arg_name] = text
    return ParsedDocstring(description="\n\n".join(parts), params=params)
