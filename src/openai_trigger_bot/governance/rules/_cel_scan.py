"""Finding the comprehensions of a CEL condition: nesting, literal sizes, and a step counter.

Why this is hand-written: the ``cel`` package (``common-expression-language`` 0.10) compiles
and runs an expression but exposes no syntax tree and has no cost limit, evaluation holds the
GIL (a thread cannot bound it) and cannot be interrupted. Its ``map()`` and ``filter()`` copy
their partial result on every iteration, so they cost time quadratic in the list's length.
Comprehensions (``all``, ``exists``, ``exists_one``/``existsOne``, ``map``, ``filter``) are
CEL's only loops, so bounding them bounds evaluation. This module scans an expression that
``cel`` already compiled (so it is valid CEL), finds every comprehension with the tokens around
it, and rewrites each one's per-iteration argument ``E`` (the predicate or transform) into::

    (_budget_step(ID) ? (E) : _over_budget)

``_budget_step`` is a function the evaluator supplies (see :mod:`.budget`): it counts the
iteration and answers ``false`` once the budget is spent, and the undefined ``_over_budget``
then stops the evaluation with an error before ``E`` runs. Two checks in
:func:`~.cel.compile_condition` refuse a condition rather than run it uncounted: every string
literal the scan found must be one literal to CEL too (only a disagreement about literals could
hide a comprehension from the scan), and the rewrite must compile and reference the same
variables and functions as the original, plus the counter.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "MACROS",
    "OVER_BUDGET",
    "STEP_FUNCTION",
    "Comprehension",
    "Scan",
    "scan",
]

MACROS: Final = frozenset({"all", "exists", "exists_one", "existsOne", "map", "filter"})
"""The comprehension macros of CEL (the only loops the language has)."""

COPYING: Final = frozenset({"map", "filter"})
"""Macros whose iteration ``i`` copies a partial result of up to ``i`` elements."""

STEP_FUNCTION: Final = "_budget_step"
OVER_BUDGET: Final = "_over_budget"

_RAW = r"""(?:[bB]?[rR]|[rR][bB])(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')"""
_COOKED = (
    r"""[bB]?(?:\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'''(?:\\[\s\S]|[^\\])*?'''"""
    r"""|"(?:\\.|[^"\\\n\r])*"|'(?:\\.|[^'\\\n\r])*')"""
)
_TOKEN = re.compile(
    rf"(?P<space>\s+)|(?P<comment>//[^\n]*)|(?P<string>{_RAW}|{_COOKED})"
    r"|(?P<ident>`[^`]*`|[_A-Za-z][_A-Za-z0-9]*)"
    r"|(?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?[uU]?)"
    r"|(?P<punct>\S)"
)
_VALUE_END: Final = frozenset({"ident", "number", "string"})
_CLOSE: Final = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Comprehension:
    """One comprehension macro call in a condition.

    Attributes:
        id: Its index, in source order (the argument ``_budget_step`` receives).
        macro: ``all``, ``exists``, ``exists_one``, ``existsOne``, ``map`` or ``filter``.
        line: The 1-based line of the macro name inside the expression.
        parent: The comprehension whose per-iteration arguments contain this one (``None``
            at the top level).
        depth: 1 at the top level, 2 inside one other comprehension, ...
        literal_size: The element count when the range is a list or map literal, else
            ``None`` (known only at run time).
        children: The ids of the comprehensions directly inside this one's arguments.
        variable: The name it binds (its first argument).
    """

    id: int
    macro: str
    line: int
    parent: int | None
    depth: int
    literal_size: int | None
    children: tuple[int, ...] = ()
    variable: str = ""

    @property
    def copying(self) -> bool:
        """Whether iteration ``i`` also copies a partial result of ``i`` elements."""
        return self.macro in COPYING


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` found.

    Attributes:
        comprehensions: Every comprehension, in source order.
        instrumented: The source with a step counter in every comprehension (the source
            itself when there is none).
        literals: The text of every string and bytes literal, in source order. The scan is
            right only if the tokens agree with CEL's: :func:`~.cel.compile_condition` checks
            that each of these is one literal to CEL too.
        stray_quote: A quote that starts no literal was found (the scan cannot be trusted).
    """

    comprehensions: tuple[Comprehension, ...]
    instrumented: str
    literals: tuple[str, ...] = ()
    stray_quote: bool = False


@dataclass
class _Frame:
    token: int
    macro: int | None = None
    depth: int = 0
    args: list[tuple[int, int]] = field(default_factory=list)
    arg_start: int = 0
    items: int = 0
    pending: bool = False  # a token since the last comma


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    line = 1
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "punct"
        text = match.group()
        if kind not in ("space", "comment"):
            tokens.append(_Token(kind, text, match.start(), match.end(), line))
        line += text.count("\n")
    return tokens


def _literal_size(tokens: list[_Token], dot: int, frames: dict[int, _Frame]) -> int | None:
    """The element count of a list or map literal right before ``tokens[dot]``, if any."""
    if dot == 0 or tokens[dot - 1].text not in ("]", "}"):
        return None
    opened = frames.get(dot - 1)
    if opened is None:
        return None
    before = tokens[opened.token - 1] if opened.token > 0 else None
    if before is not None and (before.kind in _VALUE_END or before.text in (")", "]", "}")):
        return None  # an index `a[0]` or a message `T{...}`, not a literal
    return opened.items


def _next_ident(tokens: list[_Token], index: int) -> str:
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return following.text if following is not None and following.kind == "ident" else ""


def scan(source: str) -> Scan:
    """Find the comprehensions of a valid CEL expression and instrument them.

    Args:
        source: An expression ``cel.compile`` accepted.

    Returns:
        The comprehensions (with nesting and literal range sizes) and the instrumented source.
    """
    tokens = _tokens(source)
    found: list[Comprehension] = []
    children: list[list[int]] = []
    step_args: dict[int, tuple[int, int]] = {}
    stack: list[_Frame] = []
    closed: dict[int, _Frame] = {}  # closing token index -> its frame
    for index, token in enumerate(tokens):
        if stack and token.text not in (",", ")", "]", "}"):
            stack[-1].pending = True
        if token.text in ("(", "[", "{"):
            frame = _Frame(index, arg_start=token.end)
            is_macro = (
                token.text == "("
                and index >= 2
                and tokens[index - 1].kind == "ident"
                and tokens[index - 1].text in MACROS
                and tokens[index - 2].text == "."
            )
            if is_macro:
                parent = next((f for f in reversed(stack) if f.macro is not None), None)
                frame.macro = len(found)
                frame.depth = parent.depth + 1 if parent else 1
                found.append(
                    Comprehension(
                        id=frame.macro,
                        macro=tokens[index - 1].text,
                        line=tokens[index - 1].line,
                        parent=parent.macro if parent else None,
                        depth=frame.depth,
                        literal_size=_literal_size(tokens, index - 2, closed),
                        variable=_next_ident(tokens, index),
                    )
                )
                children.append([])
                if parent is not None and parent.macro is not None:
                    children[parent.macro].append(frame.macro)
            stack.append(frame)
        elif token.text == "," and stack:
            frame = stack[-1]
            frame.args.append((frame.arg_start, token.start))
            frame.arg_start = token.end
            frame.items += 1
            frame.pending = False
        elif token.text in _CLOSE and stack:
            frame = stack.pop()
            frame.args.append((frame.arg_start, token.start))
            frame.items += 1 if frame.pending else 0
            closed[index] = frame
            if frame.macro is not None and len(frame.args) >= 2:
                step_args[frame.macro] = frame.args[1]
    loops = tuple(dataclasses.replace(item, children=tuple(children[item.id])) for item in found)
    return Scan(
        loops,
        _instrument(source, step_args),
        literals=tuple(t.text for t in tokens if t.kind == "string"),
        stray_quote=any(t.kind == "punct" and t.text in "\"'`" for t in tokens),
    )


def _instrument(source: str, step_args: dict[int, tuple[int, int]]) -> str:
    """Wrap each comprehension's per-iteration argument in a step check."""
    inserts: list[tuple[int, int, str]] = []  # (position, order, text)
    for loop, (start, end) in step_args.items():
        inserts.append((start, 1, f" ({STEP_FUNCTION}({loop}) ? ("))
        inserts.append((end, 0, f") : {OVER_BUDGET})"))
    out = []
    last = 0
    # At one position, closings come before openings (an argument ends where the next starts).
    for position, _, text in sorted(inserts, key=lambda entry: (entry[0], entry[1])):
        out.append(source[last:position])
        out.append(text)
        last = position
    out.append(source[last:])
    return "".join(out)
