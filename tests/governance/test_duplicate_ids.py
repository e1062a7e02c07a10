"""Duplicate rule and policy ids are reported even when the files have other errors."""

from __future__ import annotations

from pathlib import Path

from openai_trigger_bot.governance.rules import check_policies, read_policies

BROKEN_RULE_THEN_DUPLICATE = """
policy: a
version: "1"
default: {recommendation: proceed}
rules:
  - id: x
    when: 'args.n >'
    decision: proceed
  - id: x
    decision: proceed
"""

BROKEN_DEFAULT = """
policy: b
version: "1"
default: {recommendation: bogus}
rules:
  - id: shared
    when: 'value > 1'
    decision: proceed
"""

GOOD = """
policy: b
version: "1"
default: {recommendation: proceed}
rules:
  - id: shared
    decision: proceed
"""


def messages(sources: list[tuple[str, str]]) -> list[str]:
    return [str(problem) for problem in read_policies(sources)[1]]


def test_a_duplicate_of_a_broken_rule_is_reported_with_its_error() -> None:
    found = messages([("a.yaml", BROKEN_RULE_THEN_DUPLICATE)])
    assert any(m.startswith("a.yaml:7: rule 'x': `when:` is not valid CEL") for m in found)
    assert "a.yaml:9: duplicate rule id 'x' (first at line 6)" in found
    assert len(found) == 2


def test_ids_of_a_broken_file_still_clash_with_other_files() -> None:
    found = messages([("b1.yaml", BROKEN_DEFAULT), ("b2.yaml", GOOD)])
    assert any(m.startswith("b1.yaml:4: default.recommendation is 'bogus'") for m in found)
    assert any(
        m.startswith("b2.yaml:6: rule id 'shared' is already used at b1.yaml:6") for m in found
    )
    assert any(m.startswith("b2.yaml:1: policy id 'b' is also used by b1.yaml") for m in found)
    assert len(found) == 3


def test_the_broken_file_may_come_second() -> None:
    found = messages([("b2.yaml", GOOD), ("b1.yaml", BROKEN_DEFAULT)])
    assert any(
        m.startswith("b1.yaml:6: rule id 'shared' is already used at b2.yaml:6") for m in found
    )
    assert any(m.startswith("b1.yaml:1: policy id 'b' is also used by b2.yaml") for m in found)


def test_check_lists_every_problem_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "b1.yaml").write_text(BROKEN_DEFAULT)
    (tmp_path / "b2.yaml").write_text(GOOD)
    (tmp_path / "c.yaml").write_text(BROKEN_RULE_THEN_DUPLICATE.replace("policy: a", "policy: c"))
    found = [f"{Path(p.path).name}:{p.line}: {p.message}" for p in check_policies(tmp_path)]
    assert len(found) == 5
    assert sum("duplicate rule id 'x'" in m for m in found) == 1
    assert sum("rule id 'shared' is already used" in m for m in found) == 1


def test_a_rule_without_a_valid_id_is_not_a_duplicate() -> None:
    text = """
policy: a
version: "1"
default: {recommendation: proceed}
rules:
  - id: "bad id"
    decision: proceed
  - id: "bad id"
    decision: proceed
"""
    found = messages([("a.yaml", text)])
    assert len(found) == 2 and all("use letters, digits" in m for m in found)
