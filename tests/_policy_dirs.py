"""Policy directories for the tests of which entries are read: an allow file and a deny file.

``allow.yaml`` lets ``drop_database`` proceed; ``deny.yaml`` refuses it. A loader that skips
the deny file (an unreadable entry, a suffix it did not match) lets the call run, so each test
builds this pair, breaks the deny side and checks that ``drop_database`` never runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ALLOW = """
policy: allow
version: "1"
default: {recommendation: proceed}
rules:
  - id: allow-drop
    actions: [drop_database]
    decision: proceed
"""

DENY = """
policy: deny
version: "1"
default: {recommendation: proceed}
rules:
  - id: deny-drop
    actions: [drop_database]
    decision: {recommendation: do_not_proceed, reason: never drop a database}
"""

ALLOW_WITH_TEST = (
    ALLOW
    + """tests:
  - name: drop proceeds
    proposal: {action: drop_database}
    expect: {outcome: execute}
"""
)
"""``ALLOW`` with a policy test, for ``trigger-bot policy test``."""

DENY_WITH_TEST = (
    DENY
    + """tests:
  - name: dropping is refused
    proposal: {action: drop_database, args: {name: prod}}
    expect: {outcome: block}
"""
)
"""``DENY`` with a policy test, for ``run_policy_tests`` and ``trigger-bot policy test``."""


def policy_dir(tmp_path: Path, allow: str = ALLOW) -> tuple[Path, Path, Path]:
    """``policies/allow.yaml`` and ``policies/deny.yaml -> ../targets/deny.yaml``.

    Args:
        tmp_path: The test's directory; ``policies/`` and ``targets/`` are made in it.
        allow: The text of ``allow.yaml``.

    Returns:
        The policy directory, the ``deny.yaml`` symlink in it and the file it points to
        (unlink the target to leave the symlink dangling, as a ConfigMap swap does).
    """
    folder = tmp_path / "policies"
    targets = tmp_path / "targets"
    folder.mkdir()
    targets.mkdir()
    (folder / "allow.yaml").write_text(allow)
    target = targets / "deny.yaml"
    target.write_text(DENY)
    link = folder / "deny.yaml"
    link.symlink_to(target)
    return folder, link, target


dropped: list[str] = []
"""The names ``drop_database`` dropped during the last :func:`run_drop`."""


@action
def drop_database(name: str) -> str:
    """Drop a database.

    Args:
        name: The database.
    """
    dropped.append(name)
    return "dropped"


def run_drop(folder: Path) -> Any:
    """Run a bot whose model calls ``drop_database(name="prod")`` under the policies in ``folder``.

    Clears :data:`dropped` first, so afterwards it says whether the call ran.

    Args:
        folder: The policy directory the bot loads.

    Returns:
        The run's result.
    """
    dropped.clear()
    scripted = ScriptedResponses(
        [[function_call("drop_database", {"name": "prod"})], [message("done")]]
    )
    bot = Bot(name="ops", client=scripted.client(), settings=BotSettings(), policy=folder)
    bot.register_actions(drop_database)

    @bot.trigger("t", prompt="p", default_action=drop_database)
    def t() -> dict[str, str]:
        return {}

    return bot.run(t())
