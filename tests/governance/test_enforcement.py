"""Decision → outcome: every recommendation × mode × enforcement mode, and unknown values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_trigger_bot.governance import (
    ENFORCEMENT_MODES,
    MODES,
    RECOMMENDATIONS,
    Decision,
    outcome_for,
    outcome_for_failure,
    restrictiveness,
)
from openai_trigger_bot.governance.enforcement import outcome_for_level

LEVEL = {
    ("proceed", "autonomous"): 0,
    ("proceed_with_caution", "autonomous"): 1,
    ("review_recommended", "autonomous"): 2,
    ("do_not_proceed", "autonomous"): 3,
    ("proceed", "review"): 2,
    ("proceed_with_caution", "review"): 2,
    ("review_recommended", "review"): 2,
    ("do_not_proceed", "review"): 3,
    ("proceed", "needs_context"): 2,
    ("proceed_with_caution", "needs_context"): 2,
    ("review_recommended", "needs_context"): 2,
    ("do_not_proceed", "needs_context"): 3,
    ("proceed", "blocked"): 3,
    ("proceed_with_caution", "blocked"): 3,
    ("review_recommended", "blocked"): 3,
    ("do_not_proceed", "blocked"): 3,
}

# Rows: level 0..3; columns: shadow, advisory, enforced, review.
TABLE = {
    0: ("execute", "execute", "execute", "execute"),
    1: ("execute", "execute", "execute", "approval_required"),
    2: ("execute", "execute", "approval_required", "approval_required"),
    3: ("execute", "block", "block", "block"),
}
COLUMNS = ("shadow", "advisory", "enforced", "review")

# Mode needs_context: as review, except that the model is asked instead of a person.
NEEDS_CONTEXT = {
    "proceed": ("execute", "execute", "needs_context", "needs_context"),
    "proceed_with_caution": ("execute", "execute", "needs_context", "needs_context"),
    "review_recommended": ("execute", "execute", "needs_context", "needs_context"),
    "do_not_proceed": ("execute", "block", "block", "block"),
}


def _expected(recommendation: str, mode: str, column: int) -> str:
    if mode == "needs_context":
        return NEEDS_CONTEXT[recommendation][column]
    return TABLE[LEVEL[recommendation, mode]][column]


CASES = [
    (recommendation, mode, enforcement, _expected(recommendation, mode, column))
    for (recommendation, mode) in LEVEL
    for column, enforcement in enumerate(COLUMNS)
]


def test_the_tables_cover_every_known_value() -> None:
    assert set(LEVEL) == {(r, m) for r in RECOMMENDATIONS for m in MODES}
    assert set(NEEDS_CONTEXT) == set(RECOMMENDATIONS)
    assert set(COLUMNS) == set(ENFORCEMENT_MODES)
    assert len(CASES) == 64


@pytest.mark.parametrize(("recommendation", "mode", "enforcement", "expected"), CASES)
def test_outcome_for_every_combination(
    recommendation: str, mode: str, enforcement: str, expected: str
) -> None:
    decision = Decision(recommendation=recommendation, mode=mode)
    assert restrictiveness(decision) == LEVEL[recommendation, mode]
    assert outcome_for(decision, enforcement) == expected


@pytest.mark.parametrize("enforcement", ["advisory", "review", "enforced"])
@pytest.mark.parametrize(
    ("recommendation", "mode"),
    [
        ("proceed_quickly", "autonomous"),
        ("proceed", "yolo"),
        ("", ""),
        ("PROCEED", "autonomous"),
        ("proceed", "Autonomous"),
    ],
)
def test_unknown_recommendation_or_mode_blocks(
    recommendation: str, mode: str, enforcement: str
) -> None:
    decision = Decision.from_wire({"recommendation": recommendation, "mode": mode})
    assert restrictiveness(decision) == 3
    assert outcome_for(decision, enforcement) == "block"


def test_shadow_never_enforces_even_unknown_values() -> None:
    decision = Decision.from_wire({"recommendation": "??", "mode": "??"})
    assert outcome_for(decision, "shadow") == "execute"


@pytest.mark.parametrize("enforcement", ["", "strict", "ENFORCED", "off"])
def test_unknown_enforcement_mode_blocks_even_a_proceed(enforcement: str) -> None:
    assert outcome_for(Decision(recommendation="proceed"), enforcement) == "block"


def test_enforced_is_the_default_enforcement() -> None:
    assert outcome_for(Decision(recommendation="review_recommended")) == "approval_required"


@pytest.mark.parametrize("level", [-1, 4, 99])
def test_levels_out_of_range_block(level: int) -> None:
    assert outcome_for_level(level, "enforced") == "block"


@settings(deadline=None)  # no test depends on the machine's speed
@given(
    recommendation=st.text(max_size=20).filter(lambda s: s not in RECOMMENDATIONS),
    mode=st.sampled_from([*MODES, "weird"]),
    enforcement=st.sampled_from(["advisory", "review", "enforced"]),
)
def test_no_unknown_recommendation_ever_executes(
    recommendation: str, mode: str, enforcement: str
) -> None:
    decision = Decision.from_wire({"recommendation": recommendation, "mode": mode})
    assert outcome_for(decision, enforcement) == "block"


@pytest.mark.parametrize(
    ("fail_mode", "enforcement", "expected"),
    [
        ("closed", "enforced", "block"),
        ("open", "enforced", "execute"),
        ("closed", "advisory", "block"),
        ("open", "review", "execute"),
        ("closed", "shadow", "execute"),
        ("open", "shadow", "execute"),
        ("sideways", "enforced", "block"),
        ("open", "unknown-enforcement", "block"),
    ],
)
def test_outcome_for_failure(fail_mode: str, enforcement: str, expected: str) -> None:
    assert outcome_for_failure(fail_mode, enforcement) == expected


def test_fail_mode_closed_is_the_default() -> None:
    assert outcome_for_failure() == "block"


@pytest.mark.parametrize("recommendation", ["proceed", "review_recommended"])
def test_needs_context_never_asks_a_person(recommendation: str) -> None:
    """Where a review would ask a person, a needs_context decision asks the model instead."""
    decision = Decision(recommendation=recommendation, mode="needs_context")
    for enforcement in ("enforced", "review"):
        assert outcome_for(decision, enforcement) == "needs_context"
    for enforcement in ("advisory", "shadow"):
        assert outcome_for(decision, enforcement) == "execute"
