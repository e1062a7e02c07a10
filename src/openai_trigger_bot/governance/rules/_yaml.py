"""Reading YAML nodes with their line numbers, collecting problems instead of stopping.

The loader composes a file into a node tree (``yaml.compose``) and reads it through a
:class:`NodeReader`, so that every problem can name the exact line and say what to fix.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Collection, Iterable
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import PolicyProblem

__all__ = ["Fields", "NodeReader", "compose"]

Fields = dict[str, tuple[Node, Node]]
"""A mapping's entries: key -> (key node, value node)."""


def line_of(node: Node) -> int:
    """The 1-based line where a node starts."""
    return int(node.start_mark.line) + 1


def compose(text: str, path: str) -> tuple[Node | None, PolicyProblem | None]:
    """Parse YAML text into a node tree, or the problem that stops it."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "unreadable YAML"
        if exc.context and exc.problem and exc.context_mark is not None:
            what += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        return None, PolicyProblem(path, line, f"invalid YAML: {what}")
    except yaml.YAMLError as exc:
        return None, PolicyProblem(path, None, f"invalid YAML: {exc}")


class NodeReader:
    """Typed access to YAML nodes that records a problem (file, line, fix) for each mistake.

    Readers return ``None`` after recording a problem, so the caller carries on and reports
    every mistake in one go.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[PolicyProblem] = []

    def problem(self, where: Node | int | None, message: str) -> None:
        """Record a problem at a node (its line) or a line number."""
        line = line_of(where) if isinstance(where, Node) else where
        self.problems.append(PolicyProblem(self.path, line, message))

    def fields(
        self,
        node: Node,
        what: str,
        *,
        allowed: Collection[str],
        required: Iterable[str] = (),
    ) -> Fields | None:
        """A mapping's entries, checking for unknown, duplicate and missing keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of `key: value` lines")
            return None
        result: Fields = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str) or key_node.tag != "tag:yaml.org,2002:str":
                self.problem(key_node, f"{what} keys must be plain names")
                continue
            if key in result:
                self.problem(key_node, f"duplicate key {key!r} in {what}: keep only one")
                continue
            if key not in allowed:
                hint = difflib.get_close_matches(key, list(allowed), n=1)
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                self.problem(
                    key_node,
                    f"unknown key {key!r} in {what}: {suggestion}"
                    f"(allowed: {', '.join(sorted(allowed))})",
                )
                continue
            result[key] = (key_node, value_node)
        for key in required:
            if key not in result:
                self.problem(node, f"{what} is missing the required key {key!r}")
        return result

    def data(self, node: Node) -> Any:
        """Plain Python data for a node (any shape), or ``None`` after a problem."""
        try:
            return SafeConstructor().construct_object(node, deep=True)
        except ConstructorError as exc:
            self.problem(node, f"cannot read this value: {exc.problem}")
            return None

    def text(self, node: Node, what: str) -> str | None:
        """A non-empty string (numbers and dates are accepted and turned into text)."""
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.problem(node, f"{what} must be a string")
            return None
        value = self.data(node)
        if isinstance(value, bool) or value is None:
            self.problem(node, f"{what} must be a string, not {node.value!r}")
            return None
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        text = str(value).strip()
        if not text:
            self.problem(node, f"{what} must not be empty")
            return None
        return text

    def string(self, node: Node, what: str, *, choices: Collection[str] = ()) -> str | None:
        """A string scalar (quoted or not), optionally one of ``choices``."""
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            kind = "a string" if not choices else f"one of: {', '.join(choices)}"
            self.problem(node, f"{what} must be {kind}")
            return None
        value = str(node.value)
        if choices and value not in choices:
            hint = difflib.get_close_matches(value, list(choices), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problem(
                node,
                f"{what} is {value!r}{suggestion}; use one of: {', '.join(choices)}",
            )
            return None
        if not value.strip():
            self.problem(node, f"{what} must not be empty")
            return None
        return value

    def strings(
        self, node: Node, what: str, *, choices: Collection[str] = ()
    ) -> tuple[str, ...] | None:
        """One string or a list of strings (each optionally one of ``choices``)."""
        if not isinstance(node, (SequenceNode, ScalarNode)):
            self.problem(node, f"{what} must be a string or a list of strings")
            return None
        items = node.value if isinstance(node, SequenceNode) else [node]
        if isinstance(node, SequenceNode) and not items:
            self.problem(node, f"{what} must list at least one value")
            return None
        values = [self.string(item, f"each entry of {what}", choices=choices) for item in items]
        if any(value is None for value in values):
            return None
        return tuple(value for value in values if value is not None)

    def number(self, node: Node, what: str, *, low: float, high: float) -> float | None:
        """A number within ``[low, high]``."""
        value = self.data(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(node, f"{what} must be a number from {low:g} to {high:g}")
            return None
        if not low <= value <= high:
            self.problem(node, f"{what} is {value:g}; it must be from {low:g} to {high:g}")
            return None
        return float(value)

    def boolean(self, node: Node, what: str) -> bool | None:
        """``true`` or ``false``."""
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.problem(node, f"{what} must be true or false")
            return None
        return bool(self.data(node))

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        """The items of a list."""
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list (lines starting with `- `)")
            return None
        return list(node.value)
