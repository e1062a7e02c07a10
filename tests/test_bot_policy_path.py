"""``Bot(policy=PATH)`` on a path that is not a policy directory says what to do about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_trigger_bot import Bot
from openai_trigger_bot.exceptions import PolicyError
from openai_trigger_bot.governance import LocalRulesEvaluator, PolicyLoadError
from openai_trigger_bot.testing import ScriptedResponses


def _bot(policy: Path | str) -> Bot:
    return Bot(name="b", client=ScriptedResponses([]).client(), policy=policy)


@pytest.mark.parametrize("load", [_bot, LocalRulesEvaluator.from_directory])
def test_a_missing_policy_directory_says_how_to_create_it(
    load: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyLoadError) as caught:
        load("policies")  # type: ignore[operator]
    assert isinstance(caught.value, PolicyError)
    assert str(caught.value) == (
        "policies: the policy directory does not exist; create it with "
        "`trigger-bot policy init policies` or pass another path"
    )
    assert caught.value.path == "policies" and caught.value.line is None
    assert not (tmp_path / "policies").exists()  # nothing created behind the user's back


def test_a_policy_file_in_place_of_the_directory_says_to_pass_the_directory(
    tmp_path: Path,
) -> None:
    file = tmp_path / "access.yaml"
    file.write_text("policy: p\n")
    with pytest.raises(PolicyLoadError) as caught:
        _bot(file)
    assert str(caught.value) == (
        f"{file}: is a file, not a directory; pass the directory that holds the policy files "
        "(LocalRulesEvaluator.from_files loads chosen files)"
    )


def test_the_init_command_quotes_a_path_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "my policies"
    with pytest.raises(PolicyLoadError) as caught:
        _bot(folder)
    assert f"`trigger-bot policy init '{folder}'`" in str(caught.value)
