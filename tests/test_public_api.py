"""The public API is explicit, sorted and importable."""

from __future__ import annotations

import openai_trigger_bot
from openai_trigger_bot import testing


def test_all_is_sorted_and_complete() -> None:
    names = openai_trigger_bot.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(openai_trigger_bot, name), name


def test_testing_module_exports() -> None:
    assert testing.__all__ == sorted(testing.__all__)
    assert {"ScriptedResponses", "function_call", "message"} <= set(testing.__all__)


def test_py_typed_marker_ships() -> None:
    from importlib.resources import files

    assert files("openai_trigger_bot").joinpath("py.typed").is_file()
