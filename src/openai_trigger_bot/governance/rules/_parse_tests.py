"""Reading the ``tests:`` entries of a policy file (a mixin of the policy reader)."""

from __future__ import annotations

import datetime
from typing import Any, Final

from pydantic import ValidationError
from yaml.nodes import Node

from ..decision import ENFORCEMENT_MODES, MODES, OUTCOMES, RECOMMENDATIONS
from ..decision import ProposedAction as _Proposal
from ._yaml import NodeReader, line_of
from .model import Expectation, PolicyTest

__all__ = ["TestReader"]

_TEST_KEYS: Final = ("name", "proposal", "expect", "history", "now")
_PROPOSAL_KEYS: Final = (
    "action",
    "args",
    "metadata",
    "trigger",
    "value",
    "target",
    "extra",
    "bot",
    "actor",
    "domain",
)
_METADATA_KEYS: Final = ("system", "risk", "environment", "tags")
_EXPECT_KEYS: Final = ("outcome", "enforcement", "recommendation", "mode", "rules", "error")


class TestReader(NodeReader):
    """Reads policy tests: a proposal, optional history counts and time, and expectations."""

    __test__ = False  # not a pytest test class

    def test(self, node: Node, index: int, rule_ids: set[str]) -> PolicyTest | None:
        """One entry of ``tests:``."""
        what = f"tests[{index}]"
        entries = self.fields(
            node, what, allowed=_TEST_KEYS, required=["name", "proposal", "expect"]
        )
        if entries is None or not {"name", "proposal", "expect"} <= entries.keys():
            return None
        name = self.text(entries["name"][1], f"{what}.name")
        what = f"test {name!r}" if name else what
        proposal = self.proposal(entries["proposal"][1], what)
        expect = self.expectation(entries["expect"][1], what, rule_ids)
        history: dict[str, int] = {}
        if "history" in entries:
            counts = self.data(entries["history"][1])
            if not isinstance(counts, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in counts.items()
            ):
                self.problem(
                    entries["history"][1],
                    f"{what}: history must map statuses to counts, e.g. {{executed: 3}}",
                )
                return None
            history = counts
        now = None
        if "now" in entries:
            now = self.timestamp(entries["now"][1], f"{what}: now")
            if now is None:
                return None
        if name is None or proposal is None or expect is None:
            return None
        return PolicyTest(
            name=name,
            path=self.path,
            line=line_of(node),
            proposal=proposal,
            expect=expect,
            history=history,
            now=now,
        )

    def proposal(self, node: Node, what: str) -> _Proposal | None:
        """A test's ``proposal:`` (``args`` are the arguments)."""
        entries = self.fields(
            node, f"{what}: proposal", allowed=_PROPOSAL_KEYS, required=["action"]
        )
        if entries is None or "action" not in entries:
            return None
        data: dict[str, Any] = {}
        for key, (_, value) in entries.items():
            if (
                key == "metadata"
                and self.fields(value, f"{what}: proposal.metadata", allowed=_METADATA_KEYS) is None
            ):
                return None
            data["arguments" if key == "args" else key] = self.data(value)
        try:
            return _Proposal.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "proposal"
            where = where.replace("arguments", "args", 1)
            self.problem(node, f"{what}: proposal.{where}: {error['msg']}")
            return None

    def expectation(self, node: Node, what: str, rule_ids: set[str]) -> Expectation | None:
        """A test's ``expect:``."""
        entries = self.fields(node, f"{what}: expect", allowed=_EXPECT_KEYS)
        if entries is None:
            return None
        checks = {"outcome", "recommendation", "mode", "rules", "error"}
        if not checks & entries.keys():
            self.problem(node, f"{what}: expect needs at least one of: {', '.join(sorted(checks))}")
            return None
        values: dict[str, Any] = {}
        choices = {
            "outcome": OUTCOMES,
            "enforcement": ENFORCEMENT_MODES,
            "recommendation": RECOMMENDATIONS,
            "mode": MODES,
        }
        ok = True
        for key, (_, value) in entries.items():
            label = f"{what}: expect.{key}"
            if key == "rules":
                found: Any = () if self.data(value) == [] else self.strings(value, label)
                for rule_id in found or ():
                    if rule_id not in rule_ids:
                        self.problem(value, f"{label}: no rule {rule_id!r} in this file")
                        found = None
            elif key == "error":
                found = self.text(value, label)
            else:
                found = self.string(value, label, choices=choices[key])
            ok &= found is not None
            values[key] = found
        return Expectation(**values) if ok else None

    def timestamp(self, node: Node, what: str) -> float | None:
        """Epoch seconds from an ISO 8601 timestamp (UTC unless stated) or a number."""
        value = self.data(node)
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                value = None
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            return value.timestamp()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        self.problem(node, f"{what} must be a timestamp such as 2026-11-24T09:30:00Z")
        return None
