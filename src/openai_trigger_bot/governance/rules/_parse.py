"""Reading one policy file's node tree into a :class:`~.model.Policy` (see ``loader``)."""

from __future__ import annotations

import re
from typing import Any, Final

from yaml.nodes import MappingNode, Node, ScalarNode

from ..decision import MODES, RECOMMENDATIONS, Decision
from ..enforcement import restrictiveness
from ._parse_tests import TestReader
from ._yaml import Fields, line_of
from .cel import CelCondition, ConditionError, compile_condition
from .model import Policy, PolicyTest, Rule

__all__ = ["RISK_LEVELS", "PolicyReader", "parse_window"]

RISK_LEVELS: Final = ("low", "medium", "high", "critical")

_POLICY_KEYS: Final = ("policy", "version", "description", "default", "rules", "tests")
_RULE_KEYS: Final = (
    "id",
    "description",
    "actions",
    "system",
    "environment",
    "risk",
    "tags",
    "trigger",
    "when",
    "history",
    "decision",
)
_DECISION_KEYS: Final = ("recommendation", "mode", "risk", "reason", "better_action")
_HISTORY_KEYS: Final = ("window", "per_target")
_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_GLOB_CHARS: Final = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")
_WINDOW: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_window(value: object) -> float | None:
    """Seconds in a window such as ``30s``, ``15m``, ``1h``, ``7d``, ``2w`` or a number.

    Returns ``None`` when the value is not a positive window.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    match = _WINDOW.match(str(value))
    if match is None:
        return None
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    return seconds if seconds > 0 else None


def _glob_problem(pattern: str) -> str | None:
    if not _GLOB_CHARS.match(pattern):
        return (
            f"action pattern {pattern!r} has characters action names cannot have: "
            "use letters, digits, '_', '-' and the glob characters * ? [ ]"
        )
    depth = 0
    for char in pattern:
        if char == "[":
            if depth:
                return f"action pattern {pattern!r} nests '[': close the first set with ']'"
            depth = 1
        elif char == "]":
            if not depth:
                return f"action pattern {pattern!r} has ']' without '['"
            depth = 0
    if depth:
        return f"action pattern {pattern!r} has '[' without a closing ']'"
    if "[]" in pattern or "[!]" in pattern:
        return f"action pattern {pattern!r} has an empty set '[]'"
    return None


def _declared_id(node: Node) -> str | None:
    """The ``id:`` a rule entry declares, if it is a valid id, whatever else is wrong with it."""
    if not isinstance(node, MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
            text = str(value.value)
            return text if value.tag == "tag:yaml.org,2002:str" and _ID.match(text) else None
    return None


class PolicyReader(TestReader):
    """Reads one policy file's node tree.

    Besides the policy, it records the ids the file declares (``policy_id`` and ``rule_ids``,
    each valid id with its line) even when the file is broken, so that ids used twice across
    files are reported together with every other problem.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.policy_id: str | None = None
        self.rule_ids: list[tuple[str, int]] = []

    def decision(
        self, node: Node, what: str, *, policy: tuple[str, str], rule_id: str | None, reason: str
    ) -> Decision | None:
        """A ``decision:`` (or ``default:``): a recommendation, or a mapping of fields."""
        if isinstance(node, ScalarNode):
            recommendation = self.string(node, f"{what}", choices=RECOMMENDATIONS)
            fields: dict[str, Any] = {"recommendation": recommendation}
        else:
            entries = self.fields(node, what, allowed=_DECISION_KEYS, required=["recommendation"])
            if entries is None:
                return None
            fields = {}
            for key, (_, value) in entries.items():
                label = f"{what}.{key}"
                if key == "recommendation":
                    fields[key] = self.string(value, label, choices=RECOMMENDATIONS)
                elif key == "mode":
                    fields[key] = self.string(value, label, choices=MODES)
                elif key == "risk":
                    fields[key] = self.number(value, label, low=0.0, high=1.0)
                else:
                    fields[key] = self.text(value, label)
            if any(value is None for value in fields.values()):
                return None
        if fields.get("recommendation") is None:
            return None
        fields.setdefault("reason", reason)
        return Decision(
            **fields,
            confidence=1.0,
            policy_id=policy[0],
            policy_version=policy[1],
            matched_rules=(rule_id,) if rule_id else (),
        )

    def rule(self, node: Node, policy: tuple[str, str], index: int) -> Rule | None:
        """One entry of ``rules:``."""
        what = f"rules[{index}]"
        entries = self.fields(node, f"rule {what}", allowed=_RULE_KEYS, required=["id", "decision"])
        if entries is None or "id" not in entries:
            return None
        rule_id = self.string(entries["id"][1], f"{what}.id")
        if rule_id is not None and not _ID.match(rule_id):
            self.problem(entries["id"][1], f"rule id {rule_id!r}: use letters, digits, _ . : -")
            rule_id = None
        if rule_id is None:
            return None
        what = f"rule {rule_id!r}"
        ok = True
        values: dict[str, Any] = {}
        description = ""
        if "description" in entries:
            description = self.text(entries["description"][1], f"{what}: description") or ""
        actions: tuple[str, ...] | None = ("*",)
        if "actions" in entries:
            actions = self.strings(entries["actions"][1], f"{what}: actions")
            for pattern in actions or ():
                problem = _glob_problem(pattern)
                if problem:
                    self.problem(entries["actions"][1], f"{what}: {problem}")
                    actions = None
        ok &= actions is not None
        for key, field, choices in (
            ("system", "systems", ()),
            ("environment", "environments", ()),
            ("risk", "risks", RISK_LEVELS),
            ("tags", "tags", ()),
            ("trigger", "triggers", ()),
        ):
            if key in entries:
                found = self.strings(entries[key][1], f"{what}: {key}", choices=choices)
                ok &= found is not None
                values[field] = frozenset(found or ())
        condition = None
        if "when" in entries:
            condition = self.condition(entries["when"][1], what)
            ok &= condition is not None
        history = self.history(entries, condition, what)
        ok &= history is not None
        decision = None
        if "decision" in entries:
            decision = self.decision(
                entries["decision"][1],
                f"{what}: decision",
                policy=policy,
                rule_id=rule_id,
                reason=description or f"rule {rule_id} matched",
            )
        if not ok or decision is None or actions is None or history is None:
            return None
        window, per_target = history
        return Rule(
            id=rule_id,
            policy_id=policy[0],
            policy_version=policy[1],
            path=self.path,
            line=line_of(node),
            actions=actions,
            decision=decision,
            level=restrictiveness(decision),
            description=description,
            condition=condition,
            window=window,
            per_target=per_target,
            **values,
        )

    def condition(self, node: Node, what: str) -> CelCondition | None:
        """The compiled ``when:`` condition; CEL errors point at the expression's line."""
        source = self.string(node, f"{what}: when")
        if source is None:
            return None
        try:
            return compile_condition(source)
        except ConditionError as exc:
            first = line_of(node) + (1 if getattr(node, "style", None) in ("|", ">") else 0)
            last = source.rstrip("\n").count("\n")  # an error "at <EOF>" is past the end
            self.problem(first + min(exc.line - 1, last), f"{what}: {exc}")
            return None

    def history(
        self, entries: Fields, condition: CelCondition | None, what: str
    ) -> tuple[float | None, bool] | None:
        """The rule's history window and per-target flag; ``None`` after a problem."""
        uses = condition is not None and "history" in condition.variables
        if "history" not in entries:
            if uses:
                self.problem(
                    entries["when"][1],
                    f"{what}: `when:` uses `history`; say over which window with "
                    "`history: {window: 1h}` (s, m, h, d or w)",
                )
                return None
            return None, False
        key_node, node = entries["history"]
        fields = self.fields(node, f"{what}: history", allowed=_HISTORY_KEYS, required=["window"])
        if fields is None or "window" not in fields:
            return None
        window = parse_window(self.data(fields["window"][1]))
        if window is None:
            self.problem(
                fields["window"][1],
                f"{what}: history window must be a duration such as 30s, 15m, 1h, 7d",
            )
            return None
        per_target = False
        if "per_target" in fields:
            flag = self.boolean(fields["per_target"][1], f"{what}: history.per_target")
            if flag is None:
                return None
            per_target = flag
        compiled_or_absent = condition is not None or "when" not in entries
        if compiled_or_absent and not uses:
            self.problem(
                key_node,
                f"{what}: `history:` is set but no `when:` condition uses `history`; "
                "remove it or use `history.<status>` in `when:`",
            )
            return None
        return window, per_target

    def policy(self, root: Node | None) -> Policy | None:
        """The whole file."""
        if root is None:
            self.problem(1, "the file is empty: start with `policy:`, `version:` and `default:`")
            return None
        entries = self.fields(
            root, "the policy file", allowed=_POLICY_KEYS, required=["policy", "version", "default"]
        )
        if entries is None:
            return None
        # Everything present is read even when a required key is missing or broken, so that
        # one pass reports every problem (duplicate ids included).
        policy_id = None
        if "policy" in entries:
            policy_id = self.string(entries["policy"][1], "policy")
            if policy_id is not None and not _ID.match(policy_id):
                self.problem(
                    entries["policy"][1], f"policy id {policy_id!r}: use letters, digits, _ . : -"
                )
                policy_id = None
        self.policy_id = policy_id
        version = self.text(entries["version"][1], "version") if "version" in entries else None
        description = ""
        if "description" in entries:
            description = self.text(entries["description"][1], "description") or ""
        ident = (policy_id or "?", version or "?")
        default = None
        if "default" in entries:
            default = self.decision(
                entries["default"][1],
                "default",
                policy=ident,
                rule_id=None,
                reason=f"no rule of policy {policy_id} matched this action",
            )
        rules: list[Rule] = []
        first: dict[str, int] = {}
        if "rules" in entries:
            for index, item in enumerate(self.sequence(entries["rules"][1], "rules") or ()):
                rule = self.rule(item, ident, index)
                declared = _declared_id(item)
                if declared is not None:
                    line = first.setdefault(declared, line_of(item))
                    if line != line_of(item):  # also when either rule has other problems
                        self.problem(item, f"duplicate rule id {declared!r} (first at line {line})")
                        continue
                    self.rule_ids.append((declared, line))
                if rule is not None:
                    rules.append(rule)
        tests: list[PolicyTest] = []
        if "tests" in entries:
            for index, item in enumerate(self.sequence(entries["tests"][1], "tests") or ()):
                test = self.test(item, index, set(first))
                if test is not None:
                    tests.append(test)
        if policy_id is None or version is None or default is None:
            return None
        return Policy(
            id=policy_id,
            version=version,
            path=self.path,
            default=default,
            rules=tuple(rules),
            tests=tuple(tests),
            description=description,
        )
