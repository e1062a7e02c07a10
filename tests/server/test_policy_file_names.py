"""``serve`` reads the same entries as the loader: ``deny.YAML`` counts, on start and on reload.

The watcher lists the directory itself (its fingerprint); had it kept matching lower-case
suffixes only, adding or editing ``deny.YAML`` would never trigger a reload. The reload is
triggered by calling the holder (what the watcher calls), so nothing here waits on a timer.
"""

from __future__ import annotations

from pathlib import Path

from openai_trigger_bot.governance import ActionMetadata, ProposedAction
from openai_trigger_bot.server import PolicyHolder
from openai_trigger_bot.server.policies import directory_fingerprint

from .._policy_dirs import ALLOW, DENY

DROP = ProposedAction(
    action="drop_database",
    arguments={"name": "prod"},
    metadata=ActionMetadata(),
    run_id="r",
    call_id="c",
)


def recommendation(holder: PolicyHolder) -> str:
    evaluator = holder.state.evaluator
    assert evaluator is not None
    return evaluator.evaluate(DROP).recommendation


def test_an_upper_case_policy_file_is_served_from_the_start(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    (tmp_path / "deny.YAML").write_text(DENY)
    holder = PolicyHolder(tmp_path)
    holder.refresh()
    assert holder.state.ready and recommendation(holder) == "do_not_proceed"


def test_adding_and_editing_an_upper_case_file_reloads(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    holder = PolicyHolder(tmp_path)
    holder.refresh()
    assert recommendation(holder) == "proceed"
    deny = tmp_path / "deny.Yml"
    deny.write_text(DENY)
    assert holder.refresh() is True
    assert recommendation(holder) == "do_not_proceed"
    fingerprint = directory_fingerprint(tmp_path)
    assert isinstance(fingerprint, tuple)
    assert [entry[0] for entry in fingerprint] == ["allow.yaml", "deny.Yml"]
    deny.write_text(DENY.replace("do_not_proceed", "review_recommended") + "\n# edited\n")
    assert holder.refresh() is True
    assert recommendation(holder) == "review_recommended"
    deny.unlink()
    assert holder.refresh() is True
    assert recommendation(holder) == "proceed"


def test_an_unreadable_upper_case_entry_on_reload_keeps_the_last_good_set(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text(ALLOW)
    (tmp_path / "deny.YAML").write_text(DENY)
    holder = PolicyHolder(tmp_path)
    holder.refresh()
    good = holder.state.evaluator
    (tmp_path / "deny.YAML").unlink()
    (tmp_path / "deny.YAML").symlink_to(tmp_path / "gone.yaml")
    assert holder.refresh() is True
    assert holder.state.evaluator is good
    assert [Path(p.path).name for p in holder.state.problems] == ["deny.YAML"]
