"""The governance package's public names."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "openai_trigger_bot.governance",
    "openai_trigger_bot.governance.decision",
    "openai_trigger_bot.governance.enforcement",
    "openai_trigger_bot.governance.errors",
    "openai_trigger_bot.governance.evaluator",
    "openai_trigger_bot.governance.shadow",
    "openai_trigger_bot.governance.rules",
    "openai_trigger_bot.governance.rules.cel",
    "openai_trigger_bot.governance.rules.engine",
    "openai_trigger_bot.governance.rules.history",
    "openai_trigger_bot.governance.rules.loader",
    "openai_trigger_bot.governance.rules.matcher",
    "openai_trigger_bot.governance.rules.model",
    "openai_trigger_bot.governance.rules.testing",
]


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then CamelCase, then everything else."""
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=isort_style)
    assert len(set(exported)) == len(exported)
    for symbol in exported:
        assert getattr(module, symbol, None) is not None, f"{name}.{symbol}"
